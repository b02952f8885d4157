import Foundation
import ForewarnModel
import Persistence

/// What tickets may name besides the incident: elements' and customers' names, the daemon's
/// web address.
public struct TicketInventory: Sendable {
    public var elements: [ElementID: (name: String, kind: ElementKind)]
    public var customers: [CustomerID: String]
    public var publicURL: String?

    public init(elements: [Element] = [], customers: [Customer] = [], publicURL: String? = nil) {
        self.elements = Dictionary(elements.map { ($0.id, ($0.name, $0.kind)) }, uniquingKeysWith: { first, _ in first })
        self.customers = Dictionary(customers.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        self.publicURL = publicURL
    }
}

/// The first stage of ticketing: decides what each hook is told about incident changes. Pure
/// and synchronous: the correlator's changes in, outbox entries out, which the store writes in
/// the same transaction as the changes.
///
/// A hook opens a ticket for an incident once it takes the incident (its routing: severity,
/// root kind, customers), at the first announced change that qualifies, and is then told every
/// announced update and the resolve. It keeps the scope of every incident it has seen (every
/// line ever in scope, the incidents merged into it, the hooks it opened), so a ticket says how
/// many lines and customers the incident hit; recovered from the store after a restart.
public struct TicketAnnouncer: Sendable {
    struct Scope: Sendable {
        /// Line → (customer, start and end of its latest interval in this incident, Unix ms; 0:
        /// not known, or still open).
        var lines: [LineID: (customer: CustomerID, start: Int64, end: Int64)] = [:]
        var customers: [CustomerID: Int] = [:]
        var merged: [IncidentID] = []
        var opened: Set<HookID> = []

        mutating func add(_ line: LineID, customer: CustomerID, start: Int64, end: Int64 = 0) {
            if lines.updateValue((customer, start, end), forKey: line) == nil { customers[customer, default: 0] += 1 }
        }

        mutating func remove(_ line: LineID) {
            guard let customer = lines.removeValue(forKey: line)?.customer else { return }
            customers[customer, default: 1] -= 1
            if customers[customer] == 0 { customers[customer] = nil }
        }
    }

    /// Lines and customers listed by name in a ticket; the rest are counted.
    public static let listed = 20

    public var inventory: TicketInventory
    private var scopes: [IncidentID: Scope] = [:]
    /// Resolved incidents in the order they resolved; the oldest are forgotten past the limit.
    private var resolved: [IncidentID] = []
    private var resolvedHead = 0
    static var resolvedLimit: Int { 10_000 }

    public init(inventory: TicketInventory = TicketInventory(), recovered: [IncidentID: IncidentScope] = [:]) {
        self.inventory = inventory
        for (id, recoveredScope) in recovered {
            var scope = Scope()
            for (line, customer) in recoveredScope.lines { scope.add(line, customer: customer, start: 0) }
            scope.merged = recoveredScope.merged.sorted()
            scope.opened = recoveredScope.opened
            scopes[id] = scope
        }
    }

    /// What one batch of changes tells the hooks, and the tickets that already existed.
    public struct Announcements: Sendable {
        public var outbox: [OutboxEntry] = []
        /// For incidents entered by hand with an existing ticket: that ticket, for every hook that
        /// takes the incident (none of them opens one), or for no hook (`hook` empty) when none does.
        public var tickets: [Ticket] = []
    }

    /// The outbox entries for one batch of changes. Every change's scope is applied first, so an
    /// announcement sees the batch complete (a survivor's update lists what merged into it).
    public mutating func announce(_ changes: [IncidentChange], hooks: [Hook]) -> [OutboxEntry] {
        announcements(changes, hooks: hooks).outbox
    }

    /// As `announce`, with the tickets entered by hand.
    public mutating func announcements(_ changes: [IncidentChange], hooks: [Hook]) -> Announcements {
        for change in changes { apply(change) }
        var result = Announcements()
        for change in changes {
            guard let ticketID = change.enteredTicket else { continue }
            let id = change.incident.id
            let customers = scopes[id]?.customers.count ?? 0
            var taken = hooks.filter { hook in
                !change.incident.planned && hook.routing.takes(change.incident, customers: customers)
            }.map(\.id)
            // Recorded all the same, so that listings show it; no hook sends anything to it.
            if taken.isEmpty { taken = [HookID("")] }
            for hook in taken {
                scopes[id, default: Scope()].opened.insert(hook)
                result.tickets.append(Ticket(incident: id, hook: hook, ticketID: ticketID, state: nil,
                                             openedAt: change.incident.detectedAt, updatedAt: change.incident.detectedAt))
            }
        }
        result.outbox = entries(for: changes, hooks: hooks)
        return result
    }

    private mutating func entries(for changes: [IncidentChange], hooks: [Hook]) -> [OutboxEntry] {
        var entries: [OutboxEntry] = []
        for change in changes where !change.announce.isEmpty && !change.incident.planned {
            let id = change.incident.id
            var documents: [Hook.Event: String] = [:]
            for hook in hooks {
                for event in events(for: hook, change: change) {
                    if documents[event] == nil {
                        documents[event] = document(change, event: event, scope: scopes[id] ?? Scope())
                    }
                    entries.append(OutboxEntry(incident: id, hook: hook.id, event: event, payload: documents[event]!,
                                               notBefore: event == .open && hook.openAfter > .zero
                                                   ? change.incident.detectedAt.addingTimeInterval(hook.openAfter.inSeconds)
                                                   : nil))
                }
            }
        }
        return entries
    }

    /// What this hook is told of this change: an `open` once it takes the incident, then the
    /// announced updates and the resolve.
    private mutating func events(for hook: Hook, change: IncidentChange) -> [Hook.Event] {
        let id = change.incident.id
        let scope = scopes[id] ?? Scope()
        guard !scope.opened.contains(hook.id) else {
            return change.announce.filter { $0 != .open && hook.events.contains($0) }
        }
        // Taken at the first announced change that qualifies, while the incident is open (or
        // opened and resolved within one batch); an incident merged away is never taken.
        let created = change.announce.contains(.open)
        guard change.incident.state == .open || created, change.kind != .absorbed || created,
              hook.routing.takes(change.incident, customers: scope.customers.count) else { return [] }
        scopes[id, default: Scope()].opened.insert(hook.id)
        var result: [Hook.Event] = []
        if hook.events.contains(.open) { result.append(.open) }
        if change.announce.contains(.resolve) && hook.events.contains(.resolve) { result.append(.resolve) }
        return result
    }

    /// Lines and customers an incident hit, as its tickets say (tests, status).
    public func scope(of id: IncidentID) -> (lines: Int, customers: Int, merged: [IncidentID]) {
        let scope = scopes[id] ?? Scope()
        return (scope.lines.count, scope.customers.count, scope.merged)
    }

    private mutating func apply(_ change: IncidentChange) {
        let id = change.incident.id
        // Taken out of the table while it changes: a copy left in it would make the first change
        // copy every line of the scope (at each change of a 200,000-line incident).
        var scope = scopes.removeValue(forKey: id) ?? Scope()
        for interval in change.lines {
            let start = interval.start.unixMilliseconds
            if let end = interval.end, end.unixMilliseconds <= start {
                // Ended where it started: the line was found unaffected (its probe answered).
                if scope.lines[interval.line]?.start == start { scope.remove(interval.line) }
            } else {
                scope.add(interval.line, customer: interval.customer, start: start, end: interval.end?.unixMilliseconds ?? 0)
            }
        }
        if let survivor = change.absorbedInto {
            var target = scopes.removeValue(forKey: survivor) ?? Scope()
            for (line, entry) in scope.lines {
                target.add(line, customer: entry.customer, start: entry.start, end: entry.end)
            }
            scope.lines = [:]
            scope.customers = [:]
            // Kept sorted without sorting it again at each of thousands of merges: ids mostly
            // come in increasing order (appended), otherwise put in place.
            if target.merged.last.map({ $0 < id }) ?? true {
                target.merged.append(id)
            } else {
                var (low, high) = (0, target.merged.count)
                while low < high {
                    let middle = (low + high) / 2
                    if target.merged[middle] < id { low = middle + 1 } else { high = middle }
                }
                if target.merged[low] != id { target.merged.insert(id, at: low) }
            }
            scopes[survivor] = target
        }
        scopes[id] = scope
        if change.kind == .resolve || change.kind == .absorbed { forgetOldResolved(adding: id) }
    }

    private mutating func forgetOldResolved(adding id: IncidentID) {
        resolved.append(id)
        guard resolved.count - resolvedHead > Self.resolvedLimit else { return }
        scopes[resolved[resolvedHead]] = nil
        resolvedHead += 1
        if resolvedHead > Self.resolvedLimit {
            resolved.removeFirst(resolvedHead)
            resolvedHead = 0
        }
    }

    /// The event document: what hook templates render (`docs/ticketing.md` lists every key; keys
    /// are only ever added). It holds no secret and no ticket: those are added at delivery.
    func document(_ change: IncidentChange, event: Hook.Event, scope: Scope) -> String {
        let incident = change.incident
        let rootElement: ElementID?
        switch incident.root.subject {
        case .element(let element), .port(let element, _): rootElement = element
        case .line: rootElement = nil
        }
        let root = rootElement.flatMap { inventory.elements[$0] }
        var incidentObject: [String: Any] = [
            "id": incident.id.rawValue, "state": incident.state.rawValue, "severity": incident.severity.rawValue,
            "root": ["type": incident.root.subject.kind, "id": incident.root.subject.identifier,
                     "kind": incident.root.kind.rawValue, "name": root?.name ?? incident.root.subject.identifier,
                     "element_kind": root.map { $0.kind.rawValue } ?? ""],
            "lines": scope.lines.count, "customers": scope.customers.count,
            "classification": incident.classification.rawValue, "planned": incident.planned,
            "flapping": incident.flapping, "proactive": incident.proactive,
            "started_at": RFC3339.format(incident.startedAt), "detected_at": RFC3339.format(incident.detectedAt),
            "resolved_at": incident.resolvedAt.map(RFC3339.format) ?? "",
            "merged": scope.merged.map(\.rawValue),
            "summary": change.timeline.map(\.detail).joined(separator: "\n"),
            "link": inventory.publicURL.map { "\($0)/incidents/\(incident.id.rawValue)" } ?? "",
        ]
        incidentObject["merged_into"] = incident.mergedInto.map { $0.rawValue as Any } ?? NSNull()
        let lines = scope.lines.keys.sorted().prefix(Self.listed).map { line -> [String: Any] in
            let entry = scope.lines[line]!
            func instant(_ milliseconds: Int64) -> String {
                milliseconds == 0 ? "" : RFC3339.format(Date(unixMilliseconds: milliseconds))
            }
            return ["id": line.rawValue, "customer": entry.customer.rawValue, "start": instant(entry.start),
                    "end": instant(entry.end)]
        }
        let customers = scope.customers.keys.sorted().prefix(Self.listed).map { customer -> [String: Any] in
            ["id": customer.rawValue, "name": inventory.customers[customer] ?? ""]
        }
        let object: [String: Any] = [
            "event": event.rawValue, "change": change.kind.rawValue, "incident": incidentObject,
            "lines": lines, "lines_more": max(0, scope.lines.count - lines.count),
            "customers": customers, "customers_more": max(0, scope.customers.count - customers.count),
        ]
        return CanonicalJSON.encode(object)
    }
}

/// JSON with object keys in code-point order and no insignificant space, so one document is
/// always the same bytes; for the values event documents hold (strings, integers, booleans,
/// null, arrays, objects). Foundation's `.sortedKeys` compares keys through the locale's
/// collator, which costs more than the rest of announcing and delivering an event together.
enum CanonicalJSON {
    static func encode(_ value: Any) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    static func write(_ value: Any, into out: inout String) {
        switch value {
        case let text as String:
            out += "\""
            out += JSONContent().escapeText(text)
            out += "\""
        case let flag as Bool: out += flag ? "true" : "false"
        case let number as Int: out += String(number)
        case let number as Int64: out += String(number)
        case let object as [String: Any]:
            out += "{"
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                write(key, into: &out)
                out += ":"
                write(object[key]!, into: &out)
            }
            out += "}"
        case let array as [Any]:
            out += "["
            for (index, element) in array.enumerated() {
                if index > 0 { out += "," }
                write(element, into: &out)
            }
            out += "]"
        default: out += "null"
        }
    }
}
