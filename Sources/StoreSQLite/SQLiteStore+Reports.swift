import Foundation
import ForewarnModel
import GRDB
import GRDBSQLite
import Persistence

/// The reads operations reports are computed from.
extension SQLiteStore {
    public func incidents(detectedFrom from: Date, to: Date) async throws(StoreError) -> [Incident] {
        try await read("read incidents detected from \(RFC3339.format(from)) to \(RFC3339.format(to))") { db in
            var incidents: [Incident] = []
            let rows = try Row.fetchCursor(db, sql: """
                SELECT * FROM incident WHERE detected_at >= ? AND detected_at < ? ORDER BY id
                """, arguments: [from.unixMilliseconds, to.unixMilliseconds])
            while let row = try rows.next() { incidents.append(try IncidentRows.incident(row)) }
            return incidents
        }
    }

    /// One pass over the `incident_line_report` index (migration 0009), which holds every column
    /// read, in the order wanted: no table lookups, no sort. The line and customer texts are
    /// compared as bytes and made strings only when the line changes (a quarter of a large
    /// network is millions of intervals over a few hundred thousand lines).
    public func reportLineTable(from: Date, to: Date) async throws(StoreError) -> LineOutageTable {
        try await read("read line intervals for a report") { db in
            var table = LineOutageTable()
            let statement = try db.makeStatement(sql: """
                SELECT line, start_at, end_at, incident_id, customer
                FROM incident_line INDEXED BY incident_line_report
                WHERE start_at < ? AND (end_at IS NULL OR end_at > ?)
                ORDER BY line, start_at, end_at, incident_id
                """)
            let sqlite = statement.sqliteStatement
            let cursor = try Row.fetchCursor(statement, arguments: [to.unixMilliseconds, from.unixMilliseconds])
            var previous: [UInt8] = []
            var ids = Set<Int64>()
            while try cursor.next() != nil {
                let text = sqlite3_column_text(sqlite, 0)
                let length = Int(sqlite3_column_bytes(sqlite, 0))
                let sameLine = !table.lines.isEmpty && length == previous.count
                    && (length == 0 || previous.withUnsafeBufferPointer { memcmp($0.baseAddress!, text!, length) == 0 })
                if !sameLine {
                    previous = length == 0 ? [] : Array(UnsafeBufferPointer(start: text, count: length))
                    if !table.lines.isEmpty { table.lineBounds.append(table.intervalStarts.count) }
                    table.lines.append(LineID(String(decoding: previous, as: UTF8.self)))
                    let customer = sqlite3_column_text(sqlite, 4)
                    let customerLength = Int(sqlite3_column_bytes(sqlite, 4))
                    table.customers.append(CustomerID(customer.map {
                        String(decoding: UnsafeBufferPointer(start: $0, count: customerLength), as: UTF8.self)
                    } ?? ""))
                }
                table.intervalStarts.append(sqlite3_column_int64(sqlite, 1))
                table.intervalEnds.append(sqlite3_column_type(sqlite, 2) == SQLITE_NULL
                                          ? LineOutageTable.stillOpen : sqlite3_column_int64(sqlite, 2))
                let incident = sqlite3_column_int64(sqlite, 3)
                table.intervalIncidents.append(incident)
                ids.insert(incident)
            }
            if !table.lines.isEmpty { table.lineBounds.append(table.intervalStarts.count) }
            table.incidents = try Self.incidentHeaders(ids, db)
            return table
        }
    }

    public func ledgerTotals(periods: [String]) async throws(StoreError) -> [String: [String: Int64]] {
        try await read("read ledger totals") { db in
            var totals: [String: [String: Int64]] = [:]
            let statement = try db.cachedStatement(sql: """
                SELECT currency, SUM(amount_minor) AS total FROM credit_ledger WHERE period = ? GROUP BY currency
                """)
            for period in Set(periods) {
                let rows = try Row.fetchCursor(statement, arguments: [period])
                while let row = try rows.next() {
                    let reader = RowReader("credit_ledger", row, key: "period \(period)")
                    let currency: String = try reader.value("currency")
                    let total: Int64 = try reader.value("total")
                    totals[period, default: [:]][currency] = total
                }
            }
            return totals
        }
    }
}
