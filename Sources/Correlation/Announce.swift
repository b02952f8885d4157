import ForewarnModel
import Foundation

/// The first announcement of an incident (its `open` event: the ticket) carries the settled
/// scope. The incident is recorded as soon as it is decided; only the announcement is held,
/// until
/// - every line it asked to confirm has answered or had `confirmationWait` to do so (a line
///   that answers leaves the scope: its element's agent died but it still forwards),
/// - every element whose answer could re-root it has answered (its upstreams; the other
///   elements behind the same upstream, which would make it a forwarding failure; the far end
///   of a link), and none of them has a fault still in its hold-down,
///
/// and at the latest `announceMax` after the incident was decided. Once announced, changes are
/// announced as updates as before. An incident absorbed into another before its announcement is
/// never announced (the survivor carries it); one resolved before it is announced is announced
/// as opened, then resolved, in that order.
extension Correlator {
    /// Elements behind one upstream asked about at once when one of them fails.
    static var siblingLimit: Int { 64 }

    /// A new (or restored) incident: its announcement is held, looked at in the next flush and
    /// at the latest `announceMax` after it was decided.
    mutating func holdAnnouncement(_ id: IncidentID) {
        guard let incident = open[id] else { return }
        unannounced.insert(id)
        announceRecheck.insert(id)
        announceChecks.push(incident.header.detectedAt.timeIntervalSince1970 + settings.announceMax.inSeconds, id)
    }

    mutating func lookAgain(_ id: IncidentID, at time: Double) {
        announceChecks.push(time, id)
        if open[id] != nil { open[id]!.checkAt = time }
    }

    /// The incident's announcement waits for an answer about `key` until `until`.
    mutating func awaitAnswer(_ key: FaultKey, for id: IncidentID, until: Double) {
        guard unannounced.contains(id), let incident = open[id] else { return }
        open[id]!.awaiting[key] = max(incident.awaiting[key] ?? until, until)
        awaitedBy[key, default: []].insert(id)
        if until != incident.checkAt { lookAgain(id, at: until) }  // many lines share one wait
    }

    /// Evidence about a subject arrived (up or down): whoever waited for it stops.
    mutating func answered(_ key: FaultKey) {
        guard let ids = awaitedBy.removeValue(forKey: key) else { return }
        for id in ids where open[id] != nil {
            open[id]!.awaiting.removeValue(forKey: key)
            announceRecheck.insert(id)
        }
    }

    /// Has this element answered since `time`?
    func confirmed(_ element: Int32, since time: Double) -> Bool {
        (confirmedUp[element] ?? -.infinity) >= time
    }

    /// The elements whose answers could change where an incident's root is.
    mutating func rerootingElements(of key: GroupKey) -> [Int32] {
        switch key {
        case .element(let element):
            return topology.upstreams[Int(element)] + siblings(of: element)
        case .forwarding(let upstream):
            return [upstream] + topology.children[Int(upstream)].prefix(Self.siblingLimit)
        case .link(let child, _):
            // The upstream reported its end; only the far end being cut off would re-root it.
            return [child]
        case .ports(let element):
            return [element]
        case .line(let line):
            return [topology.lineElement[Int(line)]]
        }
    }

    /// The other elements behind this one's upstreams, a bounded number.
    func siblings(of element: Int32) -> [Int32] {
        var result: [Int32] = []
        for upstream in topology.upstreams[Int(element)] {
            for sibling in topology.children[Int(upstream)] where sibling != element {
                guard result.count < Self.siblingLimit else { return result }
                if !result.contains(sibling) { result.append(sibling) }
            }
        }
        return result
    }

    /// After a (new or re-rooted) incident's root is decided: wait, before announcing it, for
    /// the elements that could still re-root it and have not answered since `since`.
    mutating func awaitRootEvidence(_ id: IncidentID, since: Double, now: Instant) {
        guard unannounced.contains(id), let incident = open[id] else { return }
        announceRecheck.insert(id)  // re-rooted: what it waits for changed
        // An answer given after the outage began shows the element was not cut off by it.
        let since = min(since, incident.header.startedAt.timeIntervalSince1970)
        let until = incident.header.detectedAt.timeIntervalSince1970 + settings.announceMax.inSeconds
        for element in rerootingElements(of: incident.key) {
            if faults[.element(element)] != nil || confirmed(element, since: since) { continue }
            awaitAnswer(.element(element), for: id, until: until)
            request(.pollElement(topology.elementIDs[Int(element)]), now: now, within: Self.elementRequestGap)
        }
    }

    /// Held incidents whose scope has settled get their `open` event now. Only those an answer
    /// or a due wait concerns are looked at.
    mutating func announceSettled(now: Instant) {
        guard !unannounced.isEmpty else {
            announceChecks = DeadlineHeap()
            announceRecheck = []
            return
        }
        let nowSeconds = seconds(now)
        var candidates = announceRecheck
        announceRecheck = []
        while let top = announceChecks.top, top.deadline <= nowSeconds {
            announceChecks.pop()
            candidates.insert(top.id)
        }
        for id in candidates.sorted() where unannounced.contains(id) {
            guard let incident = open[id] else { continue }
            guard incident.header.planned || announceReady(incident, now: nowSeconds) else {
                // A cause in its hold-down: look again when it is decided at the latest.
                if let settles = pendingCause(of: incident)?.settlesAt, settles > nowSeconds { lookAgain(id, at: settles) }
                continue
            }
            for key in incident.awaiting.keys { awaitedBy[key]?.remove(id) }
            open[id]!.awaiting = [:]
            if incident.header.planned {
                unannounced.remove(id)
                continue
            }
            emitter.announce(id)
        }
        // Waits of incidents announced or gone meanwhile are dropped, so the next deadline is real.
        while let top = announceChecks.top, !unannounced.contains(top.id) || open[top.id] == nil {
            announceChecks.pop()
        }
    }

    /// A fault in its hold-down on an element that could re-root the incident.
    mutating func pendingCause(of incident: OpenIncident) -> (element: Int32, settlesAt: Double)? {
        for element in rerootingElements(of: incident.key) {
            if let fault = faults[.element(element)], fault.status == .pending {
                return (element, fault.firstSeen + settings.holdDown.inSeconds)
            }
        }
        return nil
    }

    mutating func announceReady(_ incident: OpenIncident, now: Double) -> Bool {
        if now >= incident.header.detectedAt.timeIntervalSince1970 + settings.announceMax.inSeconds { return true }
        if incident.awaiting.values.contains(where: { $0 > now }) { return false }
        // A cause in its hold-down will re-root or merge this incident when it settles.
        return pendingCause(of: incident) == nil
    }

    /// When a held announcement is to be looked at next (seconds since 1970).
    var nextAnnouncement: Double? { announceChecks.top?.deadline }

    /// Lines that left a scope because they answer, said once per batch (while the announcement
    /// is held, once when it goes out), and the customers counted again from the lines that
    /// really were cut off.
    mutating func noteScopeChanges(now: Instant) {
        for (id, count) in leftScope.sorted(by: { $0.key < $1.key }) {
            guard let incident = open[id] else {
                leftScope.removeValue(forKey: id)
                continue
            }
            if unannounced.contains(id) && emitter.pending[id]?.announceOpen != true { continue }
            leftScope.removeValue(forKey: id)
            let remaining = incident.openLines.count
            note(id, "scope", "\(count) line\(count == 1 ? "" : "s") left the scope: \(count == 1 ? "it answers" : "they answer"), "
                 + "never cut off; \(remaining) line\(remaining == 1 ? "" : "s") in scope", now: now)
        }
        for id in recount.sorted() {
            guard var incident = open[id] else { continue }
            var customers: Set<CustomerID> = []
            var services: Set<ServiceKind> = []
            for line in incident.openLines.union(incident.hitLines) {
                customers.insert(topology.lineCustomer[Int(line)])
                services.insert(topology.lineService[Int(line)])
            }
            incident.customers = customers
            incident.services = services
            open[id] = incident
            updateSeverity(id)
        }
        recount = []
    }
}

/// A binary min-heap of (deadline, incident): when held announcements are looked at again.
struct DeadlineHeap: Sendable {
    private var entries: [(deadline: Double, id: IncidentID)] = []

    var top: (deadline: Double, id: IncidentID)? { entries.first }

    mutating func push(_ deadline: Double, _ id: IncidentID) {
        entries.append((deadline, id))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() {
        guard !entries.isEmpty else { return }
        entries.swapAt(0, entries.count - 1)
        entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count && entries[right].deadline < entries[smallest].deadline { smallest = right }
            guard smallest != parent else { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
