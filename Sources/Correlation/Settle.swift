import ForewarnModel
import Foundation

/// Deciding: which group a fault belongs to, and when a held fault is settled.
extension Correlator {
    // MARK: topology root cause

    /// The failed element that cuts this one off from the NOC (itself if it failed while an
    /// upstream still answers); nil while it is reachable. An element with several upstreams
    /// is cut off only when every one of them is; the root is then the first of their roots in
    /// inventory order, so each line lands in exactly one incident.
    mutating func cutRoot(_ element: Int32) -> Int32? {
        if !cutCacheValid {
            for index in cutCache.indices { cutCache[index] = -2 }
            forwardingCache = [:]
            cutCacheValid = true
        }
        let cached = cutCache[Int(element)]
        if cached != -2 { return cached == -1 ? nil : cached }
        var result: Int32?
        let upstreams = topology.upstreams[Int(element)]
        if !upstreams.isEmpty {
            cutCache[Int(element)] = -1  // a cycle (never in a validated configuration) reads as reachable
            var best = Int32.max
            var allCut = true
            for upstream in upstreams {
                guard let root = cutRoot(upstream) else {
                    allCut = false
                    break
                }
                best = min(best, root)
            }
            if allCut { result = best }
        }
        if result == nil, faults[.element(element)]?.health == .down { result = element }
        cutCache[Int(element)] = result ?? -1
        return result
    }

    /// The group a fault belongs to now.
    mutating func groupKey(for key: FaultKey) -> GroupKey {
        switch key {
        case .element(let element):
            return rootGroup(cutRoot(element) ?? element)
        case .port(let port):
            if let root = cutRoot(port.element) { return rootGroup(root) }
            // Either end of a known link: both ends' ports are one incident (one link, one fault).
            if let upstream = topology.uplinkPorts[port] {
                return .link(child: port.element, upstream: upstream)
            }
            if let child = topology.peerPorts[port] {
                if let root = cutRoot(child) { return rootGroup(root) }
                return .link(child: child, upstream: port.element)
            }
            return .ports(port.element)
        case .line(let line):
            let element = topology.lineElement[Int(line)]
            if let root = cutRoot(element) { return rootGroup(root) }
            if let port = topology.linePort[Int(line)], faults[.port(PortKey(element: element, port: port))] != nil {
                return groupKey(for: .port(PortKey(element: element, port: port)))
            }
            return .line(line)
        }
    }

    /// The group an existing incident's key belongs to now (a new root above may explain it).
    mutating func currentGroup(of key: GroupKey) -> GroupKey {
        switch key {
        case .element(let element):
            return rootGroup(cutRoot(element) ?? element)
        case .ports(let element), .link(let element, _):
            if let root = cutRoot(element) { return rootGroup(root) }
            return key
        case .forwarding(let upstream):
            if let root = cutRoot(upstream) { return rootGroup(root) }
            return key
        case .line(let line):
            let grouped = groupKey(for: .line(line))
            return grouped
        }
    }

    func joinable(_ incident: OpenIncident, since: Double) -> Bool {
        guard case .ports = incident.key else { return true }
        // A line card fails at once: port faults within the hold-down of the first one group.
        let start = incident.portWindow ?? incident.header.startedAt.timeIntervalSince1970
        return since < start + settings.holdDown.inSeconds
    }

    /// The open incident a fault joins without a new decision: the one its group has open, or
    /// for a line on a failed port, the one holding that port.
    mutating func existingIncident(for key: FaultKey, group: GroupKey, since: Double) -> IncidentID? {
        if case .line(let line) = key, let port = topology.linePort[Int(line)],
           let id = faults[.port(PortKey(element: topology.lineElement[Int(line)], port: port))]?.incident,
           let incident = open[id], incident.key == group {
            return id
        }
        if let id = openByKey[group], let incident = open[id], joinable(incident, since: since) { return id }
        return nil
    }

    // MARK: settling

    mutating func settle(_ key: FaultKey, now: Instant) {
        guard var fault = faults[key], fault.status == .pending else { return }
        // A line already in an open incident's scope is evidence for that incident (after a
        // restart its probe reports it again); if a new root explains it, the root absorbs it.
        if case .line(let line) = key, lineIncident[Int(line)] != 0, open[IncidentID(lineIncident[Int(line)])] != nil {
            fault.status = .settled
            fault.detectedAt = seconds(now)
            faults[key] = fault
            attach(key, to: IncidentID(lineIncident[Int(line)]), now: now)
            return
        }
        // A line fault that began while the line was still in an open incident's scope (the root
        // cleared before the line's own verdict came in) continues that incident, not a new one.
        if case .line(let line) = key, lineIncident[Int(line)] == 0, lineLastIncident[Int(line)] != 0,
           fault.since <= lineLastEnd[Int(line)], open[IncidentID(lineLastIncident[Int(line)])] != nil {
            let id = IncidentID(lineLastIncident[Int(line)])
            addLine(line, to: id, start: lineLastEnd[Int(line)], ifUnseenSince: nil)
            fault.status = .settled
            fault.detectedAt = seconds(now)
            faults[key] = fault
            attach(key, to: id, now: now)
            return
        }
        let group = groupKey(for: key)
        if let root = causeRoot(of: key), key != .element(root), let rootFault = faults[.element(root)] {
            if rootFault.status == .pending {
                settle(.element(root), now: now)
            } else if rootFault.status == .dismissed {
                // The operator closed the incident of the root while it is still down.
                fault.status = .dismissed
                faults[key] = fault
                return
            }
        }
        // A line on a failed port follows the port: the port's fault names the group's root.
        if case .line(let line) = key, let port = topology.linePort[Int(line)] {
            let portKey = FaultKey.port(PortKey(element: topology.lineElement[Int(line)], port: port))
            if faults[portKey]?.status == .pending { settle(portKey, now: now) }
        }
        guard faults[key]?.status == .pending else { return }
        fault = faults[key]!
        fault.status = .settled
        fault.detectedAt = seconds(now)
        faults[key] = fault
        let id = incident(for: group, cause: key, since: fault.since, now: now)
        attach(key, to: id, now: now)
    }

    /// The open incident for a group, re-rooting and merging what the group now explains, or
    /// a new one.
    mutating func incident(for group: GroupKey, cause: FaultKey, since: Double, now: Instant) -> IncidentID {
        if let id = existingIncident(for: cause, group: group, since: since) { return id }
        let root = rootDescription(group, cause: cause)
        let absorbable = findAbsorbable(group)
        let learned = faults[cause]?.firstSeen ?? seconds(now)
        if let survivor = absorbable.first {
            reroot(survivor, to: group, root: root, since: since, now: now)
            for other in absorbable.dropFirst() { merge(other, into: survivor, now: now) }
            awaitRootEvidence(survivor, since: learned, now: now)
            return survivor
        }
        let id = openIncident(group, root: root, since: since, now: now)
        awaitRootEvidence(id, since: learned, now: now)
        return id
    }

    /// The failed element that cuts this subject off, if one does.
    mutating func causeRoot(of key: FaultKey) -> Int32? {
        switch key {
        case .element(let element): return cutRoot(element)
        case .port(let port): return cutRoot(port.element) ?? topology.peerPorts[port].flatMap { cutRoot($0) }
        case .line(let line): return cutRoot(topology.lineElement[Int(line)])
        }
    }

    mutating func rootDescription(_ group: GroupKey, cause: FaultKey) -> IncidentRoot {
        let health = faults[cause]?.health ?? .down
        switch group {
        case .element(let element):
            return IncidentRoot(subject: .element(topology.elementIDs[Int(element)]), kind: .unreachable)
        case .forwarding(let upstream):
            return IncidentRoot(subject: .element(topology.elementIDs[Int(upstream)]), kind: .forwardingFailure)
        case .ports(let element):
            if case .port(let port) = cause {
                return IncidentRoot(subject: topology.subject(of: .port(port)), kind: health == .degraded ? .degraded : .down)
            }
            return IncidentRoot(subject: .element(topology.elementIDs[Int(element)]), kind: .lineCard)
        case .link(let child, let upstream):
            let uplink = topology.links[child]?[upstream]
            // Dual-homed: the element keeps its service through another upstream. Single-homed
            // and still answering: the link is down, nothing behind it is cut off.
            let kind: RootKind = topology.upstreams[Int(child)].count >= 2 ? .redundancyLost : .linkDown
            let subject: Subject
            if let port = uplink?.port, faults[.port(PortKey(element: child, port: port))] != nil {
                subject = .port(topology.elementIDs[Int(child)], port)
            } else if case .port = cause {
                subject = topology.subject(of: cause)
            } else if let port = uplink?.port {
                subject = .port(topology.elementIDs[Int(child)], port)
            } else if let port = uplink?.peerPort {
                subject = .port(topology.elementIDs[Int(upstream)], port)
            } else {
                subject = topology.subject(of: cause)
            }
            return IncidentRoot(subject: subject, kind: kind)
        case .line(let line):
            return IncidentRoot(subject: .line(topology.lineIDs[Int(line)]), kind: health == .degraded ? .degraded : .down)
        }
    }

    /// Open incidents a new group explains: everything cut off by a new root element, the
    /// lines of a port group.
    mutating func findAbsorbable(_ group: GroupKey) -> [IncidentID] {
        var found: Set<IncidentID> = []
        switch group {
        case .element(let root):
            for element in cutSubtree(root, root: root) {
                for id in byAnchor[element] ?? [] {
                    guard let incident = open[id], incident.key != group else { continue }
                    if currentGroup(of: incident.key) == group { found.insert(id) }
                }
                found.formUnion(peerPortIncidents(facing: element, group: group))
            }
        case .forwarding(let upstream):
            // Everything cut off by the elements behind the upstream that failed with it.
            for child in topology.children[Int(upstream)] where cutRoot(child) == child && rootGroup(child) == group {
                for element in cutSubtree(child, root: child) {
                    for id in byAnchor[element] ?? [] {
                        guard let incident = open[id], incident.key != group else { continue }
                        if currentGroup(of: incident.key) == group { found.insert(id) }
                    }
                    found.formUnion(peerPortIncidents(facing: element, group: group))
                }
            }
        case .ports(let element):
            for id in byAnchor[element] ?? [] {
                guard let incident = open[id], case .line = incident.key else { continue }
                if currentGroup(of: incident.key) == group { found.insert(id) }
            }
        case .link, .line:
            break
        }
        return found.sorted()
    }

    /// Incidents made only of upstream ports facing this (now cut off) element: the far end's
    /// linkDown that arrived before the element was known unreachable.
    mutating func peerPortIncidents(facing element: Int32, group: GroupKey) -> [IncidentID] {
        var result: [IncidentID] = []
        for upstream in topology.upstreams[Int(element)] {
            guard let port = topology.links[element]?[upstream]?.peerPort,
                  let id = faults[.port(PortKey(element: upstream, port: port))]?.incident,
                  let incident = open[id], case .ports = incident.key, incident.openLines.isEmpty else { continue }
            let onlyPeerPorts = incident.faults.allSatisfy { fault in
                guard case .port(let other) = fault, let child = topology.peerPorts[other] else { return false }
                return groupKey(for: .element(child)) == group || cutRoot(child) != nil
            }
            if onlyPeerPorts { result.append(id) }
        }
        return result
    }

    /// Elements below (and including) `start` cut off with this root, parents first.
    mutating func cutSubtree(_ start: Int32, root: Int32) -> [Int32] {
        let topology = self.topology
        return topology.walkDown(from: start) { cutRoot($0) == root ? () : nil }.map(\.element)
    }
}
