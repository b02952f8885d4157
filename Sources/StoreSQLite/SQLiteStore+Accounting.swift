import Foundation
import ForewarnModel
import GRDB
import Persistence

/// The credit ledger, and the reads credits and reports are computed from.
extension SQLiteStore {
    public func appendLedger(_ entries: [LedgerEntry]) async throws(StoreError) {
        guard !entries.isEmpty else { return }
        try await write("append \(entries.count) ledger entries") { db in
            try Self.insertLedger(entries, db)
        }
    }

    static func insertLedger(_ entries: [LedgerEntry], _ db: Database) throws {
        let closed = try db.cachedStatement(sql: "SELECT 1 FROM credit_period WHERE period = ?")
        for period in Set(entries.map(\.period)) where try Bool.fetchOne(closed, arguments: [period]) != nil {
            throw StoredValueError(table: "credit_period", key: "period \(period)",
                                   problem: "the period is closed: its ledger is never changed (book an adjustment)")
        }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO credit_ledger (period, line, customer, contract, kind, amount_minor, currency, outage_ms,
                                       reason, created_at, adjusts_period, incident_ids)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for entry in entries {
            try statement.execute(arguments: [entry.period, entry.line.rawValue, entry.customer.rawValue,
                                              entry.contract.rawValue, entry.kind.rawValue, entry.amount.minorUnits,
                                              entry.amount.currency, entry.outageMilliseconds, entry.reason,
                                              entry.createdAt.unixMilliseconds, entry.adjusts,
                                              entry.incidents.map { String($0.rawValue) }.joined(separator: " ")])
        }
    }

    public func ledger(period: String) async throws(StoreError) -> [LedgerEntry] {
        try await read("read the ledger of \(period)") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM credit_ledger WHERE period = ? ORDER BY id", arguments: [period])
                .map(Self.ledgerEntry)
        }
    }

    public func ledger(adjusting period: String) async throws(StoreError) -> [LedgerEntry] {
        try await read("read the adjustments of \(period)") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM credit_ledger WHERE adjusts_period = ? ORDER BY id",
                             arguments: [period]).map(Self.ledgerEntry)
        }
    }

    static func ledgerEntry(_ row: Row) throws -> LedgerEntry { try StoredRows.ledgerEntry(RowReader("credit_ledger", row)) }

    public func lineIntervals(from: Date, to: Date) async throws(StoreError) -> [IncidentLineInterval] {
        try await read("read line intervals") { db in
            var headers: [Int64: Incident] = [:]
            let header = try db.cachedStatement(sql: "SELECT * FROM incident WHERE id = ?")
            return try Row.fetchAll(db, sql: """
                SELECT * FROM incident_line WHERE start_at < ? AND (end_at IS NULL OR end_at > ?)
                ORDER BY line, start_at, incident_id
                """, arguments: [to.unixMilliseconds, from.unixMilliseconds]).map { row in
                let id: Int64 = row["incident_id"]
                if headers[id] == nil {
                    guard let incidentRow = try Row.fetchOne(header, arguments: [id]) else {
                        throw RowReader("incident_line", row).fail("names incident \(id), which does not exist")
                    }
                    headers[id] = try IncidentRows.incident(incidentRow)
                }
                return IncidentLineInterval(incident: headers[id]!, interval: try IncidentRows.interval(row))
            }
        }
    }
}
