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
            guard let fields = Fields(item, what: "an element", allowed: Self.elementKeys, sink: &sink),
                  let idText = fields.string("id", required: true, sink: &sink) else { continue }
            let id = ElementID(idText)
            let named = Fields(renaming: fields, to: "element '\(idText)'")
            var valid = index.addElement(id, at: fields.value("id")!.location, sink: &sink)

            var address: IPAddress?
            if let text = named.string("address", required: true, sink: &sink) {
                address = IPAddress(text)
                if address == nil {
                    sink.report(named.value("address")!.location,
                                "element '\(idText)' has invalid address '\(text)' (an IPv4 or IPv6 address, no host names)")
                }
            }
            let kind = named.choice("kind", ElementKind.self, sink: &sink)
            if kind == nil && !named.has("kind") { sink.report(item.location, "element '\(idText)' is missing required key 'kind'") }
            let port = named.integer("snmp_port", in: 1...65535, sink: &sink) ?? 161
            let interval = named.duration("poll_interval", default: .seconds(60), minimum: .seconds(1), sink: &sink)
            if let threshold = named.decimal("error_rate_threshold", sink: &sink) { snmp.elementErrorRateThresholds[id] = threshold }

            var profile: ProfileID?
            if let profileText = named.string("snmp_profile", sink: &sink) {
                profile = ProfileID(profileText)
                if profiles[ProfileID(profileText)] == nil {
                    sink.report(named.value("snmp_profile")!.location,
                                "element '\(idText)' uses unknown snmp_profile '\(profileText)'")
                    valid = false
                }
            }
            var upstream: [ElementID] = []
            for entry in named.strings("upstream", sink: &sink) {
                if entry.text == idText {
                    sink.report(entry.at.location, "element '\(idText)' lists itself as upstream")
                    valid = false
                } else if upstream.contains(ElementID(entry.text)) {
                    sink.report(entry.at.location, "element '\(idText)' lists upstream '\(entry.text)' twice")
                } else {
                    upstream.append(ElementID(entry.text))
                    pendingUpstreams.append((id, entry.text, entry.at))
                }
            }
            guard valid, let address, let kind else { continue }
            elements.append(Element(id: id, name: named.string("name", sink: &sink) ?? idText, address: address,
                                    snmpPort: UInt16(port), kind: kind, upstream: upstream, snmpProfile: profile,
                                    pollInterval: interval))
        }
        for pending in pendingUpstreams where index.elements[ElementID(pending.upstream)] == nil {
            sink.report(pending.at.location, "element '\(pending.element)' lists unknown upstream '\(pending.upstream)'")
        }
        return elements
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
            guard let fields = Fields(item, what: "a maintenance window",
                                      allowed: ["id", "start", "end", "elements", "lines", "reason"], sink: &sink),
                  let id = fields.string("id", required: true, sink: &sink) else { return nil }
            let named = Fields(renaming: fields, to: "maintenance window '\(id)'")
            guard seen.insert(MaintenanceID(id)).inserted else {
                sink.report(fields.value("id")!.location, "duplicate maintenance window id '\(id)'")
                return nil
            }
            var instants: [Date?] = []
            for key in ["start", "end"] {
                guard let text = named.string(key, required: true, sink: &sink) else { instants.append(nil); continue }
                let instant = Timestamps.parse(text)
                if instant == nil {
                    sink.report(named.value(key)!.location,
                                "'\(key)' in maintenance window '\(id)' must be an RFC 3339 time such as 2026-12-01T01:00:00Z, not '\(text)'")
                }
                instants.append(instant)
            }
            let elements = named.strings("elements", sink: &sink).compactMap { entry -> ElementID? in
                guard index.elements[ElementID(entry.text)] != nil else {
                    sink.report(entry.at.location, "maintenance window '\(id)' names unknown element '\(entry.text)'")
                    return nil
                }
                return ElementID(entry.text)
            }
            let lines = named.strings("lines", sink: &sink).compactMap { entry -> LineID? in
                guard index.lines[LineID(entry.text)] != nil else {
                    sink.report(entry.at.location, "maintenance window '\(id)' names unknown line '\(entry.text)'")
                    return nil
                }
                return LineID(entry.text)
            }
            if elements.isEmpty && lines.isEmpty && !named.has("elements") && !named.has("lines") {
                sink.report(item.location, "maintenance window '\(id)' covers nothing: give 'elements' or 'lines'")
            }
            guard let start = instants[0], let end = instants[1] else { return nil }
            guard end > start else {
                sink.report(named.value("end")!.location, "maintenance window '\(id)' ends before it starts")
                return nil
            }
            return MaintenanceWindow(id: MaintenanceID(id), start: start, end: end, elements: elements, lines: lines,
                                     reason: named.string("reason", sink: &sink) ?? "")
        }
    }

    mutating func readHooks(_ items: [Located]) -> [Hook] {
        var seen: Set<HookID> = []
        return items.compactMap { item in
            guard let fields = Fields(item, what: "a hook", allowed: ["id", "kind", "url", "command", "events"],
                                      sink: &sink),
                  let id = fields.string("id", required: true, sink: &sink) else { return nil }
            let named = Fields(renaming: fields, to: "hook '\(id)'")
            guard seen.insert(HookID(id)).inserted else {
                sink.report(fields.value("id")!.location, "duplicate hook id '\(id)'")
                return nil
            }
            var events: [Hook.Event] = []
            for entry in named.strings("events", sink: &sink) {
                guard let event = Hook.Event(rawValue: entry.text) else {
                    sink.report(entry.at.location, "hook '\(id)' names unknown event '\(entry.text)' (open, update, resolve)")
                    continue
                }
                events.append(event)
            }
            if !named.has("events") { events = Hook.Event.allCases }
            let target: Hook.Target?
            switch named.string("kind", required: true, sink: &sink) {
            case "webhook":
                let url = named.string("url", required: true, sink: &sink)
                if let url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                    sink.report(named.value("url")!.location, "hook '\(id)' url must start with http:// or https://, not '\(url)'")
                    return nil
                }
                target = url.map { .webhook(url: $0) }
            case "command":
                let arguments = named.strings("command", sink: &sink).map(\.text)
                if arguments.isEmpty {
                    sink.report(item.location, "hook '\(id)' of kind command needs 'command' (a list: program, arguments)")
                }
                target = arguments.isEmpty ? nil : .command(arguments: arguments)
            case let other?:
                sink.report(named.value("kind")!.location, "'kind' in hook '\(id)' must be webhook or command, not '\(other)'")
                target = nil
            case nil:
                target = nil
            }
            guard let target else { return nil }
            return Hook(id: HookID(id), target: target, events: events)
        }
    }
}
