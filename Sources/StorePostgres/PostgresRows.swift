import Foundation
import ForewarnModel
import Persistence
import PostgresNIO

/// Reads one row of one table, strictly (as the SQLite store's reader does).
struct PostgresRowReader: StoredRow {
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

    func int64(_ column: String) throws -> Int64 { try value(column) }
    func optionalInt64(_ column: String) throws -> Int64? { try optional(column) }
    func text(_ column: String) throws -> String { try value(column) }
    func optionalText(_ column: String) throws -> String? { try optional(column) }
    func bool(_ column: String) throws -> Bool { try value(column) }
}
