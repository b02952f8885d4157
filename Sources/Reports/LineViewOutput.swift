import Foundation
import ForewarnModel

/// The line view as JSON (every key present, `null` when not known) and as text for the agent on
/// the phone (80 columns).
extension LineView {
    public var json: String {
        let data = try! JSONSerialization.data(withJSONObject: jsonObject,
                                               options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    public var jsonObject: [String: Any] {
        func value(_ optional: (any Sendable)?) -> Any { optional.map { $0 as Any } ?? NSNull() }
        func instant(_ date: Date?) -> Any { date.map { RFC3339.format($0) as Any } ?? NSNull() }
        return [
            "schema": schema,
            "generated_at": RFC3339.format(generatedAt),
            "line": ["id": line.id, "customer": line.customer, "customer_name": value(line.customerName),
                     "element": line.element, "port": value(line.port), "probe": line.probe, "target": value(line.target),
                     "contract": value(line.contract), "service": line.service],
            "state": ["health": state.health, "since": instant(state.since), "evidence": value(state.evidence),
                      "source": state.source],
            "last_probe": lastProbe.map { probe -> Any in
                ["at": RFC3339.format(probe.at), "answered": probe.answered, "rtt_milliseconds": value(probe.rttMilliseconds)]
            } ?? NSNull(),
            "path": path.map { hop -> [String: Any] in
                ["element": hop.element, "name": hop.name, "kind": hop.kind, "health": hop.health,
                 "since": instant(hop.since), "alternates": hop.alternates]
            },
            "incident": incident.map { open -> Any in
                ["id": open.id, "severity": open.severity, "root_type": open.rootType, "root_id": open.rootId,
                 "root_kind": open.rootKind, "since": RFC3339.format(open.since),
                 "line_restored_at": instant(open.lineRestoredAt),
                 "detected_at": RFC3339.format(open.detectedAt), "ticket_id": value(open.ticketId),
                 "ticket_hook": value(open.ticketHook), "ticket_state": value(open.ticketState),
                 "acknowledged": open.acknowledged, "customer_called": open.customerCalled,
                 "called_at": instant(open.calledAt)]
            } ?? NSNull(),
            "month": month.map { month -> Any in
                ["period": month.period, "outage_seconds": month.outageSeconds,
                 "outages": month.outages.map { ["incident": $0.incident, "start": RFC3339.format($0.start), "end": instant($0.end)] },
                 "credit_amount": value(month.creditAmount), "credit_minor_units": value(month.creditMinorUnits),
                 "currency": value(month.currency), "credit_note": value(month.creditNote)]
            } ?? NSNull(),
            "report_call": reportCall,
            "notes": notes,
        ]
    }

    /// A view as another process wrote it (`forewarn line` reading the daemon's answer).
    public static func decode(json: Data) throws -> LineView {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a time: \(text)"))
            }
            return date
        }
        return try decoder.decode(LineView.self, from: json)
    }

    public var text: String {
        typealias F = ReportFormatting
        let e = TerminalText.escape
        func ago(_ date: Date) -> String {
            F.duration(milliseconds: max(0, Int64(generatedAt.timeIntervalSince(date) * 1000))) + " ago"
        }
        var out: [String] = []
        out.append("line \(e(line.id)), customer \(e(line.customer))" + (line.customerName.map { " \(e($0))" } ?? ""))
        out.append("  on \(e(line.element))" + (line.port.map { " port \(e($0))" } ?? "") + ", probe \(e(line.probe))"
                   + (line.target.map { " \($0)" } ?? "") + ", service \(line.service)"
                   + (line.contract.map { ", contract \(e($0))" } ?? ""))
        var now = "now: \(state.health.uppercased() == "UP" ? "up" : state.health.uppercased())"
        if let since = state.since { now += " since \(RFC3339.format(since)) (\(ago(since)))" }
        out.append(now)
        if state.source != "daemon" { out.append("  (the daemon did not answer: the last change the store recorded)") }
        if let evidence = state.evidence { out.append("  evidence: \(e(evidence))") }
        if let probe = lastProbe {
            out.append("  last probe \(RFC3339.format(probe.at)) (\(ago(probe.at))): "
                       + (probe.answered ? "answered" + (probe.rttMilliseconds.map { String(format: ", RTT %.1f ms", $0) } ?? "")
                                          : "NO ANSWER"))
        } else {
            out.append("  last probe: not known")
        }
        out.append("path to the core:")
        for hop in path {
            var text = "  \(e(hop.element))"
            if hop.name != hop.element { text += " \(e(hop.name))" }
            text += " (\(hop.kind)): \(hop.health)"
            if hop.health != "up" && hop.health != "unknown", let since = hop.since { text += " since \(RFC3339.format(since))" }
            out.append(text)
            if !hop.alternates.isEmpty { out.append("    also via \(hop.alternates.map(e).joined(separator: ", "))") }
        }
        if let incident {
            out.append("KNOWN OUTAGE: incident #\(incident.id) (\(incident.severity)), root \(e(incident.rootId)) "
                       + "\(incident.rootKind)")
            if let back = incident.lineRestoredAt {
                out.append("  this line back since \(RFC3339.format(back)) (\(ago(back)))")
                out.append("  the incident goes on for other lines" + (incident.acknowledged ? "; acknowledged" : ""))
            } else {
                out.append("  this line out since \(RFC3339.format(incident.since)) (\(ago(incident.since)))"
                           + (incident.acknowledged ? ", acknowledged" : ""))
            }
            out.append("  ticket: " + (incident.ticketId.map { "\(e($0)) (\(e(incident.ticketHook ?? "")))"
                + (incident.ticketState.map { ", \(e($0))" } ?? "") } ?? "none yet"))
            out.append("  customer " + (incident.calledAt.map { "already called, logged \(RFC3339.format($0))" }
                                        ?? "has not called about this line yet"))
        } else {
            out.append("no open incident covers this line")
        }
        if let month {
            out.append("\(month.period): \(month.outages.count) outage\(month.outages.count == 1 ? "" : "s"), "
                       + (month.outageSeconds == 0 ? "no outage counted"
                          : "\(F.duration(milliseconds: month.outageSeconds * 1000)) counted")
                       + (month.creditAmount.map { ", credit \($0) \(month.currency ?? "")" } ?? ""))
            for outage in month.outages.suffix(5) {
                out.append("  incident #\(outage.incident): \(RFC3339.format(outage.start)) – "
                           + (outage.end.map { RFC3339.format($0) } ?? "ongoing"))
            }
            if let note = month.creditNote { out.append("  \(e(note))") }
        }
        out.append("log the call:")
        out.append("  \(e(reportCall))")
        for note in notes { out.append("note: \(e(note))") }
        return out.map { F.fit($0, 80) }.joined(separator: "\n") + "\n"
    }
}
