import Billing
import Foundation
import ForewarnModel
import Persistence
import Testing

/// Billing periods in the contract's zone and a line's outage in one, in whole seconds.
@Suite struct PeriodAndOutageTests {
    static let prague = TimeZone(identifier: "Europe/Prague")!

    static func instant(_ text: String) -> Date { RFC3339.parse(text)! }
    static func seconds(_ text: String) -> Int64 { Int64(instant(text).timeIntervalSince1970) }
    static func milliseconds(_ text: String) -> Int64 { instant(text).unixMilliseconds }

    struct MonthCase: Sendable, CustomTestStringConvertible {
        var period: String
        var start: String
        var hours: Int64
        var days: Int
        var testDescription: String { period }
    }

    static let months: [MonthCase] = [
        // February 2026: 28 days × 24 h; Prague is on CET (+01:00) all month.
        MonthCase(period: "2026-02", start: "2026-01-31T23:00:00Z", hours: 672, days: 28),
        // February 2028 is a leap month: 29 × 24 = 696 h.
        MonthCase(period: "2028-02", start: "2028-01-31T23:00:00Z", hours: 696, days: 29),
        // March 2026: summer time starts on 29 March (02:00 → 03:00), 31 × 24 − 1 = 743 h.
        MonthCase(period: "2026-03", start: "2026-02-28T23:00:00Z", hours: 743, days: 31),
        // April 2026: 30 days on CEST (+02:00): 720 h, starting 22:00 UTC.
        MonthCase(period: "2026-04", start: "2026-03-31T22:00:00Z", hours: 720, days: 30),
        // October 2026: summer time ends on 25 October (03:00 → 02:00), 31 × 24 + 1 = 745 h.
        MonthCase(period: "2026-10", start: "2026-09-30T22:00:00Z", hours: 745, days: 31),
        // November 2026: 30 × 24 = 720 h on CET.
        MonthCase(period: "2026-11", start: "2026-10-31T23:00:00Z", hours: 720, days: 30),
        // December 2026: 31 × 24 = 744 h.
        MonthCase(period: "2026-12", start: "2026-11-30T23:00:00Z", hours: 744, days: 31),
    ]

    @Test(arguments: months) func monthsAreCalendarMonthsInTheZone(_ month: MonthCase) {
        let period = BillingPeriod(month.period)!
        let bounds = period.bounds(in: Self.prague)
        #expect(bounds.start == Self.instant(month.start))
        #expect(Int64(bounds.end.timeIntervalSince(bounds.start)) == month.hours * 3_600)
        #expect(period.days == month.days)
        #expect(bounds.end == period.next.bounds(in: Self.prague).start)
    }

    @Test func periodTextIsStrict() {
        #expect(BillingPeriod("2026-11")?.description == "2026-11")
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "2026-11-01", ""] { #expect(BillingPeriod(bad) == nil) }
        #expect(BillingPeriod("2026-12")!.next.description == "2027-01")
        #expect(BillingPeriod("2027-01")!.previous.description == "2026-12")
    }

    static func incident(_ id: Int64, _ classification: Classification = .network, planned: Bool = false) -> Incident {
        Incident(id: IncidentID(id), root: IncidentRoot(subject: .element("agg1"), kind: .unreachable), group: "g",
                 severity: .minor, planned: planned, classification: classification, startedAt: Date(timeIntervalSince1970: 0),
                 detectedAt: Date(timeIntervalSince1970: 0), updatedAt: Date(timeIntervalSince1970: 0))
    }

    static func interval(_ incident: Int64, _ start: String, _ end: String?) -> LineOutageInterval {
        LineOutageInterval(line: "L1", customer: "C1", incident: IncidentID(incident),
                           startMilliseconds: milliseconds(start), endMilliseconds: end.map(milliseconds))
    }

    static func november() -> SecondSpans.Span {
        let bounds = BillingPeriod("2026-11")!.bounds(in: prague)
        return SecondSpans.Span(Int64(bounds.start.timeIntervalSince1970), Int64(bounds.end.timeIntervalSince1970))
    }

    static func account(_ intervals: [LineOutageInterval], incidents: [Incident], maintenance: [MaintenanceWindow] = [],
                        period: SecondSpans.Span = november(), now: String = "2026-12-15T00:00:00Z") -> LineOutage {
        OutageAccounting.account(line: "L1", customer: "C1", element: "acc1", period: period, intervals: intervals,
                                 incidents: Dictionary(uniqueKeysWithValues: incidents.map { ($0.id, $0) }),
                                 maintenance: maintenance, now: seconds(now))
    }

    @Test func overlappingIncidentsOnALineCountOnce() {
        // #1 9:00–11:00 and #2 10:00–12:00 local (CET, UTC+1) on 10 November: the union is 9:00–12:00 = 10,800 s.
        let outage = Self.account([Self.interval(1, "2026-11-10T08:00:00Z", "2026-11-10T10:00:00Z"),
                                   Self.interval(2, "2026-11-10T09:00:00Z", "2026-11-10T11:00:00Z")],
                                  incidents: [Self.incident(1), Self.incident(2)])
        #expect(outage.outageSeconds == 10_800)
        #expect(outage.incidents == [IncidentID(1), IncidentID(2)])
        #expect(outage.counted.spans == [SecondSpans.Span(Self.seconds("2026-11-10T08:00:00Z"), Self.seconds("2026-11-10T11:00:00Z"))])
        #expect(outage.exclusions.isEmpty)
    }

    @Test func anIncidentAcrossTheMonthBoundaryIsSplitAtLocalMidnight() {
        // 31 October 22:00 to 1 November 02:00 local (21:00Z to 01:00Z): 7,200 s in October and 7,200 s in November.
        let intervals = [Self.interval(1, "2026-10-31T21:00:00Z", "2026-11-01T01:00:00Z")]
        let october = BillingPeriod("2026-10")!.bounds(in: Self.prague)
        let octoberSpan = SecondSpans.Span(Int64(october.start.timeIntervalSince1970), Int64(october.end.timeIntervalSince1970))
        let before = Self.account(intervals, incidents: [Self.incident(1)], period: octoberSpan)
        let after = Self.account(intervals, incidents: [Self.incident(1)])
        #expect(before.outageSeconds == 7_200)
        #expect(after.outageSeconds == 7_200)
        #expect(after.counted.spans.first?.start == Self.seconds("2026-10-31T23:00:00Z"))
    }

    @Test func maintenanceCoveringTheLinesElementIsExcludedWithItsReason() {
        // Outage 9:00–12:00 local; maintenance of acc1 10:00–10:30 local: 10,800 − 1,800 = 9,000 s counted.
        let window = MaintenanceWindow(id: "MW1", start: Self.instant("2026-11-10T09:00:00Z"),
                                       end: Self.instant("2026-11-10T09:30:00Z"), elements: ["acc1"], lines: [],
                                       reason: "line card swap")
        let elsewhere = MaintenanceWindow(id: "MW2", start: Self.instant("2026-11-10T08:00:00Z"),
                                          end: Self.instant("2026-11-10T11:00:00Z"), elements: ["acc9"], lines: ["L7"],
                                          reason: "")
        let outage = Self.account([Self.interval(1, "2026-11-10T08:00:00Z", "2026-11-10T11:00:00Z")],
                                  incidents: [Self.incident(1)], maintenance: [window, elsewhere])
        #expect(outage.outageSeconds == 9_000)
        #expect(outage.exclusions == [Exclusion(kind: .maintenance, reason: "maintenance MW1 (line card swap)", seconds: 1_800)])
    }

    @Test func customerCausedForceMajeureAndPlannedAreExcludedWhereNoNetworkOutageCovers() {
        // Network #1 9:00–12:00 local; customer-caused #2 11:30–12:30 (only 12:00–12:30 = 1,800 s is its own);
        // force-majeure #3 14:00–15:00 (3,600 s); planned #4 16:00–16:10 (600 s).
        let outage = Self.account([
            Self.interval(1, "2026-11-10T08:00:00Z", "2026-11-10T11:00:00Z"),
            Self.interval(2, "2026-11-10T10:30:00Z", "2026-11-10T11:30:00Z"),
            Self.interval(3, "2026-11-10T13:00:00Z", "2026-11-10T14:00:00Z"),
            Self.interval(4, "2026-11-10T15:00:00Z", "2026-11-10T15:10:00Z"),
        ], incidents: [Self.incident(1), Self.incident(2, .customerCaused), Self.incident(3, .forceMajeure),
                       Self.incident(4, planned: true)])
        #expect(outage.outageSeconds == 10_800)
        #expect(outage.incidents == [IncidentID(1)])
        #expect(outage.exclusions == [
            Exclusion(kind: .customerCaused, reason: "incident #2 customer-caused", seconds: 1_800, incident: IncidentID(2)),
            Exclusion(kind: .forceMajeure, reason: "incident #3 force-majeure", seconds: 3_600, incident: IncidentID(3)),
            Exclusion(kind: .planned, reason: "incident #4 planned", seconds: 600, incident: IncidentID(4)),
        ])
    }

    @Test func anOpenIncidentCountsUpToNowInWholeSeconds() {
        // Open since 10:00:00.999 local; now 10:20:34.5: instants are truncated, 10:00:00 → 10:20:34 = 1,234 s.
        let outage = Self.account([Self.interval(1, "2026-11-10T09:00:00.999Z", nil)], incidents: [Self.incident(1)],
                                  now: "2026-11-10T09:20:34.500Z")
        #expect(outage.outageSeconds == 1_234)
        #expect(outage.intervals.first?.open == true)
        // Still open after the period: counted up to its end (30 November 24:00 local).
        let later = Self.account([Self.interval(1, "2026-11-30T22:00:00Z", nil)], incidents: [Self.incident(1)],
                                 now: "2026-12-05T00:00:00Z")
        #expect(later.outageSeconds == 3_600)
        #expect(later.restoreTimes.isEmpty)
    }

    @Test func restoreTimeIsTheIncidentsWholeTimeOnTheLine() {
        // #1 on the line 8:00–18:00 local, one interval: restored within November after 36,000 s.
        let outage = Self.account([Self.interval(1, "2026-11-10T07:00:00Z", "2026-11-10T17:00:00Z")],
                                  incidents: [Self.incident(1)])
        #expect(outage.restoreTimes == [RestoreTime(incident: IncidentID(1), seconds: 36_000)])
    }
}
