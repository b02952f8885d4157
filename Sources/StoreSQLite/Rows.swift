import Foundation
import ForewarnModel
import GRDB
import Persistence

/// A stored value that this version cannot read: an unknown enum value, a missing column. Reads
/// are strict: such a row is an error naming the table and row, never silently a default (a
/// classification read as `network` would pay a credit).
struct StoredValueError: Error, CustomStringConvertible {
    var table: String
    var key: String
    var problem: String
    var description: String { "table \(table), \(key): \(problem)" }
}

/// Reads one row of one table, strictly.
struct RowReader {
    let table: String
    let row: Row
    let key: String

    init(_ table: String, _ row: Row, key: String? = nil) {
        self.table = table
        self.row = row
        if let key {
            self.key = key
        } else if let id = row["id"] as DatabaseValue?, !id.isNull {
            self.key = "row \(id.description)"
        } else {
            self.key = "a row"
        }
    }

    func fail(_ problem: String) -> StoredValueError { StoredValueError(table: table, key: key, problem: problem) }

    func value<T: DatabaseValueConvertible>(_ column: String) throws -> T {
        guard row.hasColumn(column) else { throw fail("no column \(column)") }
        guard let value = row[column] as T? else {
            throw fail("column \(column) holds \(row[column] as DatabaseValue), not a \(T.self)")
        }
        return value
    }

    func optional<T: DatabaseValueConvertible>(_ column: String) throws -> T? {
        guard row.hasColumn(column) else { throw fail("no column \(column)") }
        let stored = row[column] as DatabaseValue
        if stored.isNull { return nil }
        guard let value = T.fromDatabaseValue(stored) else {
            throw fail("column \(column) holds \(stored), not a \(T.self)")
        }
        return value
    }

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
enum IncidentRows {
    static func incident(_ row: Row) throws -> Incident {
        let reader = RowReader("incident", row)
        return Incident(
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
            mergedInto: try reader.optional("merged_into").map { IncidentID($0) },
            updatedAt: try reader.date("updated_at"), enteredBy: try reader.optional("entered_by"),
            enteredAt: try reader.optionalDate("entered_at"))
    }

    static func interval(_ row: Row) throws -> LineInterval {
        let reader = RowReader("incident_line", row,
                               key: "incident \(row["incident_id"] ?? "?") line \(row["line"] ?? "?")")
        return LineInterval(line: LineID(try reader.value("line") as String),
                            customer: CustomerID(try reader.value("customer") as String),
                            start: try reader.date("start_at"), end: try reader.optionalDate("end_at"))
    }

    static func fault(_ row: Row) throws -> FaultRecord {
        let reader = RowReader("fault", row)
        return FaultRecord(subject: try reader.subject(type: "subject_type", id: "subject_id"),
                           health: try reader.choice("kind", Health.self), since: try reader.date("started_at"),
                           detectedAt: try reader.date("detected_at"), clearedAt: try reader.optionalDate("cleared_at"),
                           flapping: try reader.value("flapping"))
    }

    static func ticket(_ row: Row) throws -> Ticket {
        let reader = RowReader("ticket", row, key: "incident \(row["incident_id"] ?? "?") hook \(row["hook"] ?? "?")")
        return Ticket(incident: IncidentID(try reader.value("incident_id")), hook: HookID(try reader.value("hook") as String),
                      ticketID: try reader.value("ticket_id"), state: try reader.optional("state"),
                      openedAt: try reader.date("opened_at"), updatedAt: try reader.date("updated_at"))
    }
}
