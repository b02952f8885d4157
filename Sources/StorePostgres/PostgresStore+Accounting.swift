import Foundation
import ForewarnModel
import Persistence
import PostgresNIO

/// The credit ledger, billing periods, and the reads credits and reports are computed from.
extension PostgresStore {
    public func appendLedger(_ entries: [LedgerEntry]) async throws(StoreError) {
        guard !entries.isEmpty else { return }
        try await write("append \(entries.count) ledger entries") { connection in
            try await self.insertLedger(entries, connection)
        }
    }

    /// `closing`: the period this transaction is closing (its row just written), whose entries go in.
    private func insertLedger(_ entries: [LedgerEntry], _ connection: PostgresConnection, closing: String? = nil) async throws {
        let periods = Array(Set(entries.map(\.period)).subtracting(closing.map { [$0] } ?? [])).sorted()
        // FOR SHARE: a period being closed at this moment is waited for, then seen closed.
        if let closed = try await rows(connection, """
            SELECT period FROM credit_period WHERE period = ANY(\(periods)) ORDER BY period LIMIT 1 FOR SHARE
            """, table: "credit_period").first {
            throw StoredValueError(table: "credit_period", key: "period \(try closed.value("period") as String)",
                                 problem: "the period is closed: its ledger is never changed (book an adjustment)")
        }
        for chunk in entries.chunked(5_000) {
            try await connection.query("""
                INSERT INTO credit_ledger (period, line, customer, contract, kind, amount_minor, currency, outage_ms,
                                           reason, created_at, adjusts_period, incident_ids)
                SELECT p, l, cu, co, k, a, cur, o, r, c, NULLIF(adj, ''), ids FROM unnest(
                    \(chunk.map(\.period)), \(chunk.map(\.line.rawValue)), \(chunk.map(\.customer.rawValue)),
                    \(chunk.map(\.contract.rawValue)), \(chunk.map(\.kind.rawValue)), \(chunk.map(\.amount.minorUnits)),
                    \(chunk.map(\.amount.currency)), \(chunk.map(\.outageMilliseconds)), \(chunk.map(\.reason)),
                    \(chunk.map(\.createdAt.unixMilliseconds)), \(chunk.map { $0.adjusts ?? "" }),
                    \(chunk.map { $0.incidents.map { String($0.rawValue) }.joined(separator: " ") }))
                    WITH ORDINALITY AS t(p, l, cu, co, k, a, cur, o, r, c, adj, ids, n)
                ORDER BY n
                """, logger: logger)
        }
    }

    public func ledger(period: String) async throws(StoreError) -> [LedgerEntry] {
        try await read("read the ledger of \(period)") { connection in
            try await self.rows(connection, "SELECT * FROM credit_ledger WHERE period = \(period) ORDER BY id",
                                table: "credit_ledger").map(StoredRows.ledgerEntry)
        }
    }

    public func ledger(adjusting period: String) async throws(StoreError) -> [LedgerEntry] {
        try await read("read the adjustments of \(period)") { connection in
            try await self.rows(connection, "SELECT * FROM credit_ledger WHERE adjusts_period = \(period) ORDER BY id",
                                table: "credit_ledger").map(StoredRows.ledgerEntry)
        }
    }

    public func closeCreditPeriod(_ period: ClosedCreditPeriod, entries: [LedgerEntry]) async throws(StoreError) {
        try await write("close credit period \(period.period)") { connection in
            // The period's row first: a second closer waits on it and then fails, as does a
            // concurrent append (FOR SHARE).
            let inserted = try await connection.query("""
                INSERT INTO credit_period (period, closed_at, document, csv)
                VALUES (\(period.period), \(period.closedAt.unixMilliseconds), \(period.document), \(period.csv.map { Data($0) }))
                ON CONFLICT (period) DO NOTHING RETURNING period
                """, logger: self.logger).collect()
            guard !inserted.isEmpty else {
                throw StoredValueError(table: "credit_period", key: "period \(period.period)", problem: "already closed")
            }
            try await self.insertLedger(entries, connection, closing: period.period)
        }
    }

    public func closedCreditPeriod(_ period: String) async throws(StoreError) -> ClosedCreditPeriod? {
        try await read("read credit period \(period)") { connection in
            try await self.rows(connection, "SELECT * FROM credit_period WHERE period = \(period)", table: "credit_period")
                .first.map { reader in
                    let csv: ByteBuffer? = try reader.optional("csv")
                    return ClosedCreditPeriod(period: period, closedAt: try reader.date("closed_at"),
                                              document: try reader.value("document"),
                                              csv: csv.map { Array($0.readableBytesView) })
                }
        }
    }

    public func closedCreditPeriods() async throws(StoreError) -> [(period: String, closedAt: Date)] {
        let rows = try await read("list credit periods") { connection in
            try await self.rows(connection, "SELECT period, closed_at FROM credit_period ORDER BY period",
                                table: "credit_period").map { reader in
                ClosedPeriod(period: try reader.value("period"), closedAt: try reader.date("closed_at"))
            }
        }
        return rows.map { ($0.period, $0.closedAt) }
    }

    public func ledgerTotals(periods: [String]) async throws(StoreError) -> [String: [String: Int64]] {
        try await read("read ledger totals") { connection in
            var totals: [String: [String: Int64]] = [:]
            for reader in try await self.rows(connection, """
                SELECT period, currency, SUM(amount_minor)::bigint AS total FROM credit_ledger
                WHERE period = ANY(\(Array(Set(periods)))) GROUP BY period, currency
                """, table: "credit_ledger") {
                totals[try reader.value("period"), default: [:]][try reader.value("currency")] = try reader.value("total")
            }
            return totals
        }
    }
}

private struct ClosedPeriod: Sendable {
    var period: String
    var closedAt: Date
}
