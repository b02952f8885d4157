import ForewarnModel
import Foundation

/// Grey failures: an upstream that still answers SNMP and ping but no longer forwards. What is
/// seen is the elements behind it failing together while it answers; that is one incident,
/// rooted at the upstream, with every line behind them.
extension Correlator {
    /// The group of everything cut off by this root element: its own, or the forwarding
    /// failure of an upstream it failed together with others behind.
    mutating func rootGroup(_ root: Int32) -> GroupKey {
        if let upstream = forwardingUpstream(root) { return .forwarding(upstream) }
        return .element(root)
    }

    /// For an element that is its own root (it stopped answering while an upstream answers):
    /// the upstream it shares with another such element whose failure began within the
    /// forwarding window of its own, provided the upstream answered after the first of them
    /// failed (were it down since, it would be their root, not a forwarding failure). Once its
    /// fault is in that upstream's forwarding-failure incident, it stays there.
    mutating func forwardingUpstream(_ element: Int32) -> Int32? {
        guard cutRoot(element) == element else { return nil }  // also refreshes the cache
        if let cached = forwardingCache[element] { return cached < 0 ? nil : cached }
        var result: Int32?
        if let fault = faults[.element(element)], fault.health == .down, fault.status != .dismissed {
            if let id = fault.incident, case .forwarding(let upstream)? = open[id]?.key,
               topology.upstreams[Int(element)].contains(upstream) {
                result = upstream
            } else {
                search: for upstream in topology.upstreams[Int(element)] where cutRoot(upstream) == nil {
                    for sibling in topology.children[Int(upstream)] where sibling != element {
                        guard let other = faults[.element(sibling)], other.health == .down, other.status != .dismissed,
                              abs(other.since - fault.since) <= settings.forwardingWindow.inSeconds,
                              confirmed(upstream, since: min(fault.since, other.since)),
                              cutRoot(sibling) == sibling else { continue }
                        result = upstream
                        break search
                    }
                }
            }
        }
        forwardingCache[element] = result ?? -1
        return result
    }

    /// An element failed: ask the others behind its upstreams at once, so a forwarding failure
    /// is recognised by their failing too rather than at their next regular polls.
    mutating func requestSiblings(of element: Int32, now: Instant) {
        for sibling in siblings(of: element) where faults[.element(sibling)] == nil {
            request(.pollElement(topology.elementIDs[Int(sibling)]), now: now, within: Self.elementRequestGap)
        }
    }
}
