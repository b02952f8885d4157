import Foundation
import ForewarnModel
import Persistence
import PostgresNIO

/// A stored value this version cannot read (an unknown enum value, a missing column): an error
/// naming the table and row, never silently a default.
struct StoredRowError: Error, CustomStringConvertible {
    var table: String
    var key: String
    var problem: String
    var description: String { "table \(table), \(key): \(problem)" }
}

/// Reads one row of one table, strictly (as the SQLite store's reader does).
struct PostgresRowReader {
    let table: String
    let row: PostgresRandomAccessRow
    private let givenKey: String?

    init(_ table: String, _ row: PostgresRandomAccessRow, key: String? = nil) {
        self.table = table
        self.row = row
        givenKey = key
    }

    var key: String {
        if let givenKey { return givenKey }
        if row.contains("id"), let id = try? row["id"].decode(Int64?.self) {
            return "row \(id)"
        }
        if row.contains("id"), let id = try? row["id"].decode(String?.self) { return "row \(id)" }
        return "a row"
    }

    func fail(_ problem: String) -> StoredRowError { StoredRowError(table: table, key: key, problem: problem) }

    private func cell(_ column: String) throws -> PostgresCell {
        guard row.contains(column) else { throw fail("no column \(column)") }
        return row[column]
    }

    func value<T: PostgresDecodable>(_ column: String) throws -> T {
        let cell = try cell(column)
        guard cell.bytes != nil else { throw fail("column \(column) is NULL, not a \(T.self)") }
        do {
            return try cell.decode(T.self)
        } catch {
            throw fail("column \(column) of type \(cell.dataType) is not a \(T.self)")
        }
    }

    func optional<T: PostgresDecodable>(_ column: String) throws -> T? {
        let cell = try cell(column)
        guard cell.bytes != nil else { return nil }
        do {
            return try cell.decode(T.self)
        } catch {
            throw fail("column \(column) of type \(cell.dataType) is not a \(T.self)")
        }
    }

    func int(_ column: String) throws -> Int { Int(try value(column) as Int64) }

    func date(_ column: String) throws -> Date { Date(unixMilliseconds: try value(column)) }

    func optionalDate(_ column: String) throws -> Date? { try optional(column).map { Date(unixMilliseconds: $0) } }

    func choice<E: RawRepresentable & CaseIterable>(_ column: String, _ type: E.Type) throws -> E
    where E.RawValue == String {
        let text: String = try value(column)
        guard let choice = E(rawValue: text) else {
            throw fail("unknown \(column) '\(text)' (known: \(E.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return choice
    }

    /// A JSON array of strings in a column; anything else is an error naming the row.
    func strings(_ column: String) throws -> [String] {
        guard let strings = CommandCoding.strings(try value(column) as String) else {
            throw fail("column \(column) is not a JSON array of strings")
        }
        return strings
    }

    func subject(type typeColumn: String, id idColumn: String) throws -> Subject {
        let type: String = try value(typeColumn)
        let id: String = try value(idColumn)
        switch type {
        case "element": return .element(ElementID(id))
        case "line": return .line(LineID(id))
        case "port":
            guard let slash = id.firstIndex(of: "/"), let port = PortReference(id[id.index(after: slash)...]) else {
                throw fail("\(idColumn) '\(id)' is not ELEMENT/PORT")
            }
            return .port(ElementID(String(id[..<slash])), port)
        default:
            throw fail("unknown \(typeColumn) '\(type)'")
        }
    }
}

/// Incident rows and the rows that hang off them.
enum PostgresIncidentRows {
    static let headerColumns = "id, state, root_type, root_id, root_kind, group_key, severity, planned, proactive, "
        + "flapping, classification, started_at, detected_at, first_call_at, acknowledged_at, resolved_at, merged_into, "
        + "updated_at, entered_by, entered_at"

    static func incident(_ reader: PostgresRowReader) throws -> Incident {
        Incident(
            id: IncidentID(try reader.value("id")), state: try reader.choice("state", Incident.State.self),
            root: IncidentRoot(subject: try reader.subject(type: "root_type", id: "root_id"),
                               kind: try reader.choice("root_kind", RootKind.self)),
            group: try reader.value("group_key"),
            severity: try reader.choice("severity", Severity.self), planned: try reader.value("planned"),
            proactive: try reader.value("proactive"), flapping: try reader.value("flapping"),
            classification: try reader.choice("classification", Classification.self),
            startedAt: try reader.date("started_at"), detectedAt: try reader.date("detected_at"),
            firstCallAt: try reader.optionalDate("first_call_at"),
            acknowledgedAt: try reader.optionalDate("acknowledged_at"),
            resolvedAt: try reader.optionalDate("resolved_at"),
            mergedInto: try (reader.optional("merged_into") as Int64?).map { IncidentID($0) },
            updatedAt: try reader.date("updated_at"), enteredBy: try reader.optional("entered_by"),
            enteredAt: try reader.optionalDate("entered_at"))
    }

    static func interval(_ reader: PostgresRowReader) throws -> LineInterval {
        LineInterval(line: LineID(try reader.value("line") as String),
                     customer: CustomerID(try reader.value("customer") as String),
                     start: try reader.date("start_at"), end: try reader.optionalDate("end_at"))
    }

    static func fault(_ reader: PostgresRowReader) throws -> FaultRecord {
        FaultRecord(subject: try reader.subject(type: "subject_type", id: "subject_id"),
                    health: try reader.choice("kind", Health.self), since: try reader.date("started_at"),
                    detectedAt: try reader.date("detected_at"), clearedAt: try reader.optionalDate("cleared_at"),
                    flapping: try reader.value("flapping"))
    }

    static func ticket(_ reader: PostgresRowReader) throws -> Ticket {
        Ticket(incident: IncidentID(try reader.value("incident_id")), hook: HookID(try reader.value("hook") as String),
               ticketID: try reader.value("ticket_id"), state: try reader.optional("state"),
               openedAt: try reader.date("opened_at"), updatedAt: try reader.date("updated_at"))
    }
}
