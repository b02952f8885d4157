import Foundation
import ForewarnModel

extension ConfigReader {
    static let elementKeys = ["id", "name", "address", "snmp_port", "kind", "upstream", "snmp_profile", "poll_interval",
                              "error_rate_threshold"]

    mutating func readElements(_ items: [Located], profiles: [ProfileID: SNMPProfile],
                               index: inout InventoryIndex, snmp: inout SNMPSettings) -> [Element] {
        var elements: [Element] = []
        // Upstream references are checked after every element is known: order in the file is free.
        var pendingUpstreams: [(element: ElementID, upstream: String, at: Located)] = []
        for item in items {
            guard let fields = Fields(item, what: "an element", kind: "element", allowed: Self.elementKeys, sink: &sink),
                  let idText = fields.string("id", required: true, sink: &sink) else { continue }
            let id = ElementID(idText)
            var valid = index.addElement(id, at: fields.value("id")!.location, sink: &sink)

            var address: IPAddress?
            if let text = fields.string("address", required: true, sink: &sink) {
                address = IPAddress(text)
                if address == nil {
                    sink.report(fields.value("address")!.location,
                                "element '\(idText)' has invalid address '\(text)' (an IPv4 or IPv6 address, no host names)")
                }
            }
            let kind = fields.choice("kind", ElementKind.self, sink: &sink)
            if kind == nil && !fields.has("kind") { sink.report(item.location, "element '\(idText)' is missing required key 'kind'") }
            let port = fields.integer("snmp_port", in: 1...65535, sink: &sink) ?? 161
            let interval = fields.duration("poll_interval", default: .seconds(60), in: ConfigLimits.pollInterval, sink: &sink)
            if let threshold = fields.decimal("error_rate_threshold", maximum: ConfigLimits.errorRateThreshold, sink: &sink) { snmp.elementErrorRateThresholds[id] = threshold }

            var profile: ProfileID?
            if let profileText = fields.string("snmp_profile", sink: &sink) {
                profile = ProfileID(profileText)
                if profiles[ProfileID(profileText)] == nil {
                    sink.report(fields.value("snmp_profile")!.location,
                                "element '\(idText)' uses unknown snmp_profile '\(profileText)'")
                    valid = false
                }
            }
            var upstream: [ElementID] = []
            var uplinks: [ElementID: Uplink] = [:]
            for entry in readUpstreams(fields, element: idText) {
                if entry.text == idText {
                    sink.report(entry.at.location, "element '\(idText)' lists itself as upstream")
                    valid = false
                } else if upstream.contains(ElementID(entry.text)) {
                    sink.report(entry.at.location, "element '\(idText)' lists upstream '\(entry.text)' twice")
                } else {
                    upstream.append(ElementID(entry.text))
                    if let uplink = entry.uplink { uplinks[ElementID(entry.text)] = uplink }
                    pendingUpstreams.append((id, entry.text, entry.at))
                }
            }
            guard valid, let address, let kind else { continue }
            elements.append(Element(id: id, name: fields.string("name", sink: &sink) ?? idText, address: address,
                                    snmpPort: UInt16(port), kind: kind, upstream: upstream, uplinks: uplinks, snmpProfile: profile,
                                    pollInterval: interval))
        }
        for pending in pendingUpstreams where index.elements[ElementID(pending.upstream)] == nil {
            sink.report(pending.at.location, "element '\(pending.element)' lists unknown upstream '\(pending.upstream)'")
        }
        return elements
    }

    /// `upstream` entries: an element id, or `{element: ID, port: PORT, peer_port: PORT}` naming
    /// this element's port facing that upstream and the upstream's port facing this element.
    mutating func readUpstreams(_ fields: Fields, element: String)
        -> [(text: String, at: Located, uplink: Uplink?)]
    {
        fields.list("upstream", sink: &sink).compactMap { item in
            if let text = item.scalarText, !text.isEmpty { return (text, item, nil) }
            guard let mapping = item.node.mapping else {
                sink.report(item.location, "each entry of 'upstream' in element '\(element)' must be an element id "
                            + "or a mapping with element, port, peer_port")
                return nil
            }
            let named = mapping.first { $0.key.scalar?.string == "element" }?.value.scalar?.string
            let what = named.map { "upstream '\($0)' of element '\(element)'" } ?? "an upstream of element '\(element)'"
            guard let entry = Fields(item, what: what, allowed: ["element", "port", "peer_port"], sink: &sink),
                  let upstream = entry.string("element", required: true, sink: &sink) else { return nil }
            let port = entry.string("port", sink: &sink).flatMap { PortReference($0) }
            let peerPort = entry.string("peer_port", sink: &sink).flatMap { PortReference($0) }
            let uplink = port == nil && peerPort == nil ? nil : Uplink(port: port, peerPort: peerPort)
            return (upstream, entry.value("element")!, uplink)
        }
    }

    /// Reports every upstream cycle once, at the entry that closes it.
    mutating func checkTopology(_ elements: [Element], index: InventoryIndex) {
        let byID = Dictionary(elements.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        enum Mark { case visiting, done }
        var marks: [ElementID: Mark] = [:]
        for start in elements where marks[start.id] == nil {
            // Iterative depth-first search; the stack holds the path from `start`.
            var path: [(id: ElementID, next: Int)] = [(start.id, 0)]
            marks[start.id] = .visiting
            while let top = path.last {
                let upstream = byID[top.id]?.upstream ?? []
                guard top.next < upstream.count else {
                    marks[top.id] = .done
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let next = upstream[top.next]
                guard byID[next] != nil else { continue }
                switch marks[next] {
                case .visiting:
                    let cycleStart = path.firstIndex { $0.id == next } ?? 0
                    let cycle = path[cycleStart...].map(\.id.rawValue) + [next.rawValue]
                    sink.report(index.elements[top.id] ?? SourceLocation(file: file),
                                "element '\(top.id)' is in an upstream cycle: \(cycle.joined(separator: " -> "))")
                case .done:
                    break
                case nil:
                    marks[next] = .visiting
                    path.append((next, 0))
                }
            }
        }
    }

    mutating func readMaintenance(_ items: [Located], index: InventoryIndex) -> [MaintenanceWindow] {
        var seen: Set<MaintenanceID> = []
        return items.compactMap { item in
            guard let fields = Fields(item, what: "a maintenance window", kind: "maintenance window",
                                      allowed: ["id", "start", "end", "elements", "lines", "reason"], sink: &sink),
                  let id = fields.string("id", required: true, sink: &sink) else { return nil }
            guard seen.insert(MaintenanceID(id)).inserted else {
                sink.report(fields.value("id")!.location, "duplicate maintenance window id '\(id)'")
                return nil
            }
            var instants: [Date?] = []
            for key in ["start", "end"] {
                guard let text = fields.string(key, required: true, sink: &sink) else { instants.append(nil); continue }
                let instant = RFC3339.parse(text)
                if instant == nil {
                    sink.report(fields.value(key)!.location,
                                "'\(key)' in maintenance window '\(id)' must be an RFC 3339 time such as 2026-12-01T01:00:00Z, not '\(text)'")
                }
                instants.append(instant)
            }
            let elements = fields.strings("elements", sink: &sink).compactMap { entry -> ElementID? in
                guard index.elements[ElementID(entry.text)] != nil else {
                    sink.report(entry.at.location, "maintenance window '\(id)' names unknown element '\(entry.text)'")
                    return nil
                }
                return ElementID(entry.text)
            }
            let lines = fields.strings("lines", sink: &sink).compactMap { entry -> LineID? in
                guard index.lines[LineID(entry.text)] != nil else {
                    sink.report(entry.at.location, "maintenance window '\(id)' names unknown line '\(entry.text)'")
                    return nil
                }
                return LineID(entry.text)
            }
            if elements.isEmpty && lines.isEmpty && !fields.has("elements") && !fields.has("lines") {
                sink.report(item.location, "maintenance window '\(id)' covers nothing: give 'elements' or 'lines'")
            }
            guard let start = instants[0], let end = instants[1] else { return nil }
            guard end > start else {
                sink.report(fields.value("end")!.location, "maintenance window '\(id)' ends before it starts")
                return nil
            }
            return MaintenanceWindow(id: MaintenanceID(id), start: start, end: end, elements: elements, lines: lines,
                                     reason: fields.string("reason", sink: &sink) ?? "")
        }
    }
}
