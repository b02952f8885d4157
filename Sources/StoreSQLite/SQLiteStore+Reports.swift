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
            let statement = try db.makeStatement(sql: """
                SELECT \(IncidentRows.headerColumns) FROM incident WHERE detected_at >= ? AND detected_at < ? ORDER BY id
                """)
            let rows = try Row.fetchCursor(statement, arguments: [from.unixMilliseconds, to.unixMilliseconds])
            while let row = try rows.next() { incidents.append(try IncidentRows.header(row, of: statement)) }
            return incidents
        }
    }

    /// The `incident_line_report` index (migration 0009) holds every column read, in the order
    /// wanted: no table lookups, no sort. A large store is read in two parts at once, split at
    /// the median line of a sample of rows, each on its own reader connection, so that two cores
    /// step SQLite (a quarter of a large network is millions of intervals). Each part is one read
    /// transaction holding its lines whole, with their incidents' headers; a change committed
    /// between the two parts' first reads (begun together) shows in one part only, as it would
    /// between two calls.
    public func reportLineTables(from: Date, to: Date) async throws(StoreError) -> [LineOutageTable] {
        let range = (to.unixMilliseconds, from.unixMilliseconds)
        let threshold = reportSplitRows
        let (rows, split) = try await read("sample lines for a report") { db in
            let rows = try Int64.fetchOne(db, sql: "SELECT MAX(rowid) FROM incident_line") ?? 0
            return (rows, rows >= threshold ? try Self.medianLine(db, rows: rows) : nil)
        }
        // Room for every row the table holds (an upper bound), in each part: memory not written
        // to is never resident, and the columns are not copied over and over as they grow.
        let room = Int(min(rows, Self.reportReservedRows))
        guard let split else {
            return [try await read("read line intervals for a report") { db in
                try Self.reportLines(db, range: range, below: nil, from: nil, room: room)
            }]
        }
        async let low = readOutcome("read line intervals for a report") { db in
            try Self.reportLines(db, range: range, below: split, from: nil, room: room)
        }
        async let high = readOutcome("read line intervals for a report") { db in
            try Self.reportLines(db, range: range, below: nil, from: split, room: room)
        }
        return [try await low.get(), try await high.get()]
    }

    /// At most this many rows' room is set aside ahead (24 bytes each, untouched until written).
    static let reportReservedRows: Int64 = 64_000_000

    /// `read`, with its failure as a value: `async let` does not keep a typed error.
    func readOutcome<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async
        -> Result<T, StoreError>
    {
        do {
            return .success(try await read(operation, body))
        } catch {
            return .failure(error)
        }
    }

    /// The median line of 500 rows spread evenly over `incident_line`'s row ids (`rows` the
    /// largest); nil when the sample has a single line.
    static func medianLine(_ db: Database, rows: Int64) throws -> String? {
        let samples = (1...500).map { rows * Int64($0) / 501 }
        let marks = Array(repeating: "?", count: samples.count).joined(separator: ",")
        let lines = try String.fetchAll(db, sql: "SELECT line FROM incident_line WHERE rowid IN (\(marks))",
                                        arguments: StatementArguments(samples))
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        guard let first = lines.first, let median = lines.dropFirst(lines.count / 2).first, median != first else {
            return nil
        }
        return median
    }

    /// The intervals of the lines in `[from, below)` (either bound may be open) overlapping
    /// `range` (`(to, from)` in Unix ms), with their incidents' headers. The line and customer
    /// texts are compared as bytes and made strings only when the line changes.
    static func reportLines(_ db: Database, range: (Int64, Int64), below: String?, from lowest: String?,
                            room: Int) throws -> LineOutageTable {
        var table = LineOutageTable()
        table.intervalStarts.reserveCapacity(room)
        table.intervalEnds.reserveCapacity(room)
        table.intervalIncidents.reserveCapacity(room)
        var conditions = ["start_at < ?", "(end_at IS NULL OR end_at > ?)"]
        var arguments: StatementArguments = [range.0, range.1]
        if let below {
            conditions.append("line < ?")
            arguments += [below]
        }
        if let lowest {
            conditions.append("line >= ?")
            arguments += [lowest]
        }
        let statement = try db.makeStatement(sql: """
            SELECT line, start_at, IFNULL(end_at, \(LineOutageTable.stillOpen)), incident_id, customer
            FROM incident_line INDEXED BY incident_line_report
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY line, start_at, end_at, incident_id
            """)
        let sqlite = statement.sqliteStatement
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        var previous: [UInt8] = []
        var ids = SeenIDs()
        try cursor.forEach { _ in
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
            table.intervalEnds.append(sqlite3_column_int64(sqlite, 2))
            let incident = sqlite3_column_int64(sqlite, 3)
            table.intervalIncidents.append(incident)
            ids.insert(incident)
        }
        if !table.lines.isEmpty { table.lineBounds.append(table.intervalStarts.count) }
        table.incidents = try incidentHeaders(ids.all, db)
        return table
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

/// The incident ids met while scanning millions of intervals, at a bit each: ids come from one
/// allocator counting from 1, so they are dense; any beyond 2^26 go to a set.
struct SeenIDs {
    private var bits: [UInt64] = []
    private var others = Set<Int64>()

    mutating func insert(_ id: Int64) {
        guard id >= 0 && id < 1 << 26 else {
            others.insert(id)
            return
        }
        let word = Int(id >> 6)
        if word >= bits.count { bits.append(contentsOf: repeatElement(0, count: max(word + 1 - bits.count, bits.count))) }
        bits[word] |= 1 << UInt64(id & 63)
    }

    var all: Set<Int64> {
        var all = others
        for (index, word) in bits.enumerated() where word != 0 {
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 { all.insert(Int64(index) << 6 | Int64(bit)) }
        }
        return all
    }
}
