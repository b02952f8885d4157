import Foundation
import ForewarnModel
import Persistence
import PostgresNIO

/// The reads billing runs and operations reports are computed from. Rows are streamed from the
/// server (never the whole result held as rows) straight into the columns.
extension PostgresStore {
    public func lineIntervals(from: Date, to: Date) async throws(StoreError) -> [IncidentLineInterval] {
        try await read("read line intervals", bulk: true) { connection in
            let intervals = try await self.rows(connection, """
                SELECT * FROM incident_line WHERE start_at < \(to.unixMilliseconds)
                  AND (end_at IS NULL OR end_at > \(from.unixMilliseconds))
                ORDER BY line, start_at, incident_id
                """, table: "incident_line")
            let ids = Array(Set(try intervals.map { try $0.value("incident_id") as Int64 }))
            let headers = try await self.headers(ids, connection)
            return try intervals.map { reader in
                let id: Int64 = try reader.value("incident_id")
                guard let header = headers[IncidentID(id)] else {
                    throw reader.fail("names incident \(id), which does not exist")
                }
                return IncidentLineInterval(incident: header, interval: try StoredRows.interval(reader))
            }
        }
    }

    public func lineOutageIntervals(from: Date, to: Date, lines: Set<LineID>?) async throws(StoreError)
        -> LineOutageIntervals
    {
        try await read("read line outage intervals", bulk: true) { connection in
            var result = LineOutageIntervals()
            let only = lines.map { $0.map(\.rawValue) } ?? []
            let rows = try await connection.query("""
                SELECT line, customer, incident_id, start_at, end_at FROM incident_line
                WHERE start_at < \(to.unixMilliseconds) AND (end_at IS NULL OR end_at > \(from.unixMilliseconds))
                  AND (\(lines == nil) OR line = ANY(\(only)))
                ORDER BY line, start_at, incident_id
                """, logger: self.logger)
            for try await (line, customer, incident, start, end) in rows.decode((String, String, Int64, Int64, Int64?).self) {
                result.intervals.append(LineOutageInterval(line: LineID(line), customer: CustomerID(customer),
                                                           incident: IncidentID(incident), startMilliseconds: start,
                                                           endMilliseconds: end))
            }
            result.incidents = try await self.headers(Array(Set(result.intervals.map(\.incident.rawValue))), connection)
            return result
        }
    }

    public func lineOutageTable(from: Date, to: Date, lines: Set<LineID>?) async throws(StoreError) -> LineOutageTable {
        if let lines {
            return LineOutageTable(try await lineOutageIntervals(from: from, to: to, lines: lines))
        }
        return try await read("read line outage intervals", bulk: true) { connection in
            try await self.table(from: from, to: to, connection)
        }
    }

    public func reportLineTables(from: Date, to: Date) async throws(StoreError) -> [LineOutageTable] {
        try await read("read line intervals for a report", bulk: true) { connection in
            [try await self.table(from: from, to: to, connection)]
        }
    }

    /// Every line's intervals overlapping `[from, to)` as columns, in line order (bytes: the
    /// columns are `COLLATE "C"`), each line's intervals by start; a line's customer is the one
    /// stored with its earliest interval (the lower incident at a tie).
    private func table(from: Date, to: Date, _ connection: PostgresConnection) async throws -> LineOutageTable {
        var table = LineOutageTable()
        var ids = Set<Int64>()
        var current = ""
        let rows = try await connection.query("""
            SELECT line, start_at, COALESCE(end_at, \(LineOutageTable.stillOpen)), incident_id, customer FROM incident_line
            WHERE start_at < \(to.unixMilliseconds) AND (end_at IS NULL OR end_at > \(from.unixMilliseconds))
            ORDER BY line, start_at, incident_id, end_at
            """, logger: logger)
        for try await (line, start, end, incident, customer) in rows.decode((String, Int64, Int64, Int64, String).self) {
            if table.lines.isEmpty || line != current {
                if !table.lines.isEmpty { table.lineBounds.append(table.intervalStarts.count) }
                current = line
                table.lines.append(LineID(line))
                table.customers.append(CustomerID(customer))
            }
            table.intervalStarts.append(start)
            table.intervalEnds.append(end)
            table.intervalIncidents.append(incident)
            ids.insert(incident)
        }
        if !table.lines.isEmpty { table.lineBounds.append(table.intervalStarts.count) }
        table.incidents = try await headers(Array(ids), connection)
        return table
    }

    /// The headers of `ids`, by primary key.
    func headers(_ ids: [Int64], _ connection: PostgresConnection) async throws -> [IncidentID: Incident] {
        var headers: [IncidentID: Incident] = [:]
        headers.reserveCapacity(ids.count)
        for chunk in ids.sorted().chunked(20_000) {
            for reader in try await rows(connection, """
                SELECT \(unescaped: StoredRows.headerColumns) FROM incident WHERE id = ANY(\(Array(chunk)))
                """, table: "incident") {
                let incident = try StoredRows.incident(reader)
                headers[incident.id] = incident
            }
        }
        return headers
    }

    public func linesChanged(since: Date, from: Date, to: Date) async throws(StoreError) -> Set<LineID> {
        try await read("read lines changed since \(RFC3339.format(since))") { connection in
            var lines = Set<LineID>()
            let rows = try await connection.query("""
                SELECT DISTINCT l.line FROM incident i JOIN incident_line l ON l.incident_id = i.id
                WHERE i.updated_at > \(since.unixMilliseconds) AND l.start_at < \(to.unixMilliseconds)
                  AND (l.end_at IS NULL OR l.end_at > \(from.unixMilliseconds))
                """, logger: self.logger)
            for try await line in rows.decode(String.self) { lines.insert(LineID(line)) }
            return lines
        }
    }

    public func incidents(detectedFrom from: Date, to: Date) async throws(StoreError) -> [Incident] {
        try await read("read incidents detected from \(RFC3339.format(from)) to \(RFC3339.format(to))") { connection in
            try await self.rows(connection, """
                SELECT \(unescaped: StoredRows.headerColumns) FROM incident
                WHERE detected_at >= \(from.unixMilliseconds) AND detected_at < \(to.unixMilliseconds) ORDER BY id
                """, table: "incident").map(StoredRows.incident)
        }
    }
}
