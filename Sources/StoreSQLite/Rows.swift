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
    private let givenKey: String?
    /// Where each column is in the row, when the statement selected a fixed list of columns:
    /// values are then read by position instead of by name (a name lookup per value is most of
    /// the cost of reading tens of thousands of incident headers).
    let positions: [String: Int]?
    /// The statement `row` is the current row of, read through directly in positional mode.
    let statement: SQLiteStatement?

    init(_ table: String, _ row: Row, key: String? = nil, positions: [String: Int]? = nil,
         statement: SQLiteStatement? = nil) {
        self.table = table
        self.row = row
        self.positions = positions
        self.statement = statement
        givenKey = key
    }

    /// How the row is named in a message: made only when one is (most rows are read without).
    var key: String {
        if let givenKey { return givenKey }
        let id: DatabaseValue? = positions.map { $0["id"].map { row[$0] } } ?? (row.hasColumn("id") ? row["id"] : nil)
        if let id, !id.isNull { return "row \(id.description)" }
        return "a row"
    }

    func fail(_ problem: String) -> StoredValueError { StoredValueError(table: table, key: key, problem: problem) }

    private func stored(_ column: String) throws -> DatabaseValue {
        if let positions {
            guard let index = positions[column] else { throw fail("no column \(column)") }
            if let statement { return DatabaseValue(sqliteStatement: statement, index: CInt(index)) }
            return row[index]
        }
        guard row.hasColumn(column) else { throw fail("no column \(column)") }
        return row[column]
    }

    func value<T: DatabaseValueConvertible>(_ column: String) throws -> T {
        let stored = try stored(column)
        guard let value = T.fromDatabaseValue(stored) else {
            throw fail("column \(column) holds \(stored), not a \(T.self)")
        }
        return value
    }

    func optional<T: DatabaseValueConvertible>(_ column: String) throws -> T? {
        let stored = try stored(column)
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
enum IncidentRows {
    /// Every column an incident header is read from, for statements that read many headers:
    /// `SELECT \(headerColumns) FROM incident …`, read with `header(_:)`.
    static let headerColumnNames = ["id", "state", "root_type", "root_id", "root_kind", "group_key", "severity",
                                    "planned", "proactive", "flapping", "classification", "started_at", "detected_at",
                                    "first_call_at", "acknowledged_at", "resolved_at", "merged_into", "updated_at",
                                    "entered_by", "entered_at"]
    static let headerColumns = headerColumnNames.joined(separator: ", ")
    static let headerPositions = Dictionary(uniqueKeysWithValues: headerColumnNames.enumerated().map { ($1, $0) })

    /// A header from the current row of `statement`, a `SELECT \(headerColumns)`: as strict as
    /// `incident(_:)`, by position.
    static func header(_ row: Row, of statement: Statement) throws -> Incident {
        try incident(RowReader("incident", row, positions: headerPositions, statement: statement.sqliteStatement))
    }

    static func incident(_ row: Row) throws -> Incident {
        try incident(RowReader("incident", row))
    }

    static func incident(_ reader: RowReader) throws -> Incident {
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
