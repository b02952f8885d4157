import ForewarnModel
import Foundation

/// Continuing after a restart: the open incidents come back from the store with their faults
/// and open line intervals; what changed meanwhile arrives as ordinary observations.
extension Correlator {
    /// Rebuilds the state from the store's open incidents. Returns the actions recovery
    /// itself decides: confirmation requests for every restored fault (is it still down?), and
    /// the resolution of incidents whose root is no longer in the configuration.
    public mutating func recover(_ snapshots: [IncidentSnapshot], recentlyResolved: [Incident] = [],
                                 now: Instant) -> [CorrelatorAction] {
        for header in recentlyResolved.sorted(by: { $0.id < $1.id }) {
            incidentIDs.seen(header.id)
            remember(header)
        }
        let nowSeconds = seconds(now)
        for snapshot in snapshots.sorted(by: { $0.incident.id < $1.incident.id }) {
            let id = snapshot.incident.id
            incidentIDs.seen(id)
            if snapshot.incident.isManual {
                var lines: [LineID: (customer: CustomerID, start: Double)] = [:]
                for interval in snapshot.lines where interval.end == nil {
                    lines[interval.line] = (interval.customer, interval.start.timeIntervalSince1970)
                }
                manual[id] = ManualOpenIncident(header: snapshot.incident, lines: lines)
                continue
            }
            guard let key = GroupKey(text: snapshot.incident.group, in: topology) else {
                open[id] = OpenIncident(header: snapshot.incident, key: .line(-1))
                note(id, "configuration", "its root \(snapshot.incident.root) is no longer in the configuration",
                     now: now)
                resolveOrphan(id, snapshot: snapshot, now: now)
                continue
            }
            var incident = OpenIncident(header: snapshot.incident, key: key)
            for record in snapshot.faults where record.clearedAt == nil {
                guard let faultKey = topology.faultKey(of: record.subject) else { continue }
                dueCount += 1
                var fault = Fault(health: record.health, since: record.since.timeIntervalSince1970, detail: "restored",
                                  slot: dueCount, firstSeen: nowSeconds, status: .settled, lastChange: nowSeconds)
                fault.detectedAt = record.detectedAt.timeIntervalSince1970
                fault.incident = id
                fault.flapping = record.flapping
                faults[faultKey] = fault
                if record.flapping { flappingKeys.insert(faultKey) }
                if case .line = faultKey {} else { incident.faults.insert(faultKey) }
                if case .port(let port) = faultKey { incident.ports.insert(port.port) }
            }
            for interval in snapshot.lines where interval.end == nil {
                guard let line = topology.lineIndex[interval.line], lineIncident[Int(line)] == 0 else { continue }
                lineIncident[Int(line)] = id.rawValue
                lineStart[Int(line)] = interval.start.timeIntervalSince1970
                incident.openLines.insert(line)
                incident.customers.insert(topology.lineCustomer[Int(line)])
                incident.services.insert(topology.lineService[Int(line)])
            }
            if snapshot.incident.root.kind == .customerReport {
                incident.holds = incident.openLines.filter { faults[.line($0)] == nil }
            }
            open[id] = incident
            openByKey[key] = id
            byAnchor[key.anchor(in: topology), default: []].insert(id)
        }
        cutCacheValid = false
        for id in open.keys.sorted() {
            guard let incident = open[id] else { continue }
            // Whether its `open` event was written before the restart is not known here: it is
            // announced again once its scope is settled (the outbox keeps one `open` per hook).
            if !incident.header.planned {
                holdAnnouncement(id)
                awaitRootEvidence(id, since: nowSeconds, now: now)
            }
            for key in sortedKeys(incident.faults) {
                switch key {
                case .element(let element): request(.pollElement(topology.elementIDs[Int(element)]), now: now)
                case .port(let port): request(.pollElement(topology.elementIDs[Int(port.element)]), now: now)
                case .line(let line): request(.probeLine(topology.lineIDs[Int(line)]), now: now)
                }
            }
            if case .line(let line) = incident.key { request(.probeLine(topology.lineIDs[Int(line)]), now: now) }
        }
        return flush(now: now)
    }

    /// Faults still in their hold-down, as the observations that raised them: carried over
    /// when the correlator is rebuilt for a new configuration.
    public var heldObservations: [Observation] {
        var result: [Observation] = []
        func add(_ key: FaultKey, _ fault: Fault) {
            guard fault.status == .pending else { return }
            let since = Date(timeIntervalSince1970: fault.since)
            result.append(Observation(subject: topology.subject(of: key), kind: .state(fault.health), since: since,
                                      observedAt: Date(timeIntervalSince1970: fault.firstSeen), source: .poll,
                                      detail: fault.detail))
        }
        for entry in dueQueue[dueHead...] {
            if let fault = faults[entry.key], fault.slot == entry.slot { add(entry.key, fault) }
        }
        return result
    }

    private mutating func resolveOrphan(_ id: IncidentID, snapshot: IncidentSnapshot, now: Instant) {
        let nowDate = date(now)
        var unknown: Int32 = -1  // lines gone from the configuration still need distinct slots
        for interval in snapshot.lines where interval.end == nil {
            var ended = interval
            ended.end = max(nowDate, interval.start)
            let index = topology.lineIndex[interval.line] ?? unknown
            unknown -= 1
            emitter.line(id, index: index, ended)
        }
        guard var incident = open.removeValue(forKey: id) else { return }
        incident.header.state = .resolved
        incident.header.resolvedAt = nowDate
        remember(incident.header)
        emitter.touch(id, .resolve)
        emitter.timeline(id, TimelineEntry(at: nowDate, kind: "resolved",
                                           detail: "closed at restart: its root is no longer in the configuration"))
    }
}
