import Billing
import Foundation
import ForewarnModel
import Persistence
import Stores
import Testing

/// The feed over a real store: the Czech bill line, closing a period, byte-identical re-exports,
/// and a reclassification after the close booked as an adjustment in the next open period.
@Suite struct LedgerTests {
    static func instant(_ text: String) -> Date { RFC3339.parse(text)! }

    /// Fee 400.00 CZK, target 99.9 %, tiers (< 99.9 → 10 %, < 99.5 → 25 %), billed in Prague, in Czech.
    static func inventory() throws -> CreditInventory {
        let tiers = CreditRule.tiers([
            AvailabilityTier(below: Percentage(decimal: "99.9")!, credit: Percentage(decimal: "10")!),
            AvailabilityTier(below: Percentage(decimal: "99.5")!, credit: Percentage(decimal: "25")!),
        ])
        let contract = Contract(id: "K1", name: "Business", monthlyFee: Money(minorUnits: 40_000, currency: "CZK"),
                                availabilityTarget: Percentage(decimal: "99.9")!, creditPolicy: "standard",
                                timeZone: "Europe/Prague", locale: "cs-CZ")
        let lines = ["L1", "L2"].map { id in
            Line(id: LineID(id), customer: CustomerID("C" + id.dropFirst()), element: "acc1", port: nil, probe: .none,
                 target: nil, contract: "K1", service: .data)
        }
        return CreditInventory(lines: lines, contracts: [contract], policies: [CreditPolicy(id: "standard", rules: [tiers])],
                               defaultTimeZone: "Europe/Prague", templates: try StatementTemplates())
    }

    static func incident(_ id: Int64, _ classification: Classification, updated: String) -> Incident {
        Incident(id: IncidentID(id), state: .resolved, root: IncidentRoot(subject: .element("acc1"), kind: .unreachable),
                 group: "element:acc1", severity: .minor, classification: classification,
                 startedAt: instant("2026-11-10T08:00:00Z"), detectedAt: instant("2026-11-10T08:00:05Z"),
                 resolvedAt: instant("2026-11-12T10:00:00Z"), updatedAt: instant(updated))
    }

    /// #1 (network): L1 10 November 9:00–12:00 local. #2 (customer-caused): L2 12 November 10:00–11:00 local.
    static func record(in store: any Store) async throws {
        try await store.record(CorrelationBatch(changes: [
            IncidentChange(kind: .resolve, incident: incident(1, .network, updated: "2026-11-10T11:00:00Z"), lines: [
                LineInterval(line: "L1", customer: "C1", start: instant("2026-11-10T08:00:00Z"), end: instant("2026-11-10T11:00:00Z")),
            ]),
            IncidentChange(kind: .resolve, incident: incident(2, .customerCaused, updated: "2026-11-12T10:00:00Z"), lines: [
                LineInterval(line: "L2", customer: "C2", start: instant("2026-11-12T09:00:00Z"), end: instant("2026-11-12T10:00:00Z")),
            ]),
        ], at: instant("2026-11-12T10:00:00Z")))
    }

    static func withLedger(_ body: (CreditLedger, any Store) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-billing-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try StoreFactory.open(folder + "/forewarn.sqlite", access: .create)
        try await record(in: store)
        try await body(CreditLedger(store: store, inventory: try inventory()), store)
    }

    @Test func theFeedCreditsTheNetworkOutageAndNamesTheExcludedOne() async throws {
        try await Self.withLedger { ledger, _ in
            let feed = try await ledger.feed(BillingPeriod("2026-11")!, now: Self.instant("2026-12-01T10:00:00Z"))
            // L1: 3 h of 720 h → 99.5833 % < 99.9 → 10 % of 400.00 = 40.00 CZK. L2: excluded, credit 0.
            let csv = feed.csv.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
            #expect(csv[0].hasPrefix("customer_id,line_id,contract_id,period,outage_seconds,availability_percent,credit,currency,incident_ids,"))
            #expect(csv[0].hasSuffix(",statement"))
            // The statement has commas: quoted (RFC 4180). L2's tiers rule gives 0.00.
            #expect(csv[1] == "C1,L1,K1,2026-11,10800,99.5833,40.00,CZK,1,40.00,,,,credit,,,\"Výpadek služby 10. 11. 2026 9:00–12:00 (3 h), sleva 40,00 Kč\"")
            #expect(csv[2] == "C2,L2,K1,2026-11,0,100.0000,0.00,CZK,,0.00,,,,credit,,incident #2 customer-caused: 3600 s,")
            #expect(csv.count == 4 && csv[3].isEmpty)
            #expect(feed.json.contains("\"reason\" : \"incident #2 customer-caused\""))
            #expect(feed.only(customer: "C2").rows.map(\.line) == ["L2"])
            #expect(feed.text.contains("excluded: incident #2 customer-caused, 3600 s"))
        }
    }

    @Test func aPeriodCannotBeClosedBeforeItEnds() async throws {
        try await Self.withLedger { ledger, _ in
            // November ends at 1 December 00:00 in Prague, 30 November 23:00 UTC.
            await #expect(throws: BillingError.self) {
                _ = try await ledger.close(BillingPeriod("2026-11")!, now: Self.instant("2026-11-30T22:59:59Z"))
            }
        }
    }

    @Test func aClosedPeriodIsExportedByteForByteAndChangesBecomeAdjustments() async throws {
        try await Self.withLedger { ledger, store in
            let november = BillingPeriod("2026-11")!
            let closeTime = Self.instant("2026-12-01T10:00:00Z")
            let before = try await ledger.feed(november, now: closeTime)
            let closed = try await ledger.close(november, now: closeTime)
            #expect(closed.csv == before.csv)
            await #expect(throws: BillingError.self) { _ = try await ledger.close(november, now: closeTime) }
            #expect(try await store.ledger(period: "2026-11").map(\.amount.minorUnits) == [4_000, 0])

            // After the close, #2 is reclassified as a network fault.
            try await store.record(CorrelationBatch(changes: [
                IncidentChange(kind: .update, incident: Self.incident(2, .network, updated: "2026-12-03T09:00:00Z")),
            ], at: Self.instant("2026-12-03T09:00:00Z")))
            let again = try await ledger.feed(november, now: Self.instant("2026-12-20T00:00:00Z"))
            #expect(again.csv == closed.csv)
            #expect(again.json == closed.json)
            #expect(again.text == closed.text)

            // December books it: L2 1 h of 720 h → 99.8611 % < 99.9 → 10 % = 40.00 CZK, credited 0.00 → +40.00.
            let december = try await ledger.feed(BillingPeriod("2026-12")!, now: Self.instant("2026-12-20T00:00:00Z"))
            #expect(december.rows.count == 1)
            let adjustment = try #require(december.rows.first)
            #expect(adjustment.kind == .adjustment)
            #expect(adjustment.adjusts == "2026-11")
            #expect(adjustment.line == "L2")
            #expect(adjustment.credit == "40.00")
            #expect(adjustment.incidents == [2])
            #expect(adjustment.note == "corrects 2026-11 for line L2: credited 0.00 CZK, now 40.00 CZK (incident #2 now network)")
            #expect(adjustment.statement == "Oprava slevy za výpadky služby v období 11/2026: 40,00 Kč")

            // Closing December writes the adjustment; January has nothing left to correct.
            _ = try await ledger.close(BillingPeriod("2026-12")!, now: Self.instant("2027-01-01T00:00:00Z"))
            #expect(try await store.ledger(adjusting: "2026-11").map(\.amount.minorUnits) == [4_000])
            #expect(try await ledger.feed(BillingPeriod("2027-01")!, now: Self.instant("2027-01-02T00:00:00Z")).rows.isEmpty)

            let explained = try await ledger.explain(line: "L2", period: november, now: Self.instant("2027-01-02T00:00:00Z"))
            #expect(explained.contains("  ledger: credit 0.00 CZK booked in 2026-11\n  ledger: adjustment 40.00 CZK booked in 2026-12\n"))
            #expect(explained.contains("credit = 40.00 CZK\n"))

            let periods = try await ledger.periods(now: Self.instant("2027-01-02T00:00:00Z"))
            #expect(periods.map(\.period) == ["2026-11", "2026-12", "2027-01"])
            #expect(periods.map(\.state) == [.closed, .closed, .open])
            #expect(periods.map { $0.totals["CZK"] ?? 0 } == [4_000, 4_000, 0])
        }
    }

    /// The export as `forewarn credits --output` writes it, in chunks of `chunkBytes` (small
    /// here), joined.
    static func streamed(_ ledger: CreditLedger, _ period: String, now: Date, format: CreditFeed.Format = .csv,
                         customer: String? = nil) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        try await ledger.export(BillingPeriod(period)!, now: now, format: format, customer: customer, chunkBytes: 40) {
            #expect($0.count <= 40)
            bytes += $0
        }
        return bytes
    }

    /// Every format, with and without a customer, against the feed held whole and rendered.
    static func expectExportsAreTheFeed(_ ledger: CreditLedger, _ period: String, now: Date) async throws {
        let feed = try await ledger.feed(BillingPeriod(period)!, now: now)
        for format in CreditFeed.Format.allCases {
            for customer in [nil, "C2"] {
                let exported = try await Self.streamed(ledger, period, now: now, format: format, customer: customer)
                #expect(exported == feed.only(customer: customer).renderedBytes(format), "\(period) \(format) \(customer ?? "all")")
            }
        }
    }

    @Test func theStreamedFeedIsTheFeedByteForByte() async throws {
        try await Self.withLedger { ledger, store in
            let november = BillingPeriod("2026-11")!
            let closeTime = Self.instant("2026-12-01T10:00:00Z")
            try await Self.expectExportsAreTheFeed(ledger, "2026-11", now: closeTime)
            let onlyC2 = try await Self.streamed(ledger, "2026-11", now: closeTime, customer: "C2")
            #expect(String(decoding: onlyC2, as: UTF8.self).split(separator: "\r\n").count == 2)

            let closed = try await ledger.close(november, now: closeTime)
            try await store.record(CorrelationBatch(changes: [
                IncidentChange(kind: .update, incident: Self.incident(2, .network, updated: "2026-12-03T09:00:00Z")),
            ], at: Self.instant("2026-12-03T09:00:00Z")))
            // A closed period exports what was frozen; the next one books the adjustment.
            let later = Self.instant("2026-12-20T00:00:00Z")
            #expect(try await Self.streamed(ledger, "2026-11", now: later) == closed.csvBytes)
            #expect(try await Self.streamed(ledger, "2026-11", now: later, format: .json) == closed.jsonBytes)
            #expect(try await store.closedCreditPeriod("2026-11")?.csv == closed.csvBytes)
            try await Self.expectExportsAreTheFeed(ledger, "2026-11", now: later)
            try await Self.expectExportsAreTheFeed(ledger, "2026-12", now: later)
            let december = try await Self.streamed(ledger, "2026-12", now: later)
            #expect(String(decoding: december, as: UTF8.self).contains(",adjustment,2026-11,"))
            // Totals without the rows held: the same as the feed's.
            let totals = try await ledger.totals(BillingPeriod("2026-12")!, now: later)
            #expect(totals.closed == false && totals.totals == ["CZK": 4_000])
        }
    }

    /// A period closed before the CSV was kept with it: its CSV is rendered from the frozen
    /// document, to the bytes it had.
    @Test func aPeriodClosedWithoutItsCSVExportsTheSameBytes() async throws {
        try await Self.withLedger { ledger, store in
            let closeTime = Self.instant("2026-12-01T10:00:00Z")
            var feed = try await ledger.feed(BillingPeriod("2026-11")!, now: closeTime)
            feed.state = .closed
            try await store.closeCreditPeriod(ClosedCreditPeriod(period: "2026-11", closedAt: closeTime, document: feed.json),
                                              entries: [])
            #expect(try await store.closedCreditPeriod("2026-11")?.csv == nil)
            #expect(try await Self.streamed(ledger, "2026-11", now: closeTime) == feed.csvBytes)
            #expect(try await Self.streamed(ledger, "2026-11", now: closeTime, format: .json) == feed.jsonBytes)
        }
    }

    /// The billing run's read (one pass over the covering index) against the plain read of the
    /// same intervals: the same lines, customers, intervals and incident headers.
    @Test func theBillingRunReadsWhatThePlainReadReads() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-billing-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try StoreFactory.open(folder + "/forewarn.sqlite", access: .create)
        func interval(_ line: String, _ customer: String, _ start: String, _ end: String?) -> LineInterval {
            LineInterval(line: LineID(line), customer: CustomerID(customer), start: Self.instant(start),
                         end: end.map(Self.instant))
        }
        // L1 is in #3 and #4 from the same instant under different customers (a line moved between
        // customers): the lower incident's customer is the line's. L2 has an interval before the
        // period (not read) and one still open. L3 is only in October.
        try await store.record(CorrelationBatch(changes: [
            IncidentChange(kind: .resolve, incident: Self.incident(4, .network, updated: "2026-11-20T00:00:00Z"), lines: [
                interval("L1", "C9", "2026-11-05T08:00:00Z", "2026-11-05T09:00:00Z"),
                interval("L2", "C2", "2026-11-06T08:00:00Z", "2026-11-06T08:30:00Z"),
            ]),
            IncidentChange(kind: .resolve, incident: Self.incident(3, .planned, updated: "2026-11-20T00:00:00Z"), lines: [
                interval("L1", "C1", "2026-11-05T08:00:00Z", "2026-11-05T10:00:00Z"),
                interval("L1", "C1", "2026-11-01T00:00:00Z", "2026-11-01T00:10:00Z"),
                interval("L3", "C3", "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"),
            ]),
            IncidentChange(kind: .open, incident: Self.incident(5, .network, updated: "2026-11-20T00:00:00Z"), lines: [
                interval("L2", "C2", "2026-11-25T08:00:00Z", nil),
                interval("L2", "C2", "2026-10-25T08:00:00Z", "2026-10-25T09:00:00Z"),
            ]),
        ], at: Self.instant("2026-11-25T08:00:00Z")))
        let (from, to) = (Self.instant("2026-10-31T23:00:00Z"), Self.instant("2026-11-30T23:00:00Z"))
        let table = try await store.lineOutageTable(from: from, to: to, lines: nil)
        let plain = LineOutageTable(try await store.lineOutageIntervals(from: from, to: to, lines: nil))
        func normalized(_ table: LineOutageTable) -> [String] {
            table.lines.indices.map { index in
                let intervals = (table.lineBounds[index]..<table.lineBounds[index + 1]).map {
                    "#\(table.intervalIncidents[$0]) \(table.intervalStarts[$0])-\(table.intervalEnds[$0])"
                }.sorted()
                return "\(table.lines[index]) \(table.customers[index]): \(intervals.joined(separator: ", "))"
            }.sorted()
        }
        #expect(normalized(table) == normalized(plain))
        #expect(table.lines.sorted() == ["L1", "L2"])
        #expect(table.customers[table.lines.firstIndex(of: "L1")!] == "C1")
        #expect(table.intervalCount == 5)
        #expect(table.incidents.keys.map(\.rawValue).sorted() == [3, 4, 5])
        #expect(table.intervalEnds.filter { $0 == LineOutageTable.stillOpen }.count == 1)
    }

    @Test func explainWalksFromIntervalsToTheAmount() async throws {
        try await Self.withLedger { ledger, _ in
            let text = try await ledger.explain(line: "L1", period: BillingPeriod("2026-11")!,
                                                now: Self.instant("2026-12-01T10:00:00Z"))
            let expected = [
                "period 2026-11 in Europe/Prague: 2026-10-31T23:00:00.000Z – 2026-11-30T23:00:00.000Z = 2592000 s (720 h)",
                "  incident #1 (network): 2026-11-10T08:00:00.000Z – 2026-11-10T11:00:00.000Z = 10800 s",
                "outage: 10800 s in 1 stretch(es)",
                "availability = (2592000 s − 10800 s) / 2592000 s = 99.5833 %",
                "rule tiers: availability below 99.9 % → 10 % of 400.00 CZK = 40.00 CZK",
                "cap 100 % of the fee = 400.00 CZK → 40.00 CZK",
                "rounded half-up to the minor unit → 40.00 CZK",
                "credit = 40.00 CZK",
            ]
            for line in expected { #expect(text.contains(line + "\n"), "missing: \(line)\nin:\n\(text)") }
        }
    }
}
