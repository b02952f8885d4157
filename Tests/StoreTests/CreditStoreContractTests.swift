import ForewarnModel
import Foundation
import Persistence
import Testing

/// The credit ledger's part of the store contract: closed periods are frozen, adjustments are
/// found by the period they correct, billing runs read compact intervals and what changed.
extension StoreContractTests {
    static func ledgerEntry(_ period: String, _ line: LineID, _ amount: Int64, adjusts: String? = nil) -> LedgerEntry {
        LedgerEntry(period: period, line: line, customer: "C1", contract: "basic", kind: adjusts == nil ? .credit : .adjustment,
                    amount: Money(minorUnits: amount, currency: "CZK"), outageMilliseconds: 3_600_000, reason: "r",
                    createdAt: at(10), adjusts: adjusts, incidents: [IncidentID(1), IncidentID(12)])
    }

    @Test(arguments: implementations) func aClosedPeriodIsFrozen(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            #expect(try await store.closedCreditPeriod("2026-11") == nil)
            let period = ClosedCreditPeriod(period: "2026-11", closedAt: Self.at(20), document: "{\"rows\":[]}\n")
            let entries = [Self.ledgerEntry("2026-11", "L1", 4_000), Self.ledgerEntry("2026-11", "L2", 0)]
            try await store.closeCreditPeriod(period, entries: entries)
            #expect(try await store.closedCreditPeriod("2026-11") == period)
            #expect(try await store.ledger(period: "2026-11") == entries)
            let closed = try await store.closedCreditPeriods()
            #expect(closed.map(\.period) == ["2026-11"] && closed.map(\.closedAt) == [Self.at(20)])
            await #expect(throws: StoreError.self) { try await store.closeCreditPeriod(period, entries: []) }
            await #expect(throws: StoreError.self) { try await store.appendLedger([Self.ledgerEntry("2026-11", "L3", 1)]) }
            #expect(try await store.ledger(period: "2026-11") == entries)
        }
    }

    @Test(arguments: implementations) func adjustmentsAreFoundByThePeriodTheyCorrect(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            let adjustment = Self.ledgerEntry("2026-12", "L2", 4_000, adjusts: "2026-11")
            try await store.appendLedger([Self.ledgerEntry("2026-12", "L1", 100), adjustment])
            #expect(try await store.ledger(adjusting: "2026-11") == [adjustment])
            #expect(try await store.ledger(adjusting: "2026-12").isEmpty)
        }
    }

    @Test(arguments: implementations) func outageIntervalsComeCompactAndWhatChangedIsFound(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            try await Self.open(1, in: store)
            let resolved = Self.incident(1, state: .resolved, resolvedAt: Self.at(60))
            try await store.record(CorrelationBatch(changes: [IncidentChange(kind: .resolve, incident: resolved, lines: [
                LineInterval(line: "L2", customer: "C2", start: Self.at(0), end: Self.at(20)),
            ])], at: Self.at(60)))
            let all = try await store.lineOutageIntervals(from: Self.at(-10), to: Self.at(90), lines: nil)
            #expect(all.intervals == [
                LineOutageInterval(line: "L1", customer: "C1", incident: IncidentID(1),
                                   startMilliseconds: Self.at(0).unixMilliseconds, endMilliseconds: nil),
                LineOutageInterval(line: "L2", customer: "C2", incident: IncidentID(1),
                                   startMilliseconds: Self.at(0).unixMilliseconds, endMilliseconds: Self.at(20).unixMilliseconds),
            ])
            #expect(all.incidents[IncidentID(1)]?.state == .resolved)
            let some = try await store.lineOutageIntervals(from: Self.at(-10), to: Self.at(90), lines: ["L2"])
            #expect(some.intervals.map(\.line) == ["L2"])
            #expect(try await store.lineOutageIntervals(from: Self.at(30), to: Self.at(90), lines: nil).intervals.map(\.line) == ["L1"])

            // The incident was last written at t=5: changed since t=1, not since t=5.
            #expect(try await store.linesChanged(since: Self.at(1), from: Self.at(-10), to: Self.at(90)) == ["L1", "L2"])
            #expect(try await store.linesChanged(since: Self.at(5), from: Self.at(-10), to: Self.at(90)).isEmpty)
            #expect(try await store.linesChanged(since: Self.at(1), from: Self.at(30), to: Self.at(90)) == ["L1"])
        }
    }
}
