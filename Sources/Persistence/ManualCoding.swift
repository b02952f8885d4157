import Foundation
import ForewarnModel

/// Incidents entered by hand and corrections, as JSON in `operator_command.payload`. Reading is
/// strict: a missing or unknown value is a problem (the command is refused), never a default.
enum ManualCoding {
    struct Problem: Error {
        var text: String
    }

    static func object(_ incident: ManualIncident) -> [String: Any] {
        var object: [String: Any] = [
            "id": incident.id.rawValue, "lines": incident.lines.map(\.rawValue),
            "start": incident.start.unixMilliseconds, "note": incident.note, "by": incident.by,
            "at": incident.at.unixMilliseconds, "source": incident.source,
        ]
        switch incident.scope {
        case .lines: object["scope"] = "lines"
        case .element(let element): object["scope"] = "element"; object["scope_id"] = element.rawValue
        case .customer(let customer): object["scope"] = "customer"; object["scope_id"] = customer.rawValue
        }
        if let end = incident.end { object["end"] = end.unixMilliseconds }
        if let classification = incident.classification { object["classification"] = classification.rawValue }
        if let call = incident.firstCall { object["first_call"] = call.unixMilliseconds }
        if let ticket = incident.ticket { object["ticket"] = ticket }
        return object
    }

    static func incident(_ object: [String: Any]) -> Result<ManualIncident, Problem> {
        let fields = Fields(object)
        do {
            let scope: ManualIncident.Scope
            switch try fields.string("scope") {
            case "lines": scope = .lines
            case "element": scope = .element(ElementID(try fields.string("scope_id")))
            case "customer": scope = .customer(CustomerID(try fields.string("scope_id")))
            case let other: throw Problem(text: "unknown scope '\(other)'")
            }
            return .success(ManualIncident(
                id: IncidentID(try fields.integer("id")), scope: scope, lines: try fields.strings("lines").map { LineID($0) },
                start: try fields.date("start"), end: try fields.optionalDate("end"),
                classification: try fields.optionalClassification("classification"),
                note: try fields.string("note"), firstCall: try fields.optionalDate("first_call"),
                ticket: try fields.optionalString("ticket"), by: try fields.string("by"), at: try fields.date("at"),
                source: try fields.string("source")))
        } catch let problem as Problem {
            return .failure(problem)
        } catch {
            return .failure(Problem(text: "\(error)"))
        }
    }

    static func object(_ edit: IncidentEdit) -> [String: Any] {
        var result: [String: Any] = [
            "incident": edit.incident.rawValue, "reason": edit.reason, "by": edit.by, "at": edit.at.unixMilliseconds,
            "header": object(edit.header),
        ]
        if let interval = edit.interval {
            result["interval"] = ["old": object(interval.old), "new": object(interval.new)]
        }
        if let classification = edit.classification { result["classification"] = classification.rawValue }
        return result
    }

    static func edit(_ object: [String: Any]) -> Result<IncidentEdit, Problem> {
        let fields = Fields(object)
        do {
            var interval: IncidentEdit.Interval?
            if let intervalObject = object["interval"] {
                guard let intervalObject = intervalObject as? [String: Any],
                      let old = intervalObject["old"] as? [String: Any], let new = intervalObject["new"] as? [String: Any]
                else { throw Problem(text: "interval needs old and new") }
                interval = IncidentEdit.Interval(old: try Self.interval(old), new: try Self.interval(new))
            }
            guard let header = object["header"] as? [String: Any] else { throw Problem(text: "missing header") }
            return .success(IncidentEdit(
                incident: IncidentID(try fields.integer("incident")), interval: interval,
                classification: try fields.optionalClassification("classification"), reason: try fields.string("reason"),
                by: try fields.string("by"), at: try fields.date("at"), header: try incident(header: header)))
        } catch let problem as Problem {
            return .failure(problem)
        } catch {
            return .failure(Problem(text: "\(error)"))
        }
    }

    static func object(_ interval: LineInterval) -> [String: Any] {
        var object: [String: Any] = ["line": interval.line.rawValue, "customer": interval.customer.rawValue,
                                     "start": interval.start.unixMilliseconds]
        if let end = interval.end { object["end"] = end.unixMilliseconds }
        return object
    }

    static func interval(_ object: [String: Any]) throws -> LineInterval {
        let fields = Fields(object)
        return LineInterval(line: LineID(try fields.string("line")), customer: CustomerID(try fields.string("customer")),
                            start: try fields.date("start"), end: try fields.optionalDate("end"))
    }

    static func object(_ incident: Incident) -> [String: Any] {
        var object: [String: Any] = [
            "id": incident.id.rawValue, "state": incident.state.rawValue, "root_type": incident.root.subject.kind,
            "root_id": incident.root.subject.identifier, "root_kind": incident.root.kind.rawValue,
            "group": incident.group, "severity": incident.severity.rawValue, "planned": incident.planned,
            "proactive": incident.proactive, "flapping": incident.flapping,
            "classification": incident.classification.rawValue, "started_at": incident.startedAt.unixMilliseconds,
            "detected_at": incident.detectedAt.unixMilliseconds, "updated_at": incident.updatedAt.unixMilliseconds,
        ]
        let optional: [(String, Date?)] = [("first_call_at", incident.firstCallAt),
                                           ("acknowledged_at", incident.acknowledgedAt),
                                           ("resolved_at", incident.resolvedAt), ("entered_at", incident.enteredAt)]
        for (key, date) in optional { if let date { object[key] = date.unixMilliseconds } }
        if let merged = incident.mergedInto { object["merged_into"] = merged.rawValue }
        if let by = incident.enteredBy { object["entered_by"] = by }
        return object
    }

    static func incident(header object: [String: Any]) throws -> Incident {
        let fields = Fields(object)
        let rootID = try fields.string("root_id")
        let subject: Subject
        switch try fields.string("root_type") {
        case "element": subject = .element(ElementID(rootID))
        case "line": subject = .line(LineID(rootID))
        case "port":
            guard let slash = rootID.firstIndex(of: "/"), let port = PortReference(rootID[rootID.index(after: slash)...])
            else { throw Problem(text: "root_id '\(rootID)' is not ELEMENT/PORT") }
            subject = .port(ElementID(String(rootID[..<slash])), port)
        case let other: throw Problem(text: "unknown root_type '\(other)'")
        }
        return Incident(
            id: IncidentID(try fields.integer("id")), state: try fields.choice("state", Incident.State.self),
            root: IncidentRoot(subject: subject, kind: try fields.choice("root_kind", RootKind.self)),
            group: try fields.string("group"), severity: try fields.choice("severity", Severity.self),
            planned: try fields.bool("planned"), proactive: try fields.bool("proactive"),
            flapping: try fields.bool("flapping"),
            classification: try fields.choice("classification", Classification.self),
            startedAt: try fields.date("started_at"), detectedAt: try fields.date("detected_at"),
            firstCallAt: try fields.optionalDate("first_call_at"),
            acknowledgedAt: try fields.optionalDate("acknowledged_at"),
            resolvedAt: try fields.optionalDate("resolved_at"),
            mergedInto: try fields.optionalInteger("merged_into").map { IncidentID($0) },
            updatedAt: try fields.date("updated_at"), enteredBy: try fields.optionalString("entered_by"),
            enteredAt: try fields.optionalDate("entered_at"))
    }

    /// Typed access to a JSON object's values; a missing or mistyped one is a `Problem`.
    struct Fields {
        let object: [String: Any]
        init(_ object: [String: Any]) { self.object = object }

        func string(_ key: String) throws -> String {
            guard let value = object[key] as? String else { throw Problem(text: "missing \(key)") }
            return value
        }

        func optionalString(_ key: String) throws -> String? {
            guard let value = object[key] else { return nil }
            guard let text = value as? String else { throw Problem(text: "\(key) is not a string") }
            return text
        }

        func strings(_ key: String) throws -> [String] {
            guard let value = object[key] as? [String] else { throw Problem(text: "missing \(key)") }
            return value
        }

        func integer(_ key: String) throws -> Int64 {
            guard let value = try optionalInteger(key) else { throw Problem(text: "missing \(key)") }
            return value
        }

        func optionalInteger(_ key: String) throws -> Int64? {
            guard let value = object[key] else { return nil }
            guard let number = value as? NSNumber else { throw Problem(text: "\(key) is not a number") }
            return number.int64Value
        }

        func bool(_ key: String) throws -> Bool {
            guard let number = object[key] as? NSNumber else { throw Problem(text: "missing \(key)") }
            return number.boolValue
        }

        func date(_ key: String) throws -> Date { Date(unixMilliseconds: try integer(key)) }

        func optionalDate(_ key: String) throws -> Date? { try optionalInteger(key).map { Date(unixMilliseconds: $0) } }

        func choice<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws -> E where E.RawValue == String {
            let text = try string(key)
            guard let value = E(rawValue: text) else { throw Problem(text: "unknown \(key) '\(text)'") }
            return value
        }

        func optionalClassification(_ key: String) throws -> Classification? {
            guard object[key] != nil else { return nil }
            return try choice(key, Classification.self)
        }
    }
}
