import ForewarnModel
import Foundation
import Persistence
@testable import Reports
import Testing

/// The KPIs of November 2026 (UTC) over a hand-built history; every expected value is worked
/// out in the comments. The period is 30 days: 2,592,000 s. The report is made on 5 December.
@Suite struct KPITests {
    static let incidents = [
        // Counted, proactive (never called about); detected after 30 s; restored after 1 h.
        incident(1, started: "2026-11-02T10:00:00Z", detected: "2026-11-02T10:00:30Z", resolved: "2026-11-02T11:00:00Z"),
        // Counted, major; detected 4 min before the first call (lead +240,000 ms), resolved 11 h 55 min
        // after the call (fixed within a day); detection 60 s, restore 12 h.
        incident(2, .major, started: "2026-11-03T08:00:00Z", detected: "2026-11-03T08:01:00Z",
                 call: "2026-11-03T08:05:00Z", resolved: "2026-11-03T20:00:00Z"),
        // Counted, a customer's report: detected at the call (lead 0, not proactive), resolved 27 h
        // after it (not fixed within a day); detection 0 s, restore 27 h.
        incident(3, started: "2026-11-04T09:00:00Z", detected: "2026-11-04T09:00:00Z",
                 call: "2026-11-04T09:00:00Z", resolved: "2026-11-05T12:00:00Z"),
        // Counted; the customer called 1 min before detection (lead -60,000 ms, not proactive);
        // fixed 5 h 59 min after the call; detection 120 s, restore 6 h.
        incident(4, started: "2026-11-10T00:00:00Z", detected: "2026-11-10T00:02:00Z",
                 call: "2026-11-10T00:01:00Z", resolved: "2026-11-10T06:00:00Z"),
        // Not counted: customer-caused; planned; no customer hit; merged into #2.
        incident(5, classification: .customerCaused, started: "2026-11-12T00:00:00Z", detected: "2026-11-12T00:00:10Z",
                 resolved: "2026-11-12T05:00:00Z"),
        incident(6, planned: true, started: "2026-11-13T00:00:00Z", detected: "2026-11-13T00:00:10Z",
                 resolved: "2026-11-13T03:00:00Z"),
        incident(7, .warning, started: "2026-11-15T00:00:00Z", detected: "2026-11-15T00:00:10Z",
                 resolved: "2026-11-15T01:00:00Z"),
        incident(8, started: "2026-11-03T08:00:00Z", detected: "2026-11-03T08:00:30Z", resolved: "2026-11-03T08:00:40Z",
                 mergedInto: 2),
        // Detected in October: not one of November's incidents, but its line's outage runs into November.
        incident(9, started: "2026-10-31T23:00:00Z", detected: "2026-10-31T23:00:10Z", resolved: "2026-11-01T01:00:00Z"),
        // Counted, still open; called 2 d 12 h 59 min 55 s after detection (lead +219,595,000 ms),
        // more than 24 h before the report: decided, not fixed; detection 5 s.
        incident(10, started: "2026-11-28T10:00:00Z", detected: "2026-11-28T10:00:05Z", call: "2026-11-30T23:00:00Z"),
        // Counted, proactive; overlaps #1 on L1; detection 10 s, restore 1 h 30 min.
        incident(11, started: "2026-11-02T10:30:00Z", detected: "2026-11-02T10:30:10Z", resolved: "2026-11-02T12:00:00Z"),
    ]

    static let lines = table([
        (1, "L1", "C1", "2026-11-02T10:00:00Z", "2026-11-02T11:00:00Z"),
        (11, "L1", "C1", "2026-11-02T10:30:00Z", "2026-11-02T12:00:00Z"),   // L1: union 10:00–12:00 = 7,200 s
        (10, "L2", "C1", "2026-11-28T10:00:00Z", nil),                      // L2: to the period's end, 62 h = 223,200 s
        (3, "L3", "C2", "2026-11-04T09:00:00Z", "2026-11-05T12:00:00Z"),
        (4, "L3", "C2", "2026-11-10T00:00:00Z", "2026-11-10T06:00:00Z"),    // L3: 27 h + 6 h = 118,800 s
        (4, "L4", "C2", "2026-11-10T00:00:00Z", "2026-11-10T06:00:00Z"),    // L4: 21,600 s
        (5, "L5", "C2", "2026-11-12T00:00:00Z", "2026-11-12T05:00:00Z"),    // L5: customer-caused, not hit
        (2, "L6", "C3", "2026-11-03T08:00:00Z", "2026-11-03T20:00:00Z"),
        (6, "L6", "C3", "2026-11-13T00:00:00Z", "2026-11-13T03:00:00Z"),    // L6: 12 h (planned 3 h not) = 43,200 s
        (9, "L7", "C3", "2026-10-31T23:00:00Z", "2026-11-01T01:00:00Z"),
        (2, "L7", "C3", "2026-11-03T08:00:00Z", "2026-11-03T20:00:00Z"),    // L7: 1 h in November + 12 h = 46,800 s
        (2, "L8", "C3", "2026-11-03T08:00:00Z", "2026-11-03T20:00:00Z"),    // L8–L10: 43,200 s each
        (2, "L9", "C3", "2026-11-03T08:00:00Z", "2026-11-03T20:00:00Z"),
        (2, "L10", "C3", "2026-11-03T08:00:00Z", "2026-11-03T20:00:00Z"),
        (4, "L99", "C9", "2026-11-10T00:00:00Z", "2026-11-10T06:00:00Z"),   // no longer configured: 21,600 s
    ], incidents: incidents)

    /// Ten lines: L1–L5 on E1 (C1: L1, L2; C2: L3–L5), L6–L10 on E2 (C3).
    static let inventory = ReportInventory(
        lines: (1...10).map { n in line("L\(n)", n <= 2 ? "C1" : n <= 5 ? "C2" : "C3", n <= 5 ? "E1" : "E2") },
        elements: [Element(id: "E1", name: "Access Holešovice", address: .v4(0x0a00_0001), kind: .access),
                   Element(id: "E2", name: "Access Karlín", address: .v4(0x0a00_0002), kind: .access)])

    static let inputs = ReportInputs(
        period: try! ReportPeriod(parsing: "2026-11"), zone: utc, now: t("2026-12-05T00:00:00Z"), incidents: incidents,
        lines: [lines], inventory: inventory,
        credits: [MonthCredits(month: "2026-11", closed: true, totals: ["CZK": 4_000, "EUR": 150])])

    @Test func countsOnlyNetworkIncidentsThatHitCustomers() {
        let kpis = KPIs(Self.inputs)
        // #1, #2, #3, #4, #10, #11: five minor, one major.
        #expect(kpis.incidents == 6)
        #expect(kpis.bySeverity == [.minor: 5, .major: 1])
    }

    @Test func proactiveRate() {
        let kpis = KPIs(Self.inputs)
        // Detected before the first call or never called about: #1, #2, #10, #11 = 4 of 6 = 66.6 % > 60 %.
        #expect(kpis.proactive == Share(4, of: 6))
        #expect(kpis.proactive.percentText(decimals: 1) == "66.6")
        #expect(kpis.proactiveStatus == .met)
    }

    @Test func linesHitCountsLinesNoLongerConfiguredAndIsJudgedPerQuarter() {
        let kpis = KPIs(Self.inputs)
        // Hit: L1–L4, L6–L10 and L99 (not configured, so monitored too): 10 of 11 lines.
        #expect(kpis.linesHit == Share(10, of: 11))
        #expect(kpis.linesHitStatus == .notJudged)
    }

    @Test func fixedWithinADay() {
        let kpis = KPIs(Self.inputs)
        // Called about: #2 (fixed), #3 (27 h: not), #4 (fixed), #10 (open, called > 24 h ago: not) = 2 of 4.
        #expect(kpis.fixedWithinDay == Share(2, of: 4))
        #expect(kpis.fixedPending == 0)
        #expect(kpis.fixedWithinDayStatus == .notMet)
    }

    @Test func detectionLeadTimeByNearestRank() {
        // Sorted: -60,000, 0, 240,000, 219,595,000; median rank ⌈4/2⌉ = 2, p90 rank ⌈3.6⌉ = 4.
        #expect(KPIs(Self.inputs).leadTime == KPIs.LeadTime(incidents: 4, median: 0, p90: 219_595_000))
    }

    @Test func meanTimesToDetectAndRestore() {
        let kpis = KPIs(Self.inputs)
        // Detection: 30 + 60 + 0 + 120 + 5 + 10 = 225 s over 6 = 37.5 s.
        #expect(kpis.meanTimeToDetect == 37_500)
        // Restore: 1 h + 12 h + 27 h + 6 h + 1.5 h = 47.5 h over 5 = 9.5 h = 34,200,000 ms; #10 still open.
        #expect(kpis.meanTimeToRestore == 34_200_000)
        #expect(kpis.restored == 5)
        #expect(kpis.stillOpen == 1)
    }

    @Test func availabilityOverEveryMonitoredLine() {
        let kpis = KPIs(Self.inputs)
        // 7,200 + 223,200 + 118,800 + 21,600 + 43,200 + 46,800 + 3 × 43,200 + 21,600 = 612,000 line-seconds
        // down, of 11 lines × 2,592,000 s = 28,512,000: 27,900,000 available = 97.8535 %.
        #expect(kpis.outageLineSeconds == 612_000)
        #expect(kpis.availability == Share(27_900_000, of: 28_512_000))
        #expect(kpis.availability.percentText(decimals: 4) == "97.8535")
    }

    @Test func creditsAddUpTheMonths() {
        var inputs = Self.inputs
        inputs.credits.append(MonthCredits(month: "2026-12", closed: false, totals: ["CZK": 1_001]))
        #expect(KPIs(inputs).credits == ["CZK": 5_001, "EUR": 150])
    }

    /// Ten days into 2026Q4, 100 lines: an open incident called about 12 h ago is pending, and
    /// lines hit is judged (a quarter).
    @Test func aPeriodNotEndedCountsUpToNowAndKeepsRecentCallsPending() {
        let incidents = [
            // Called 12 h before now, still open: pending; L1 down 14 h up to now = 50,400 s.
            incident(1, started: "2026-10-10T10:00:00Z", detected: "2026-10-10T10:00:20Z", call: "2026-10-10T12:00:00Z"),
            // Resolved 1 h after the call: fixed; L2 down 1 h 30 min = 5,400 s.
            incident(2, started: "2026-10-05T08:00:00Z", detected: "2026-10-05T08:00:10Z", call: "2026-10-05T08:30:00Z",
                     resolved: "2026-10-05T09:30:00Z"),
        ]
        let inputs = ReportInputs(
            period: try! ReportPeriod(parsing: "2026Q4"), zone: utc, now: t("2026-10-11T00:00:00Z"), incidents: incidents,
            lines: [table([(1, "L1", "C1", "2026-10-10T10:00:00Z", nil),
                           (2, "L2", "C1", "2026-10-05T08:00:00Z", "2026-10-05T09:30:00Z")], incidents: incidents)],
            inventory: ReportInventory(lines: (1...100).map { line("L\($0)", "C1", "E1") }))
        let kpis = KPIs(inputs)
        #expect(kpis.fixedWithinDay == Share(1, of: 1))
        #expect(kpis.fixedPending == 1)
        #expect(kpis.fixedWithinDayStatus == .met)
        // 2 of 100 lines < 3 %: met, judged for a quarter.
        #expect(kpis.linesHit == Share(2, of: 100))
        #expect(kpis.linesHitStatus == .met)
        // Ten days elapsed: 100 × 864,000 = 86,400,000 line-seconds, 55,800 down.
        #expect(kpis.availability == Share(86_344_200, of: 86_400_000))
        #expect(kpis.proactiveStatus == .met)
    }

    @Test func nothingToCountIsNoData() {
        let inputs = ReportInputs(period: try! ReportPeriod(parsing: "2026Q4"), zone: utc, now: t("2027-01-02T00:00:00Z"),
                                  incidents: [], lines: [], inventory: ReportInventory(lines: []))
        let kpis = KPIs(inputs)
        #expect(kpis.proactiveStatus == .noData)
        #expect(kpis.linesHitStatus == .noData)
        #expect(kpis.fixedWithinDayStatus == .noData)
        #expect(kpis.leadTime == nil)
        #expect(kpis.meanTimeToDetect == nil)
        #expect(kpis.availability.percentText(decimals: 4) == nil)
    }

    @Test func intervalsOutOfOrderAreUnitedAllTheSame() {
        // The same L1 intervals given latest first: the union is still 10:00–12:00.
        var shuffled = Self.lines
        let first = shuffled.lineBounds[0]
        shuffled.intervalStarts.swapAt(first, first + 1)
        shuffled.intervalEnds.swapAt(first, first + 1)
        shuffled.intervalIncidents.swapAt(first, first + 1)
        var inputs = Self.inputs
        inputs.lines = [shuffled]
        #expect(KPIs(inputs).outageLineSeconds == 612_000)
    }

    @Test func partsCountAsOneTable() {
        // The same intervals in two parts, L1–L4 and L5 on: the same figures.
        let all = Self.lines
        func part(_ lines: Range<Int>) -> LineOutageTable {
            var part = LineOutageTable()
            let first = all.lineBounds[lines.lowerBound]
            part.lines = Array(all.lines[lines])
            part.customers = Array(all.customers[lines])
            part.lineBounds = all.lineBounds[lines.lowerBound...lines.upperBound].map { $0 - first }
            let rows = first..<all.lineBounds[lines.upperBound]
            part.intervalStarts = Array(all.intervalStarts[rows])
            part.intervalEnds = Array(all.intervalEnds[rows])
            part.intervalIncidents = Array(all.intervalIncidents[rows])
            part.incidents = all.incidents.filter { header in part.intervalIncidents.contains(header.key.rawValue) }
            return part
        }
        let split = all.lines.firstIndex(of: "L5")!
        var inputs = Self.inputs
        inputs.lines = [part(0..<split), part(split..<all.lines.count)]
        #expect(KPIs(inputs) == KPIs(Self.inputs))
        #expect(OperationsReport(inputs).json == OperationsReport(Self.inputs).json)
    }
}
