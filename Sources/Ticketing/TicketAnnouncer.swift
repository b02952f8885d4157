import Foundation
import ForewarnModel
import Persistence

/// The first stage of ticketing: decides what each hook is told about incident changes. Pure
/// and synchronous: the correlator's changes in, outbox entries out, which the store writes in
/// the same transaction as the changes.
///
/// It keeps the scope of every incident it has seen (every line ever in scope and the incidents
/// merged into it) so a ticket says how many lines and customers the incident hit, recovered
/// from the store after a restart.
public struct TicketAnnouncer: Sendable {
    struct Scope: Sendable {
        /// Line → (customer, start of its latest interval in this incident, Unix ms).
        var lines: [LineID: (customer: CustomerID, start: Int64)] = [:]
        var customers: [CustomerID: Int] = [:]
        var merged: [IncidentID] = []

        mutating func add(_ line: LineID, customer: CustomerID, start: Int64) {
            if lines.updateValue((customer, start), forKey: line) == nil { customers[customer, default: 0] += 1 }
        }

        mutating func remove(_ line: LineID) {
            guard let (customer, _) = lines.removeValue(forKey: line) else { return }
            customers[customer, default: 1] -= 1
            if customers[customer] == 0 { customers[customer] = nil }
        }
    }

    private var scopes: [IncidentID: Scope] = [:]
    /// Resolved incidents in the order they resolved; the oldest are forgotten past the limit.
    private var resolved: [IncidentID] = []
    private var resolvedHead = 0
    static var resolvedLimit: Int { 10_000 }

    public init(recovered: [IncidentID: IncidentScope] = [:]) {
        for (id, recoveredScope) in recovered {
            var scope = Scope()
            for (line, customer) in recoveredScope.lines { scope.add(line, customer: customer, start: 0) }
            scope.merged = recoveredScope.merged.sorted()
            scopes[id] = scope
        }
    }

    /// The outbox entries for one batch of changes. Every change's scope is applied first, so an
    /// announcement sees the batch complete (a survivor's update lists what merged into it).
    public mutating func announce(_ changes: [IncidentChange], hooks: [Hook]) -> [OutboxEntry] {
        for change in changes { apply(change) }
        var entries: [OutboxEntry] = []
        for change in changes {
            for event in change.announce {
                let subscribed = hooks.filter { $0.events.contains(event) }
                guard !subscribed.isEmpty else { continue }
                let payload = Self.payload(change, event: event, scope: scopes[change.incident.id] ?? Scope())
                for hook in subscribed {
                    entries.append(OutboxEntry(incident: change.incident.id, hook: hook.id, event: event, payload: payload))
                }
            }
        }
        return entries
    }

    /// Lines and customers an incident hit, as its tickets say (tests, status).
    public func scope(of id: IncidentID) -> (lines: Int, customers: Int, merged: [IncidentID]) {
        let scope = scopes[id] ?? Scope()
        return (scope.lines.count, scope.customers.count, scope.merged)
    }

    private mutating func apply(_ change: IncidentChange) {
        let id = change.incident.id
        var scope = scopes[id] ?? Scope()
        for interval in change.lines {
            let start = interval.start.unixMilliseconds
            if let end = interval.end, end.unixMilliseconds <= start {
                // Ended where it started: the line was found unaffected (its probe answered).
                if scope.lines[interval.line]?.start == start { scope.remove(interval.line) }
            } else {
                scope.add(interval.line, customer: interval.customer, start: start)
            }
        }
        if let survivor = change.absorbedInto {
            var target = scopes[survivor] ?? Scope()
            for (line, entry) in scope.lines { target.add(line, customer: entry.customer, start: entry.start) }
            scope.lines = [:]
            scope.customers = [:]
            target.merged = Array(Set(target.merged + [id])).sorted()
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

    /// What a hook template gets: the incident as it stands after the change. Keys are a
    /// contract for hook templates: only ever added.
    static func payload(_ change: IncidentChange, event: Hook.Event, scope: Scope) -> String {
        let incident = change.incident
        var object: [String: Any] = [
            "event": event.rawValue, "change": change.kind.rawValue, "id": incident.id.rawValue,
            "state": incident.state.rawValue,
            "root": ["type": incident.root.subject.kind, "id": incident.root.subject.identifier,
                     "kind": incident.root.kind.rawValue],
            "severity": incident.severity.rawValue, "lines": scope.lines.count, "customers": scope.customers.count,
            "classification": incident.classification.rawValue, "flapping": incident.flapping,
            "started_at": RFC3339.format(incident.startedAt), "detected_at": RFC3339.format(incident.detectedAt),
            "merged": scope.merged.map(\.rawValue),
            "summary": change.timeline.map(\.detail).joined(separator: "\n"),
        ]
        object["resolved_at"] = incident.resolvedAt.map(RFC3339.format) ?? NSNull()
        object["merged_into"] = incident.mergedInto.map { $0.rawValue as Any } ?? NSNull()
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
