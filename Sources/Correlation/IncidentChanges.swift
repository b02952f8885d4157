import ForewarnModel
import Foundation

/// Changing incidents: open, re-root, merge, attach faults and lines, resolve.
extension Correlator {
    // MARK: incident changes

    mutating func openIncident(_ group: GroupKey, root: IncidentRoot, since: Double, now: Instant,
                               register: Bool = true) -> IncidentID {
        let id = incidentIDs.next()
        let planned = coveredByMaintenance(root.subject, at: since)
        let nowDate = date(now)
        let header = Incident(id: id, root: root, group: group.text(in: topology),
                              severity: .warning, planned: planned, proactive: true,
                              classification: planned ? .planned : .network,
                              startedAt: Date(timeIntervalSince1970: min(since, nowDate.timeIntervalSince1970)),
                              detectedAt: nowDate, updatedAt: nowDate)
        open[id] = OpenIncident(header: header, key: group)
        if !planned { holdAnnouncement(id) }
        if register { openByKey[group] = id }
        byAnchor[group.anchor(in: topology), default: []].insert(id)
        emitter.touch(id, .open, created: true)
        note(id, "opened", "root \(root)" + (planned ? " (planned: in a maintenance window)" : ""), now: now)
        return id
    }

    mutating func reroot(_ id: IncidentID, to group: GroupKey, root: IncidentRoot, since: Double, now: Instant) {
        guard var incident = open[id] else { return }
        if openByKey[incident.key] == id { openByKey.removeValue(forKey: incident.key) }
        byAnchor[incident.key.anchor(in: topology)]?.remove(id)
        let previous = incident.header.root
        incident.key = group
        incident.header.root = root
        incident.header.group = group.text(in: topology)
        incident.header.startedAt = min(incident.header.startedAt, Date(timeIntervalSince1970: since))
        incident.rootCleared = false
        open[id] = incident
        openByKey[group] = id
        byAnchor[group.anchor(in: topology), default: []].insert(id)
        emitter.touch(id, .reroot)
        note(id, "rerooted", "root \(previous) → \(root): the cause was learned after its symptoms", now: now,
             significant: true)
    }

    /// Moves everything of `other` into `survivor`; `other` ends as merged.
    mutating func merge(_ other: IncidentID, into survivor: IncidentID, now: Instant) {
        // Both taken out of the table while they change: a copy left in it would make the first
        // insertion copy every line of the survivor, at each of thousands of merges.
        guard other != survivor, open[survivor] != nil, var absorbed = open.removeValue(forKey: other) else { return }
        var target = open.removeValue(forKey: survivor)!
        for line in absorbed.openLines {
            lineIncident[Int(line)] = survivor.rawValue
            target.openLines.insert(line)
            if faults[.line(line)] != nil { faults[.line(line)]?.incident = survivor }
        }
        for key in absorbed.faults {
            faults[key]?.incident = survivor
            target.faults.insert(key)
        }
        target.customers.formUnion(absorbed.customers)
        target.services.formUnion(absorbed.services)
        target.holds.formUnion(absorbed.holds)
        target.hitLines.formUnion(absorbed.hitLines)
        target.header.startedAt = min(target.header.startedAt, absorbed.header.startedAt)
        target.header.detectedAt = min(target.header.detectedAt, absorbed.header.detectedAt)
        if let call = absorbed.header.firstCallAt {
            target.header.firstCallAt = min(target.header.firstCallAt ?? call, call)
        }
        target.header.proactive = Self.proactive(target.header)
        target.header.flapping = target.header.flapping || absorbed.header.flapping
        open[survivor] = target
        updateSeverity(survivor)

        if openByKey[absorbed.key] == other { openByKey.removeValue(forKey: absorbed.key) }
        byAnchor[absorbed.key.anchor(in: topology)]?.remove(other)
        let nowDate = date(now)
        absorbed.header.state = .resolved
        absorbed.header.resolvedAt = nowDate
        absorbed.header.mergedInto = survivor
        absorbed.header.updatedAt = nowDate
        remember(absorbed.header)
        emitter.touch(other, .absorbed, absorbedInto: survivor)
        emitter.timeline(other, TimelineEntry(at: nowDate, kind: "merged",
                                              detail: "merged into \(survivor) (root \(target.header.root)): one root"))
        emitter.touch(survivor, .merge)
        // Confirmations the absorbed incident waited for now decide the survivor's scope.
        for (key, until) in absorbed.awaiting.sorted(by: { $0.value < $1.value }) {
            awaitedBy[key]?.remove(other)
            awaitAnswer(key, for: survivor, until: until)
        }
        note(survivor, "merged", "\(other) (root \(absorbed.header.root)) merged in: they share this root", now: now,
             significant: true)
    }

    mutating func attach(_ key: FaultKey, to id: IncidentID, now: Instant) {
        // The incident is changed in place in `open` (no copy of it is held while its sets
        // change: that would copy them, every line of a large incident, at each change).
        guard open[id] != nil, var fault = faults[key] else { return }
        fault.incident = id
        faults[key] = fault
        let subject = topology.subject(of: key)
        switch key {
        case .element(let element):
            open[id]!.faults.insert(key)
            emitter.fault(id, record(key, fault))
            emitter.touch(id, .grow)
            note(id, "fault", "\(subject) unreachable since \(Self.format(fault.since)): \(fault.detail)", now: now)
            expandScope(id, from: element, start: fault.since, now: now)
        case .port(let port):
            open[id]!.faults.insert(key)
            let newPort = open[id]!.ports.insert(port.port).inserted
            if open[id]!.portWindow == nil { open[id]!.portWindow = fault.since }
            emitter.fault(id, record(key, fault))
            emitter.touch(id, .grow)
            note(id, "fault", "\(subject) \(fault.health.rawValue) since \(Self.format(fault.since)): \(fault.detail)",
                 now: now)
            for line in topology.linesByPort[port] ?? [] {
                addLine(line, to: id, start: fault.since, ifUnseenSince: fault.since)
            }
            if case .ports(let element) = open[id]!.key, newPort, open[id]!.ports.count == 2 {
                let root = IncidentRoot(subject: .element(topology.elementIDs[Int(element)]), kind: .lineCard)
                let previous = open[id]!.header.root
                open[id]!.header.root = root
                emitter.touch(id, .reroot)
                note(id, "rerooted", "root \(previous) → \(root): several ports of one element failed together",
                     now: now, significant: true)
            }
        case .line(let line):
            open[id]!.holds.remove(line)
            if lineIncident[Int(line)] == 0 {
                addLine(line, to: id, start: fault.since, ifUnseenSince: nil)
                emitter.touch(id, .grow)
                note(id, "fault", "line \(topology.lineIDs[Int(line)]) \(fault.health.rawValue) since "
                     + "\(Self.format(fault.since)): \(fault.detail)", now: now)
            } else if lineIncident[Int(line)] == id.rawValue, fault.since < lineStart[Int(line)] {
                startEarlier(line, at: fault.since, in: id, now: now)
            }
        }
        updateSeverity(id)
    }

    /// Adds the lines of everything this element cuts off, and merges what that explains. An
    /// element below cut off through another root as well (every uplink now down) goes to the
    /// incident of its own root, the first in inventory order.
    /// Lines probed at once, per element cut off, to confirm they really are.
    static var lineConfirmationLimit: Int { 2_000 }

    mutating func expandScope(_ id: IncidentID, from element: Int32, start: Double, now: Instant) {
        guard open[id] != nil else { return }
        var added: [IncidentID: Int] = [:]
        var confirmationsAsked = 0
        let confirmUntil = seconds(now) + settings.confirmationWait.inSeconds
        for (below, root) in cutDescendants(element) {
            // The target's key and start, not a copy of it: merges and new lines change it in place.
            guard let target = openByKey[rootGroup(root)], let (targetKey, startedAt) = open[target].map({
                ($0.key, $0.header.startedAt.timeIntervalSince1970)
            }) else { continue }
            // Lines of an element failing with others behind one upstream were cut off when the
            // upstream stopped forwarding: from the incident's first evidence.
            var lineStartAt = start
            if case .forwarding = targetKey { lineStartAt = min(start, startedAt) }
            for other in (byAnchor[below] ?? []).sorted() where other != target {
                guard let candidateKey = open[other]?.key else { continue }
                if currentGroup(of: candidateKey) == targetKey { merge(other, into: target, now: now) }
            }
            for other in peerPortIncidents(facing: below, group: targetKey) where other != target {
                merge(other, into: target, now: now)
            }
            for line in topology.linesByElement[Int(below)] where lineIncident[Int(line)] == 0 {
                if addLine(line, to: target, start: min(lineStartAt, ownEvidence(line)), ifUnseenSince: start) {
                    added[target, default: 0] += 1
                    // Ask the line itself: one whose probe still answers was never cut off (an
                    // element whose SNMP agent died but still forwards). Bounded, so a core's
                    // failure does not turn into a flood; the rest follow their own rounds.
                    if confirmationsAsked < Self.lineConfirmationLimit {
                        confirmationsAsked += 1
                        request(.probeLine(topology.lineIDs[Int(line)]), now: now)
                        awaitAnswer(.line(line), for: target, until: confirmUntil)
                    }
                }
            }
        }
        for (target, count) in added.sorted(by: { $0.key < $1.key }) {
            emitter.touch(target, .grow)
            updateSeverity(target)
            note(target, "scope", "\(count) line\(count == 1 ? "" : "s") cut off by \(topology.elementIDs[Int(element)])",
                 now: now)
        }
    }

    /// This element and those below it that are cut off, with their roots, parents first.
    mutating func cutDescendants(_ start: Int32) -> [(element: Int32, root: Int32)] {
        let topology = self.topology
        return topology.walkDown(from: start) { cutRoot($0) }.map { ($0.element, $0.value) }
    }

    /// The line's own first lost round, if its probe has called it down (+∞ otherwise).
    func ownEvidence(_ line: Int32) -> Double {
        guard let fault = faults[.line(line)], fault.health == .down, !fault.flapping else { return .infinity }
        return fault.since
    }

    /// The line's own probe dates its outage before the evidence it was put in scope on: the
    /// interval starts there (credits are paid from it). The store keys intervals by line and
    /// start, so the old one is ended where it started (dropped) and the earlier one opened.
    mutating func startEarlier(_ line: Int32, at start: Double, in id: IncidentID, now: Instant) {
        let old = lineStart[Int(line)]
        // Never back into an interval the line already spent in an incident (this one or an
        // earlier one): an outage is paid once.
        let start = max(start, lineLastEnd[Int(line)])
        guard start < old, open[id] != nil else { return }
        emitter.line(id, index: line, topology.interval(line, start: old, end: old))
        lineStart[Int(line)] = start
        emitter.line(id, index: line, topology.interval(line, start: start))
        if start < open[id]!.header.startedAt.timeIntervalSince1970 {
            open[id]!.header.startedAt = Date(timeIntervalSince1970: start)
        }
    }

    /// Starts an interval for a line not in any incident. With `ifUnseenSince`, a line that
    /// answered after that time (its own probe says up) is left out.
    @discardableResult
    mutating func addLine(_ line: Int32, to id: IncidentID, start: Double, ifUnseenSince: Double?) -> Bool {
        guard lineIncident[Int(line)] == 0 else { return false }
        if let time = ifUnseenSince, lineUpSince[Int(line)] > time { return false }
        lineIncident[Int(line)] = id.rawValue
        lineStart[Int(line)] = start
        open[id]!.openLines.insert(line)
        open[id]!.customers.insert(topology.lineCustomer[Int(line)])
        open[id]!.services.insert(topology.lineService[Int(line)])
        emitter.line(id, index: line, topology.interval(line, start: start))
        return true
    }

    mutating func updateSeverity(_ id: IncidentID) {
        guard let incident = open[id] else { return }
        let severity = Severity.of(customers: incident.customers.count, services: incident.services)
        guard severity != incident.header.severity else { return }
        open[id]!.header.severity = severity
        emitter.significant(id)
    }

    static func proactive(_ header: Incident) -> Bool {
        guard let call = header.firstCallAt else { return true }
        return header.detectedAt < call
    }

    // MARK: resolution

    mutating func resolve(_ id: IncidentID, at: Double, reason: String, now: Instant) {
        guard var incident = open.removeValue(forKey: id) else { return }
        var withoutOutage = false
        for line in incident.openLines.sorted() {
            let start = lineStart[Int(line)]
            emitter.line(id, index: line, topology.interval(line, start: start, end: max(at, start)))
            lineIncident[Int(line)] = 0
            lineLastIncident[Int(line)] = id.rawValue
            lineLastStart[Int(line)] = start
            lineLastEnd[Int(line)] = max(at, start)
            if at > start { incident.hitLines.insert(line) } else { withoutOutage = true }
        }
        if withoutOutage {
            // Lines that end where they started are dropped from the scope: count what remains.
            let hit = incident.hitLines
            incident.header.severity = Severity.of(customers: Set(hit.map { topology.lineCustomer[Int($0)] }).count,
                                                   services: Set(hit.map { topology.lineService[Int($0)] }))
        }
        for key in incident.awaiting.keys { awaitedBy[key]?.remove(id) }
        if openByKey[incident.key] == id { openByKey.removeValue(forKey: incident.key) }
        byAnchor[incident.key.anchor(in: topology)]?.remove(id)
        let nowDate = date(now)
        incident.header.state = .resolved
        incident.header.resolvedAt = Date(timeIntervalSince1970: max(at, incident.header.startedAt.timeIntervalSince1970))
        incident.header.updatedAt = nowDate
        remember(incident.header)
        emitter.touch(id, .resolve)
        emitter.timeline(id, TimelineEntry(at: nowDate, kind: "resolved", detail: reason))
    }

    mutating func remember(_ header: Incident) {
        if recent.updateValue(header, forKey: header.id) == nil { recentOrder.append(header.id) }
        // Forget the oldest in chunks, not one by one (each removal from the front moves the rest).
        if recentOrder.count > Self.recentLimit + Self.recentLimit / 4 {
            let drop = recentOrder.count - Self.recentLimit
            for old in recentOrder.prefix(drop) where !emitter.isTouched(old) { recent.removeValue(forKey: old) }
            recentOrder.removeFirst(drop)
        }
    }

    /// A timeline entry, stamped with the decision time.
    mutating func note(_ id: IncidentID, _ kind: String, _ detail: String, now: Instant, significant: Bool = false) {
        emitter.timeline(id, TimelineEntry(at: date(now), kind: kind, detail: detail))
        if significant { emitter.significant(id) }
    }
}
