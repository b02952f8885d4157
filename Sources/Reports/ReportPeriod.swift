import Foundation

/// A calendar day, as written in a period (`2026-11-01`).
public struct CalendarDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// nil for a day that does not exist (`2026-02-30`) or a year outside 2000–9999.
    public init?(year: Int, month: Int, day: Int) {
        guard (2000...9999).contains(year), (1...12).contains(month), day >= 1,
              day <= CalendarDay.days(year: year, month: month) else { return nil }
        (self.year, self.month, self.day) = (year, month, day)
    }

    /// `YYYY-MM-DD`; nil for anything else.
    init?(_ text: Substring) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = ReportPeriod.digits(parts[0]), let month = ReportPeriod.digits(parts[1]),
              let day = ReportPeriod.digits(parts[2]) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    static func days(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public static func < (lhs: CalendarDay, rhs: CalendarDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }

    var components: DateComponents { DateComponents(year: year, month: month, day: day) }
}

/// What `forewarn status --period` reports on: a quarter (`2026Q4`), a calendar month
/// (`2026-11`) or a range of whole days (`2026-11-01..2026-11-15`, both days included). Its
/// instants are local midnights in the report's time zone, computed with Foundation's
/// `Calendar`, so a period with a daylight-saving change is an hour longer or shorter.
public struct ReportPeriod: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        case quarter, month, range
    }

    public let kind: Kind
    public let first: CalendarDay
    /// The last day, included.
    public let last: CalendarDay

    /// The longest range of days a report covers (a chart per week stays readable).
    public static let longestRange = 366

    public init(parsing text: String) throws(ReportError) {
        let expected = "a quarter (2026Q4), a month (2026-11) or a range of days (2026-11-01..2026-11-15)"
        if let q = text.firstIndex(of: "Q"), text.count == 6 {
            guard let year = Self.digits(text[..<q]), text[..<q].count == 4, (2000...9999).contains(year),
                  let quarter = Self.digits(text[text.index(after: q)...]), (1...4).contains(quarter) else {
                throw ReportError("--period must be \(expected), not '\(text)'")
            }
            kind = .quarter
            first = CalendarDay(year: year, month: quarter * 3 - 2, day: 1)!
            last = CalendarDay(year: year, month: quarter * 3, day: CalendarDay.days(year: year, month: quarter * 3))!
            return
        }
        if let dots = text.range(of: "..") {
            guard let from = CalendarDay(text[..<dots.lowerBound]), let to = CalendarDay(text[dots.upperBound...]) else {
                throw ReportError("--period must be \(expected), not '\(text)' (each day an existing YYYY-MM-DD)")
            }
            guard from <= to else { throw ReportError("--period \(text) ends before it starts") }
            let days = Self.utcCalendar.dateComponents([.day], from: Self.utcCalendar.date(from: from.components)!,
                                                       to: Self.utcCalendar.date(from: to.components)!).day! + 1
            guard days <= Self.longestRange else {
                throw ReportError("--period \(text) is \(days) days long; a range covers at most \(Self.longestRange) days")
            }
            (kind, first, last) = (.range, from, to)
            return
        }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Self.digits(parts[0]),
              let month = Self.digits(parts[1]), let start = CalendarDay(year: year, month: month, day: 1) else {
            throw ReportError("--period must be \(expected), not '\(text)'")
        }
        kind = .month
        first = start
        last = CalendarDay(year: year, month: month, day: CalendarDay.days(year: year, month: month))!
    }

    public var description: String {
        switch kind {
        case .quarter: return "\(first.year)Q\((first.month + 2) / 3)"
        case .month: return String(format: "%04d-%02d", first.year, first.month)
        case .range: return "\(first)..\(last)"
        }
    }

    /// Local midnight of the first day to local midnight after the last.
    public func bounds(in zone: TimeZone) -> (start: Date, end: Date) {
        let calendar = Self.calendar(zone)
        let start = calendar.date(from: first.components)!
        let end = calendar.date(byAdding: .day, value: 1, to: calendar.date(from: last.components)!)!
        return (start, end)
    }

    /// The calendar months the period touches, `2026-11`: billing periods, whose credits it shows.
    public var months: [String] {
        var result: [String] = []
        var (year, month) = (first.year, first.month)
        while (year, month) <= (last.year, last.month) {
            result.append(String(format: "%04d-%02d", year, month))
            (year, month) = month == 12 ? (year + 1, 1) : (year, month + 1)
        }
        return result
    }

    static func calendar(_ zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }

    static let utcCalendar = calendar(TimeZone(identifier: "UTC")!)

    static func digits(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(text)
    }
}
