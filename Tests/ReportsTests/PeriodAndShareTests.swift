import ForewarnModel
import Foundation
@testable import Reports
import Testing

@Suite struct ReportPeriodTests {
    let prague = TimeZone(identifier: "Europe/Prague")!

    @Test func aQuarterRunsBetweenLocalMidnights() throws {
        let period = try ReportPeriod(parsing: "2026Q4")
        #expect(period.kind == .quarter)
        #expect(period.description == "2026Q4")
        let (start, end) = period.bounds(in: prague)
        // Summer time on 1 October, winter time on 1 January.
        #expect(RFC3339.format(start) == "2026-09-30T22:00:00.000Z")
        #expect(RFC3339.format(end) == "2026-12-31T23:00:00.000Z")
        #expect(period.months == ["2026-10", "2026-11", "2026-12"])
    }

    @Test func aMonthWithTheClockChangeHas745Hours() throws {
        let (start, end) = try ReportPeriod(parsing: "2026-10").bounds(in: prague)
        #expect(end.timeIntervalSince(start) == 745 * 3_600)
    }

    @Test func aRangeIncludesBothDays() throws {
        let period = try ReportPeriod(parsing: "2026-11-01..2026-11-15")
        #expect(period.kind == .range)
        #expect(period.description == "2026-11-01..2026-11-15")
        let (start, end) = period.bounds(in: utc)
        #expect(end.timeIntervalSince(start) == 15 * 86_400)
        #expect(try ReportPeriod(parsing: "2026-12-30..2027-01-02").months == ["2026-12", "2027-01"])
    }

    static let bad: [(String, String)] = [
        ("2026Q5", "--period must be a quarter (2026Q4), a month (2026-11) or a range of days (2026-11-01..2026-11-15), not '2026Q5'"),
        ("2026-13", "--period must be a quarter (2026Q4), a month (2026-11) or a range of days (2026-11-01..2026-11-15), not '2026-13'"),
        ("last week", "--period must be a quarter (2026Q4), a month (2026-11) or a range of days (2026-11-01..2026-11-15), not 'last week'"),
        ("", "--period must be a quarter (2026Q4), a month (2026-11) or a range of days (2026-11-01..2026-11-15), not ''"),
        ("2026-02-01..2026-02-30", "--period must be a quarter (2026Q4), a month (2026-11) or a range of days (2026-11-01..2026-11-15), not '2026-02-01..2026-02-30' (each day an existing YYYY-MM-DD)"),
        ("2026-11-15..2026-11-01", "--period 2026-11-15..2026-11-01 ends before it starts"),
        ("2026-01-01..2027-01-02", "--period 2026-01-01..2027-01-02 is 367 days long; a range covers at most 366 days"),
        ("1999-12", "--period must be a quarter (2026Q4), a month (2026-11) or a range of days (2026-11-01..2026-11-15), not '1999-12'"),
    ]

    @Test(arguments: bad) func aBadPeriodIsRefusedWithItsReason(_ text: String, _ message: String) {
        #expect(throws: ReportError(message)) { try ReportPeriod(parsing: text) }
    }
}

@Suite struct ShareTests {
    @Test func percentagesAreTruncated() {
        #expect(Share(2, of: 3).percentText(decimals: 1) == "66.6")
        #expect(Share(1, of: 3).percentText(decimals: 4) == "33.3333")
        #expect(Share(3, of: 3).percentText(decimals: 0) == "100")
        #expect(Share(1, of: 1_000_000).percentText(decimals: 2) == "0.00")
        #expect(Share(0, of: 0).percentText(decimals: 1) == nil)
    }

    @Test func targetsAreJudgedOnTheExactFraction() {
        let three = Percentage(decimal: "3")!
        #expect(Share(3, of: 100).compare(to: three) == 0)
        #expect(Share(2_999_999, of: 100_000_000).compare(to: three) == -1)
        #expect(Share(3_000_001, of: 100_000_000).compare(to: three) == 1)
        #expect(Share(3, of: 5).compare(to: Percentage(decimal: "60")!) == 0)
    }

    @Test func aQuarterOverAMillionLinesDoesNotOverflow() {
        // 1,000,000 lines × 92 days: 7.9 × 10^12 line-seconds; × 10^8 would not fit 64 bits.
        let monitored: Int64 = 1_000_000 * 92 * 86_400
        #expect(Share(monitored - 1, of: monitored).percentText(decimals: 4) == "99.9999")
        #expect(Share(monitored - 1, of: monitored).compare(to: Percentage(decimal: "99.999999")!) == 1)
    }
}
