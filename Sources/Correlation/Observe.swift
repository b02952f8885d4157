import ForewarnModel
import Foundation

/// Observations: faults appear, clear, flap; hold-down and confirmation requests.
extension Correlator {
    mutating func observe(_ observation: Observation, now: Instant) {
        guard let key = topology.faultKey(of: observation.subject) else {
            emitter.other.append(.rejected("observation about unknown \(observation.subject)"))
            return
        }
        var since = observation.since.timeIntervalSince1970
        if case .state(let health) = observation.kind, !firstEvidence.isEmpty {
            since = recordedStart(of: key, health: health, observedSince: since)
        }
        if !awaitedBy.isEmpty { answered(key) }
        switch observation.kind {
        case .rebooted:
            rebooted(key, observation: observation, now: now)
        case .state(.down):
            observeBad(key, health: .down, since: since, detail: observation.detail, now: now)
        case .state(.degraded):
            // An element that answers badly still forwards: it cuts nothing off.
            if case .element = key { return }
            observeBad(key, health: .degraded, since: since, detail: observation.detail, now: now)
        case .state(.up):
            observeGood(key, since: since, detail: observation.detail, now: now)
        case .state(.unknown):
            break
        }
    }

    mutating func observeBad(_ key: FaultKey, health: Health, since: Double, detail: String, now: Instant) {
        let nowSeconds = seconds(now)
        if var fault = faults[key] {
            if fault.flapping && fault.up {
                fault.up = false
                fault.lastChange = nowSeconds
                faults[key] = fault
                return
            }
            if health == .down && fault.health == .degraded {
                fault.health = .down
                faults[key] = fault
                if case .element = key { cutCacheValid = false }
                if fault.status == .settled, let id = fault.incident, open[id] != nil {
                    note(id, "worse", "\(topology.subject(of: key)) now down: \(detail)", now: now)
                    emitter.fault(id, record(key, fault))
                }
            }
            return
        }
        let changes = recordChange(key, at: nowSeconds, create: false)
        dueCount += 1
        let fault = Fault(health: health, since: since, detail: detail, slot: dueCount, firstSeen: nowSeconds,
                          status: .pending, lastChange: nowSeconds)
        faults[key] = fault
        if case .element = key, health == .down { cutCacheValid = false }

        if changes > settings.flapThreshold {
            startFlapping(key, now: now)
            return
        }
        // A symptom of an incident already open joins it at once. Anything else waits for the
        // hold-down, even an element with nothing above it: what fails beside it within the
        // hold-down may change where the lines below go (a dual-homed element goes with the
        // first of its roots), and the outcome must not depend on arrival order.
        let group = groupKey(for: key)
        if existingIncident(for: key, group: group, since: since) != nil {
            settle(key, now: now)
            return
        }
        dueQueue.append((now.advanced(by: settings.holdDown), key, fault.slot))
        requestParents(of: key, firstSeen: nowSeconds, now: now)
        if case .element(let element) = key { requestSiblings(of: element, now: now) }
    }

    mutating func observeGood(_ key: FaultKey, since: Double, detail: String, now: Instant) {
        let nowSeconds = seconds(now)
        if case .line(let line) = key { lineUpSince[Int(line)] = since }
        defer {
            if case .element(let element) = key {
                confirmedUp[element] = nowSeconds
                forwardingCache = [:]
                wake(element, now: now)
            }
        }
        guard var fault = faults[key] else {
            if case .line(let line) = key {
                if lineIncident[Int(line)] == 0 {
                    endEarlier(line, at: since)
                } else {
                    endLine(line, at: since, explicitUp: true, now: now)
                }
            }
            return
        }
        if fault.flapping {
            if !fault.up {
                fault.up = true
                fault.lastChange = nowSeconds
                faults[key] = fault
            }
            return
        }
        let changes = recordChange(key, at: nowSeconds, create: true, previous: fault.lastChange)
        if changes > settings.flapThreshold {
            fault.up = true
            faults[key] = fault
            startFlapping(key, now: now)
            return
        }
        switch fault.status {
        case .pending, .dismissed:
            faults.removeValue(forKey: key)
            if case .element = key { cutCacheValid = false }
        case .settled:
            clear(key, fault, at: since, detail: detail, now: now)
        }
        if case .line(let line) = key {
            if lineIncident[Int(line)] == 0 {
                endEarlier(line, at: since)
            } else {
                endLine(line, at: since, explicitUp: true, now: now)
            }
        }
    }

    /// The line's own first good round, learned after its interval was ended on other evidence
    /// (its element answering, a confirmation probe): the outage ends there, never later.
    mutating func endEarlier(_ line: Int32, at since: Double) {
        let raw = lineLastIncident[Int(line)]
        let start = lineLastStart[Int(line)]
        guard raw != 0, since > start, since < lineLastEnd[Int(line)] else { return }
        let id = IncidentID(raw)
        guard open[id] != nil || recent[id] != nil else { return }
        lineLastEnd[Int(line)] = since
        emitter.line(id, index: line, topology.interval(line, start: start, end: since))
    }

    /// Records a state change; returns how many changes the subject made within the window.
    /// History starts at the first recovery, so a subject that only ever fails costs nothing.
    mutating func recordChange(_ key: FaultKey, at time: Double, create: Bool, previous: Double? = nil) -> Int {
        var history: [Double]
        if let existing = flapHistory[key] {
            history = existing
        } else {
            guard create else { return 1 }
            history = previous.map { [$0] } ?? []
        }
        history.append(time)
        let horizon = time - settings.flapWindow.inSeconds
        if let firstInside = history.firstIndex(where: { $0 > horizon }), firstInside > 0 {
            history.removeFirst(firstInside)
        }
        flapHistory[key] = history
        return history.count
    }

    mutating func startFlapping(_ key: FaultKey, now: Instant) {
        guard var fault = faults[key] else { return }
        fault.flapping = true
        fault.lastChange = seconds(now)
        if let first = flapHistory[key]?.first { fault.since = min(fault.since, first) }
        faults[key] = fault
        flappingKeys.insert(key)
        if fault.status == .pending {
            settle(key, now: now)
        }
        if let id = faults[key]?.incident, var incident = open[id] {
            if !incident.header.flapping {
                incident.header.flapping = true
                open[id] = incident
                note(id, "flapping", "\(topology.subject(of: key)) is flapping: more than \(settings.flapThreshold) "
                     + "changes within \(settings.flapWindow)", now: now, significant: true)
            }
            emitter.fault(id, record(key, faults[key]!))
        }
    }

    /// Forgets the change history of subjects that have not changed within the flap window.
    mutating func pruneFlapHistory(now: Instant) {
        let nowSeconds = seconds(now)
        guard nowSeconds - lastFlapPrune >= settings.flapWindow.inSeconds / 2 else { return }
        lastFlapPrune = nowSeconds
        let horizon = nowSeconds - settings.flapWindow.inSeconds
        flapHistory = flapHistory.filter { key, history in
            flappingKeys.contains(key) || (history.last ?? -.infinity) > horizon
        }
    }

    /// A flapping subject that has stayed in one state for the quiet period stops flapping:
    /// up, its fault clears; down, it stays an ordinary fault.
    mutating func endQuietFlapping(now: Instant) {
        guard !flappingKeys.isEmpty else { return }
        let nowSeconds = seconds(now)
        let quiet = flappingKeys.filter { key in
            guard let fault = faults[key] else { return true }
            return nowSeconds - fault.lastChange >= settings.flapQuiet.inSeconds
        }
        for key in sortedKeys(quiet) {
            flappingKeys.remove(key)
            flapHistory.removeValue(forKey: key)
            guard var fault = faults[key] else { continue }
            fault.flapping = false
            faults[key] = fault
            if let id = fault.incident, open[id] != nil {
                note(id, "flapping-ended", "\(topology.subject(of: key)) stopped flapping, "
                     + (fault.up ? "up" : "down") + " since \(Self.format(fault.lastChange))", now: now)
                let stillFlapping = flappingKeys.contains { faults[$0]?.incident == id }
                if !stillFlapping { open[id]?.header.flapping = false }
            }
            if fault.up {
                if fault.status == .settled {
                    clear(key, fault, at: fault.lastChange, detail: "stable since it stopped flapping", now: now)
                } else {
                    faults.removeValue(forKey: key)
                }
                if case .line(let line) = key { endLine(line, at: fault.lastChange, explicitUp: true, now: now) }
            } else if let id = fault.incident, open[id] != nil {
                emitter.fault(id, record(key, fault))
            }
        }
    }

    // MARK: hold-down and confirmation

    /// The elements whose state decides where a fault belongs.
    func parents(of key: FaultKey) -> [Int32] {
        switch key {
        case .element(let element): return topology.upstreams[Int(element)]
        case .port(let port): return [topology.peerPorts[port] ?? port.element]
        case .line(let line): return [topology.lineElement[Int(line)]]
        }
    }

    mutating func requestParents(of key: FaultKey, firstSeen: Double, now: Instant) {
        for parent in parents(of: key) where cutRoot(parent) == nil {
            // A parent that never answers must not grow its list forever: drop settled entries.
            if let list = waiting[parent], list.count >= 4096, list.count.nonzeroBitCount == 1 {
                waiting[parent] = list.filter { faults[$0]?.status == .pending }
            }
            waiting[parent, default: []].append(key)
            // An element's own failure asks again soon after an earlier request: its parents'
            // answer must postdate it (a forwarding failure, a re-root, hinge on it).
            if case .line = key {
                request(.pollElement(topology.elementIDs[Int(parent)]), now: now)
            } else {
                request(.pollElement(topology.elementIDs[Int(parent)]), now: now, within: Self.elementRequestGap)
            }
        }
    }

    /// Element faults are few: their requests are repeated after this.
    static var elementRequestGap: Duration { .milliseconds(250) }

    /// One request per target per hold-down (or `within`): 200,000 lines behind one element ask once.
    mutating func request(_ confirmation: ConfirmationRequest, now: Instant, within gap: Duration? = nil) {
        if let last = lastRequest[confirmation], last.duration(to: now) < (gap ?? settings.holdDown) { return }
        lastRequest[confirmation] = now
        emitter.other.append(.confirm(confirmation))
    }

    /// A parent answered: faults waiting only on parents now confirmed reachable settle at once.
    mutating func wake(_ element: Int32, now: Instant) {
        guard let keys = waiting.removeValue(forKey: element) else { return }
        let ready = keys.filter { key in
            guard let fault = faults[key], fault.status == .pending else { return false }
            return parents(of: key).allSatisfy { parent in
                (confirmedUp[parent] ?? -.infinity) >= fault.firstSeen && faults[.element(parent)] == nil
            }
        }
        for key in sortedKeys(ready) { settle(key, now: now) }
    }

    mutating func settleDue(now: Instant) {
        var due: [FaultKey] = []
        while dueHead < dueQueue.count, dueQueue[dueHead].deadline <= now {
            let entry = dueQueue[dueHead]
            dueHead += 1
            if let fault = faults[entry.key], fault.status == .pending, fault.slot == entry.slot { due.append(entry.key) }
        }
        if dueHead > 4096 && dueHead * 2 > dueQueue.count {
            dueQueue.removeFirst(dueHead)
            dueHead = 0
        }
        for key in sortedKeys(due) { settle(key, now: now) }
    }

    /// Parents before children, elements before ports before lines, then inventory order: the
    /// order of decisions never depends on the order evidence arrived in.
    func sortedKeys(_ keys: some Collection<FaultKey>) -> [FaultKey] {
        keys.sorted { left, right in
            let leftRank = left.rank(in: topology)
            let rightRank = right.rank(in: topology)
            if leftRank != rightRank { return leftRank < rightRank }
            switch (left, right) {
            case (.element(let a), .element(let b)): return a < b
            case (.line(let a), .line(let b)): return a < b
            case (.port(let a), .port(let b)):
                return a.element != b.element ? a.element < b.element : a.port.description < b.port.description
            default: return false
            }
        }
    }

    // MARK: clearing

    /// A settled fault cleared at `at`: its incident's lines that nothing else holds down end.
    mutating func clear(_ key: FaultKey, _ fault: Fault, at: Double, detail: String, now: Instant) {
        faults.removeValue(forKey: key)
        if case .element = key { cutCacheValid = false }
        // Changed in place in `open`: a copy held here would make every line ended below copy
        // the incident's set of lines (a large incident's restore would take minutes).
        guard let id = fault.incident, open[id] != nil else { return }
        open[id]!.faults.remove(key)
        let subject = topology.subject(of: key)
        var cleared = record(key, fault)
        cleared.clearedAt = Date(timeIntervalSince1970: at)
        cleared.flapping = false
        if case .line = key {} else { emitter.fault(id, cleared) }
        let isRoot = open[id]!.header.root.subject == subject
        if isRoot { open[id]!.rootCleared = true }
        note(id, isRoot ? "root-cleared" : "cleared", "\(subject) up since \(Self.format(at))"
             + (detail.isEmpty ? "" : ": \(detail)"), now: now)
        // Lines this fault held down may sit in other incidents too (a symptom that came back
        // later than its root kept them): look at every line below it.
        var touched: Set<IncidentID> = [id]
        switch key {
        case .element(let element):
            for line in open[id]!.openLines.sorted() { endLine(line, at: at, explicitUp: false, now: now) }
            var asked = 0
            for below in descendants(of: element) {
                for line in topology.linesByElement[Int(below)] where lineIncident[Int(line)] != 0 {
                    touched.insert(IncidentID(lineIncident[Int(line)]))
                    endLine(line, at: at, explicitUp: false, now: now)
                    // Still held down by its own probe's verdict: ask it now rather than wait for
                    // its next rounds, so its outage ends when it really answers again.
                    if lineIncident[Int(line)] != 0, asked < Self.lineConfirmationLimit {
                        asked += 1
                        request(.probeLine(topology.lineIDs[Int(line)]), now: now)
                    }
                }
            }
        case .port(let port):
            for line in topology.linesByPort[port] ?? [] where lineIncident[Int(line)] != 0 {
                touched.insert(IncidentID(lineIncident[Int(line)]))
                endLine(line, at: at, explicitUp: false, now: now)
            }
        case .line:
            break
        }
        for other in touched.sorted() { resolveIfDone(other, at: at, now: now) }
    }

    /// This element and everything below it, parents first.
    func descendants(of start: Int32) -> [Int32] {
        topology.walkDown(from: start) { _ in () }.map(\.element)
    }

    /// Is anything still holding this line down?
    mutating func lineStillDown(_ line: Int32) -> Bool {
        if faults[.line(line)] != nil { return true }
        let element = topology.lineElement[Int(line)]
        if let port = topology.linePort[Int(line)], faults[.port(PortKey(element: element, port: port))] != nil {
            return true
        }
        return cutRoot(element) != nil
    }

    mutating func endLine(_ line: Int32, at: Double, explicitUp: Bool, now: Instant) {
        let raw = lineIncident[Int(line)]
        let id = IncidentID(raw)
        // Read through `open`, no copy of the incident held: its set of lines changes below.
        guard raw != 0, let held = open[id]?.holds.contains(line) else { return }
        if held {
            if explicitUp {
                note(id, "probe", "line \(topology.lineIDs[Int(line)]) answers; held open by the customer's call", now: now)
            }
            return
        }
        if let fault = faults[.line(line)], fault.flapping { return }
        if !explicitUp && lineStillDown(line) { return }
        let end = max(at, lineStart[Int(line)])
        emitter.line(id, index: line, topology.interval(line, start: lineStart[Int(line)], end: end))
        lineIncident[Int(line)] = 0
        lineLastIncident[Int(line)] = raw
        lineLastStart[Int(line)] = lineStart[Int(line)]
        lineLastEnd[Int(line)] = end
        open[id]?.openLines.remove(line)
        if end > lineStart[Int(line)] {
            open[id]?.hitLines.insert(line)
        } else {
            // Up since before it was put in scope (its probe still answers): never hit. The store
            // drops the empty interval; the timeline says so and the customers are counted again
            // (once per batch) from the lines that really were cut off.
            leftScope[id, default: 0] += 1
            recount.insert(id)
        }
        if explicitUp { resolveIfDone(id, at: end, now: now) }
    }

    mutating func resolveIfDone(_ id: IncidentID, at: Double, now: Instant) {
        guard let incident = open[id], incident.faults.isEmpty, incident.openLines.isEmpty, incident.holds.isEmpty
        else { return }
        resolve(id, at: at, reason: "every fault cleared", now: now)
    }

    func record(_ key: FaultKey, _ fault: Fault) -> FaultRecord {
        FaultRecord(subject: topology.subject(of: key), health: fault.health,
                    since: Date(timeIntervalSince1970: fault.since),
                    detectedAt: Date(timeIntervalSince1970: fault.detectedAt ?? fault.firstSeen),
                    flapping: fault.flapping)
    }

    static func format(_ seconds: Double) -> String { RFC3339.format(seconds: seconds) }
}
