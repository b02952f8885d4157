import Foundation
import ForewarnModel
import GRDB
import Persistence

/// Billing periods and the compact reads of a billing run.
extension SQLiteStore {
    public func closeCreditPeriod(_ period: ClosedCreditPeriod, entries: [LedgerEntry]) async throws(StoreError) {
        try await write("close credit period \(period.period)") { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM credit_period WHERE period = ?", arguments: [period.period]) != nil {
                throw StoredValueError(table: "credit_period", key: "period \(period.period)", problem: "already closed")
            }
            try Self.insertLedger(entries, db)
            try db.execute(sql: "INSERT INTO credit_period (period, closed_at, document, csv) VALUES (?, ?, ?, ?)",
                           arguments: [period.period, period.closedAt.unixMilliseconds, period.document,
                                       period.csv.map { Data($0) }])
        }
    }

    public func closedCreditPeriod(_ period: String) async throws(StoreError) -> ClosedCreditPeriod? {
        try await read("read credit period \(period)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM credit_period WHERE period = ?", arguments: [period]).map { row in
                let reader = RowReader("credit_period", row, key: "period \(period)")
                let csv: Data? = try reader.optional("csv")
                return ClosedCreditPeriod(period: period, closedAt: try reader.date("closed_at"),
                                          document: try reader.value("document"), csv: csv.map { [UInt8]($0) })
            }
        }
    }

    public func closedCreditPeriods() async throws(StoreError) -> [(period: String, closedAt: Date)] {
        let rows = try await read("list credit periods") { db in
            try Row.fetchAll(db, sql: "SELECT period, closed_at FROM credit_period ORDER BY period").map { row in
                let reader = RowReader("credit_period", row, key: "period \(row["period"] as String? ?? "?")")
                return ClosedPeriodRow(period: try reader.value("period"), closedAt: try reader.date("closed_at"))
            }
        }
        return rows.map { ($0.period, $0.closedAt) }
    }

    public func lineOutageIntervals(from: Date, to: Date, lines: Set<LineID>?) async throws(StoreError)
        -> LineOutageIntervals
    {
        try await read("read line outage intervals") { db in
            var result = LineOutageIntervals()
            let range: StatementArguments = [to.unixMilliseconds, from.unixMilliseconds]
            let select = """
                SELECT line, customer, incident_id, start_at, end_at FROM incident_line
                WHERE start_at < ? AND (end_at IS NULL OR end_at > ?)
                """
            func collect(_ cursor: RowCursor) throws {
                while let row = try cursor.next() {
                    result.intervals.append(LineOutageInterval(
                        line: LineID(row[0] as String), customer: CustomerID(row[1] as String),
                        incident: IncidentID(row[2]), startMilliseconds: row[3], endMilliseconds: row[4]))
                }
            }
            if let lines {
                // In chunks below SQLite's bound-parameter limit.
                let sorted = lines.map(\.rawValue).sorted()
                for start in stride(from: 0, to: sorted.count, by: 500) {
                    let chunk = Array(sorted[start..<min(start + 500, sorted.count)])
                    let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                    try collect(try Row.fetchCursor(db, sql: select + " AND line IN (\(marks))",
                                                    arguments: range + StatementArguments(chunk)))
                }
                result.intervals.sort { ($0.line, $0.startMilliseconds, $0.incident) < ($1.line, $1.startMilliseconds, $1.incident) }
            } else {
                try collect(try Row.fetchCursor(db, sql: select + " ORDER BY line, start_at, incident_id", arguments: range))
            }
            let ids = Set(result.intervals.map(\.incident.rawValue))
            let headers = try Row.fetchCursor(db, sql: """
                SELECT * FROM incident WHERE id IN (
                    SELECT DISTINCT incident_id FROM incident_line WHERE start_at < ? AND (end_at IS NULL OR end_at > ?))
                """, arguments: range)
            while let row = try headers.next() {
                let incident = try IncidentRows.incident(row)
                if ids.contains(incident.id.rawValue) { result.incidents[incident.id] = incident }
            }
            return result
        }
    }

    /// One pass over the covering index `incident_line_report` (line, start_at, end_at,
    /// incident_id, customer): the intervals arrive grouped by line and in start order, so they
    /// go straight into the table's columns — no sort, no map from line to index.
    public func lineOutageTable(from: Date, to: Date, lines: Set<LineID>?) async throws(StoreError) -> LineOutageTable {
        if let lines {
            return LineOutageTable(try await lineOutageIntervals(from: from, to: to, lines: lines))
        }
        return try await read("read line outage intervals") { db in
            var table = LineOutageTable()
            var ids = Set<Int64>()
            // The (start, incident) of the interval the current line's customer was taken from.
            var customerKey: (Int64, Int64) = (0, 0)
            var current = ""
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT line, incident_id, start_at, end_at, customer FROM incident_line INDEXED BY incident_line_report
                WHERE start_at < ? AND (end_at IS NULL OR end_at > ?)
                ORDER BY line, start_at
                """, arguments: [to.unixMilliseconds, from.unixMilliseconds])
            while let row = try cursor.next() {
                let line: String = row[0]
                let incident: Int64 = row[1]
                let start: Int64 = row[2]
                if line != current || table.lines.isEmpty {
                    if !table.lines.isEmpty { table.lineBounds.append(table.intervalStarts.count) }
                    current = line
                    table.lines.append(LineID(line))
                    table.customers.append(CustomerID(row[4] as String))
                    customerKey = (start, incident)
                } else if start == customerKey.0 && incident < customerKey.1 {
                    // Same start, lower incident: that interval's customer is the line's.
                    table.customers[table.customers.count - 1] = CustomerID(row[4] as String)
                    customerKey = (start, incident)
                }
                table.intervalIncidents.append(incident)
                table.intervalStarts.append(start)
                table.intervalEnds.append(row.hasNull(atIndex: 3) ? LineOutageTable.stillOpen : row[3])
                ids.insert(incident)
            }
            if !table.lines.isEmpty { table.lineBounds.append(table.intervalStarts.count) }
            table.incidents = try Self.incidentHeaders(ids, db)
            return table
        }
    }

    /// The headers of `ids`, by primary key, in chunks below SQLite's bound-parameter limit.
    static func incidentHeaders(_ ids: Set<Int64>, _ db: Database) throws -> [IncidentID: Incident] {
        var headers: [IncidentID: Incident] = [:]
        headers.reserveCapacity(ids.count)
        let sorted = ids.sorted()
        for start in stride(from: 0, to: sorted.count, by: 500) {
            let chunk = Array(sorted[start..<min(start + 500, sorted.count)])
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let statement = try db.makeStatement(sql: "SELECT \(IncidentRows.headerColumns) FROM incident WHERE id IN (\(marks))")
            let rows = try Row.fetchCursor(statement, arguments: StatementArguments(chunk))
            while let row = try rows.next() {
                let incident = try IncidentRows.header(row, of: statement)
                headers[incident.id] = incident
            }
        }
        return headers
    }

    public func linesChanged(since: Date, from: Date, to: Date) async throws(StoreError) -> Set<LineID> {
        try await read("read lines changed since \(RFC3339.format(since))") { db in
            Set(try String.fetchAll(db, sql: """
                SELECT DISTINCT l.line FROM incident i JOIN incident_line l ON l.incident_id = i.id
                WHERE i.updated_at > ? AND l.start_at < ? AND (l.end_at IS NULL OR l.end_at > ?)
                """, arguments: [since.unixMilliseconds, to.unixMilliseconds, from.unixMilliseconds]).map(LineID.init))
        }
    }
}

private struct ClosedPeriodRow: Sendable {
    var period: String
    var closedAt: Date
}
