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

    /// The incident's announcement waits for an answer about `key` until `until`.
    mutating func awaitAnswer(_ key: FaultKey, for id: IncidentID, until: Double) {
        guard unannounced.contains(id), open[id] != nil else { return }
        open[id]!.awaiting[key] = max(open[id]!.awaiting[key] ?? until, until)
        awaitedBy[key, default: []].insert(id)
    }

    /// Evidence about a subject arrived (up or down): whoever waited for it stops.
    mutating func answered(_ key: FaultKey) {
        guard let ids = awaitedBy.removeValue(forKey: key) else { return }
        for id in ids { open[id]?.awaiting.removeValue(forKey: key) }
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

    /// Reachable elements sharing an upstream that answers with this one, a bounded number.
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
        // An answer given after the outage began shows the element was not cut off by it.
        let since = min(since, incident.header.startedAt.timeIntervalSince1970)
        let until = incident.header.detectedAt.timeIntervalSince1970 + settings.announceMax.seconds
        for element in rerootingElements(of: incident.key) {
            if faults[.element(element)] != nil || confirmed(element, since: since) { continue }
            awaitAnswer(.element(element), for: id, until: until)
            request(.pollElement(topology.elementIDs[Int(element)]), now: now, within: Self.elementRequestGap)
        }
    }

    /// Held incidents whose scope has settled get their `open` event now.
    mutating func announceSettled(now: Instant) {
        guard !unannounced.isEmpty else { return }
        let nowSeconds = seconds(now)
        for id in unannounced.sorted() {
            guard let incident = open[id] else { continue }
            guard incident.header.planned || announceReady(incident, now: nowSeconds) else { continue }
            for key in incident.awaiting.keys { awaitedBy[key]?.remove(id) }
            open[id]!.awaiting = [:]
            if incident.header.planned {
                unannounced.remove(id)
                continue
            }
            emitter.announce(id)
        }
    }

    mutating func announceReady(_ incident: OpenIncident, now: Double) -> Bool {
        if now >= incident.header.detectedAt.timeIntervalSince1970 + settings.announceMax.seconds { return true }
        if incident.awaiting.values.contains(where: { $0 > now }) { return false }
        // A cause in its hold-down will re-root or merge this incident when it settles.
        for element in rerootingElements(of: incident.key) where faults[.element(element)]?.status == .pending {
            return false
        }
        return true
    }

    /// When the next held announcement is due at the latest (seconds since 1970).
    var nextAnnouncement: Double? {
        var next: Double?
        for id in unannounced {
            guard let incident = open[id] else { continue }
            let latest = incident.header.detectedAt.timeIntervalSince1970 + settings.announceMax.seconds
            let due = min(latest, incident.awaiting.values.max() ?? latest)
            next = min(next ?? due, due)
        }
        return next
    }

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
