import Foundation
import ForewarnModel
import GRDB
import Persistence

/// Reads one row of one table, strictly.
struct RowReader: StoredRow {
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

    func int64(_ column: String) throws -> Int64 { try value(column) }
    func optionalInt64(_ column: String) throws -> Int64? { try optional(column) }
    func text(_ column: String) throws -> String { try value(column) }
    func optionalText(_ column: String) throws -> String? { try optional(column) }
    func bool(_ column: String) throws -> Bool { try value(column) }
}

/// Incident rows and the rows that hang off them.
enum IncidentRows {
    /// Every column an incident header is read from, for statements that read many headers:
    /// `SELECT \(headerColumns) FROM incident …`, read with `header(_:)`.
    static let headerColumns = StoredRows.headerColumns
    static let headerPositions = Dictionary(uniqueKeysWithValues: StoredRows.headerColumnNames.enumerated().map { ($1, $0) })

    /// A header from the current row of `statement`, a `SELECT \(headerColumns)`: as strict as
    /// `incident(_:)`, by position.
    static func header(_ row: Row, of statement: Statement) throws -> Incident {
        try StoredRows.incident(RowReader("incident", row, positions: headerPositions, statement: statement.sqliteStatement))
    }

    static func incident(_ row: Row) throws -> Incident { try StoredRows.incident(RowReader("incident", row)) }

    static func interval(_ row: Row) throws -> LineInterval {
        try StoredRows.interval(RowReader("incident_line", row,
                                          key: "incident \(row["incident_id"] ?? "?") line \(row["line"] ?? "?")"))
    }

    static func fault(_ row: Row) throws -> FaultRecord { try StoredRows.fault(RowReader("fault", row)) }

    static func ticket(_ row: Row) throws -> Ticket {
        try StoredRows.ticket(RowReader("ticket", row, key: "incident \(row["incident_id"] ?? "?") hook \(row["hook"] ?? "?")"))
    }
}
