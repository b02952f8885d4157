import Foundation
import ForewarnModel
import Persistence

/// What `forewarn incidents` prints. The JSON is a stable contract (docs/incidents-json.md):
/// keys are only ever added, never renamed or removed; instants are RFC 3339 in UTC, null
/// where not yet known.
public enum IncidentList {
    public static func json(_ records: [IncidentRecord]) -> String {
        let array = records.map(object)
        guard let data = try? JSONSerialization.data(withJSONObject: array,
                                                     options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }

    static func object(_ record: IncidentRecord) -> [String: Any] {
        let incident = record.incident
        func instant(_ date: Date?) -> Any { date.map(RFC3339.format) ?? NSNull() }
        var ticket: Any = NSNull()
        if let first = record.ticket {
            ticket = ["id": first.ticketID, "state": first.state.map { $0 as Any } ?? NSNull()] as [String: Any]
        }
        return [
            "id": incident.id.rawValue,
            "state": incident.state.rawValue,
            "root": ["type": incident.root.subject.kind, "id": incident.root.subject.identifier,
                     "kind": incident.root.kind.rawValue],
            "lines": record.lines.map { interval -> [String: Any] in
                ["id": interval.line.rawValue, "start": RFC3339.format(interval.start), "end": instant(interval.end)]
            },
            "customers": record.customers.map(\.rawValue),
            "severity": incident.severity.rawValue,
            "planned": incident.planned,
            "proactive": incident.proactive,
            "flapping": incident.flapping,
            "classification": incident.classification.rawValue,
            "started_at": RFC3339.format(incident.startedAt),
            "detected_at": RFC3339.format(incident.detectedAt),
            "ticketed_at": instant(record.ticket?.openedAt),
            "first_call_at": instant(incident.firstCallAt),
            "acknowledged_at": instant(incident.acknowledgedAt),
            "resolved_at": instant(incident.resolvedAt),
            "merged_into": incident.mergedInto.map { $0.rawValue as Any } ?? NSNull(),
            "ticket": ticket,
            "manual": incident.isManual,
            "entered_by": incident.enteredBy.map { $0 as Any } ?? NSNull(),
            "entered_at": instant(incident.enteredAt),
        ]
    }

    /// `forewarn incident show`: the incident, its lines and its timeline.
    public static func detail(_ detail: IncidentDetail) -> String {
        let record = detail.record
        var text = self.text([record])
        text += "\n  lines:"
        for interval in record.lines {
            text += "\n    \(interval.line) (\(interval.customer)) \(RFC3339.format(interval.start)) – "
                + (interval.end.map(RFC3339.format) ?? "ongoing")
        }
        if record.lines.isEmpty { text += " none" }
        text += "\n  timeline:"
        for entry in detail.timeline {
            text += "\n    \(RFC3339.format(entry.at)) \(TerminalText.escape(entry.kind)): \(TerminalText.escape(entry.detail))"
        }
        return text
    }

    public static func detailJSON(_ detail: IncidentDetail) -> String {
        var object = self.object(detail.record)
        object["timeline"] = detail.timeline.map { ["at": RFC3339.format($0.at), "kind": $0.kind, "detail": $0.detail] }
        guard let data = try? JSONSerialization.data(withJSONObject: object,
                                                     options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func text(_ records: [IncidentRecord]) -> String {
        guard !records.isEmpty else { return "no incidents" }
        return records.map { record in
            let incident = record.incident
            var flags: [String] = []
            if incident.isManual {
                flags.append("manual (entered" + (incident.enteredBy.map { $0.isEmpty ? "" : " by \(TerminalText.escape($0))" } ?? "")
                             + (incident.enteredAt.map { " \(RFC3339.format($0))" } ?? "") + ")")
            }
            if incident.planned { flags.append("planned") }
            if incident.flapping { flags.append("flapping") }
            if !incident.proactive { flags.append("customer-reported first") }
            if incident.acknowledgedAt != nil { flags.append("acknowledged") }
            if let survivor = incident.mergedInto { flags.append("merged into \(survivor)") }
            if incident.classification != .network && incident.classification != .planned {
                flags.append(incident.classification.rawValue)
            }
            let lines = Set(record.lines.map(\.line)).count
            var text = "\(incident.id) \(incident.state.rawValue) \(incident.severity.rawValue): \(incident.root) — "
                + "\(lines) line\(lines == 1 ? "" : "s"), \(record.customers.count) customer"
                + "\(record.customers.count == 1 ? "" : "s")"
            text += "\n    started \(RFC3339.format(incident.startedAt)), detected \(RFC3339.format(incident.detectedAt))"
            if let call = incident.firstCallAt { text += ", first call \(RFC3339.format(call))" }
            if let resolved = incident.resolvedAt { text += ", resolved \(RFC3339.format(resolved))" }
            if let ticket = record.ticket { text += ", ticket \(TerminalText.escape(ticket.ticketID))" }
            if !flags.isEmpty { text += "\n    " + flags.joined(separator: ", ") }
            return text
        }.joined(separator: "\n")
    }
}
