import Foundation
import ForewarnModel

/// Operator commands as JSON in `operator_command.payload`; times are Unix milliseconds. Every
/// store writes and reads the same payloads (a store copied keeps its queued commands).
public enum CommandCoding {
    public static func encode(_ command: OperatorCommand) -> (kind: String, payload: String) {
        switch command {
        case .reportCall(let report):
            return ("report-call", json(["line": report.line.rawValue, "at": report.at.unixMilliseconds,
                                         "note": report.note, "source": report.source]))
        case .action(let action):
            var object: [String: Any] = ["incident": action.incident.rawValue, "by": action.by,
                                         "at": action.at.unixMilliseconds]
            let kind: String
            switch action.kind {
            case .acknowledge: kind = "acknowledge"
            case .note(let text): kind = "note"; object["text"] = text
            case .classify(let classification): kind = "classify"; object["classification"] = classification.rawValue
            case .resolve(let note): kind = "resolve"; object["text"] = note
            }
            return (kind, json(object))
        case .maintenanceAdd(let window):
            return ("maintenance-add", json(["id": window.id.rawValue, "start": window.start.unixMilliseconds,
                                             "end": window.end.unixMilliseconds,
                                             "elements": window.elements.map(\.rawValue),
                                             "lines": window.lines.map(\.rawValue), "reason": window.reason]))
        case .maintenanceEnd(let id, let at):
            return ("maintenance-end", json(["id": id.rawValue, "at": at.unixMilliseconds]))
        case .addIncidents(let incidents):
            return ("incident-add", json(["incidents": incidents.map(ManualCoding.object)]))
        case .editIncident(let edit):
            return ("incident-edit", json(ManualCoding.object(edit)))
        }
    }

    public static func decode(kind: String, payload: String) -> (command: OperatorCommand?, problem: String?) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else {
            return (nil, "payload is not a JSON object")
        }
        func string(_ key: String) -> String? { object[key] as? String }
        func date(_ key: String) -> Date? { (object[key] as? NSNumber).map { Date(unixMilliseconds: $0.int64Value) } }
        func list(_ key: String) -> [String] { object[key] as? [String] ?? [] }
        switch kind {
        case "report-call":
            guard let line = string("line"), let at = date("at") else { return (nil, "report-call needs line and at") }
            return (.reportCall(CustomerReport(line: LineID(line), at: at, note: string("note") ?? "",
                                               source: string("source") ?? "cli")), nil)
        case "acknowledge", "note", "classify", "resolve":
            guard let incident = (object["incident"] as? NSNumber)?.int64Value, let at = date("at") else {
                return (nil, "\(kind) needs incident and at")
            }
            let action: OperatorAction.Kind
            switch kind {
            case "acknowledge": action = .acknowledge
            case "note": action = .note(string("text") ?? "")
            case "classify":
                guard let classification = string("classification").flatMap(Classification.init(rawValue:)) else {
                    return (nil, "classify needs a classification")
                }
                action = .classify(classification)
            default: action = .resolve(note: string("text") ?? "")
            }
            return (.action(OperatorAction(incident: IncidentID(incident), kind: action, by: string("by") ?? "",
                                           at: at)), nil)
        case "maintenance-add":
            guard let id = string("id"), let start = date("start"), let end = date("end") else {
                return (nil, "maintenance-add needs id, start and end")
            }
            return (.maintenanceAdd(MaintenanceWindow(id: MaintenanceID(id), start: start, end: end,
                                                      elements: list("elements").map { ElementID($0) },
                                                      lines: list("lines").map { LineID($0) },
                                                      reason: string("reason") ?? "")), nil)
        case "maintenance-end":
            guard let id = string("id"), let at = date("at") else { return (nil, "maintenance-end needs id and at") }
            return (.maintenanceEnd(MaintenanceID(id), at: at), nil)
        case "incident-add":
            guard let list = object["incidents"] as? [[String: Any]] else { return (nil, "incident-add needs incidents") }
            var incidents: [ManualIncident] = []
            incidents.reserveCapacity(list.count)
            for (position, entry) in list.enumerated() {
                switch ManualCoding.incident(entry) {
                case .success(let incident): incidents.append(incident)
                case .failure(let problem): return (nil, "incident-add entry \(position + 1): \(problem.text)")
                }
            }
            return (.addIncidents(incidents), nil)
        case "incident-edit":
            switch ManualCoding.edit(object) {
            case .success(let edit): return (.editIncident(edit), nil)
            case .failure(let problem): return (nil, "incident-edit: \(problem.text)")
            }
        default:
            return (nil, "unknown command kind '\(kind)'")
        }
    }

    public static func json(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A JSON array of strings; nil when the text is anything else.
    public static func strings(_ text: String) -> [String]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String]
    }
}
