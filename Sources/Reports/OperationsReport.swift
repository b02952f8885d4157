import Foundation
import ForewarnModel
import Persistence

/// The operations report of one period: the KPIs against their targets and what explains them
/// (incidents per week, how early incidents were detected, availability per element, the worst
/// elements and customers, credits per month). Pure over `ReportInputs`; rendered as text, JSON
/// and HTML.
public struct OperationsReport: Sendable {
    public struct Week: Sendable, Hashable {
        /// ISO 8601 week, `2026-W45`.
        public var name: String
        /// Its Monday (local date).
        public var monday: String
        public var bySeverity: [Severity: Int]
        public var total: Int { bySeverity.values.reduce(0, +) }
    }

    /// Incidents whose first call came `from` ..< `to` milliseconds after their detection
    /// (negative: the customer called first); nil is unbounded.
    public struct LeadBucket: Sendable, Hashable {
        public var label: String
        public var from: Int64?
        public var to: Int64?
        public var incidents: Int
    }

    public struct Availability: Sendable, Hashable {
        public var id: String
        public var name: String
        public var lines: Int
        public var linesHit: Int
        public var outageSeconds: Int64
        /// Line-seconds available of line-seconds monitored.
        public var availability: Share
    }

    /// Elements whose lines' availability is at least `from` percent (and below the band above).
    public struct Band: Sendable, Hashable {
        public var label: String
        public var from: Percentage?
        public var elements: Int
    }

    public var period: ReportPeriod
    public var zone: String
    public var start: Date
    public var end: Date
    public var asOf: Date
    public var targets: ReportTargets
    public var kpis: KPIs
    public var weeks: [Week]
    public var leadTimes: [LeadBucket]
    /// Counted incidents nobody called about.
    public var notCalled: Int
    /// Every element with lines, by id.
    public var elements: [Availability]
    public var bands: [Band]
    public var worstElements: [Availability]
    public var worstCustomers: [Availability]
    public var months: [MonthCredits]

    public static let worstCount = 10

    public init(_ inputs: ReportInputs) {
        let (start, end) = inputs.period.bounds(in: inputs.zone)
        let outages = LineOutages(inputs.lines, start: start.unixMilliseconds, end: end.unixMilliseconds,
                                  now: inputs.now.unixMilliseconds,
                                  counts: IncidentVerdicts(inputs.lines, counts: KPIs.countsOutage))
        let totals = LineTotals(inputs, outages: outages)
        let counted = KPIs.periodIncidents(inputs, start: start, end: end)
        period = inputs.period
        zone = inputs.zone.identifier
        (self.start, self.end, asOf, targets) = (start, end, inputs.now, inputs.targets)
        kpis = KPIs(inputs, incidents: counted, lines: totals)
        weeks = Self.weeks(inputs, counted: counted)
        (leadTimes, notCalled) = Self.leadTimes(counted)
        let names = Dictionary(inputs.inventory.elements.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let elapsed = totals.elapsedSeconds
        func availability(_ id: String, _ name: String, _ tally: LineTotals.Tally) -> Availability {
            let seconds = Int64(tally.lines) * elapsed
            return Availability(id: id, name: name, lines: tally.lines, linesHit: tally.hit, outageSeconds: tally.outageSeconds,
                                availability: Share(seconds - tally.outageSeconds, of: seconds))
        }
        elements = totals.elements.map { availability($0.key.rawValue, names[$0.key] ?? $0.key.rawValue, $0.value) }
            .sorted { $0.id < $1.id }
        bands = Self.bands(elements)
        worstElements = Self.worst(elements)
        worstCustomers = Self.worst(totals.customers.map { availability($0.key.rawValue, $0.key.rawValue, $0.value) })
        months = inputs.credits.sorted { $0.month < $1.month }
    }

    /// Those with an outage or a line hit, the lowest availability first (then the longest
    /// outage, then by id), at most `worstCount`.
    static func worst(_ all: [Availability]) -> [Availability] {
        let affected = all.filter { $0.outageSeconds > 0 || $0.linesHit > 0 }
        return Array(affected.sorted { a, b in
            let order = compare(a.availability, b.availability)
            if order != 0 { return order < 0 }
            if a.outageSeconds != b.outageSeconds { return a.outageSeconds > b.outageSeconds }
            return a.id < b.id
        }.prefix(worstCount))
    }

    /// -1, 0, 1 as `a` is below, equal to or above `b`; an empty share is above every other.
    static func compare(_ a: Share, _ b: Share) -> Int {
        if a.isEmpty || b.isEmpty { return a.isEmpty == b.isEmpty ? 0 : (a.isEmpty ? 1 : -1) }
        let left = UInt64(a.numerator.magnitude).multipliedFullWidth(by: UInt64(b.denominator.magnitude))
        let right = UInt64(b.numerator.magnitude).multipliedFullWidth(by: UInt64(a.denominator.magnitude))
        if left.high != right.high { return left.high < right.high ? -1 : 1 }
        if left.low != right.low { return left.low < right.low ? -1 : 1 }
        return 0
    }

    static let bandBounds: [(label: String, from: String?)] = [
        ("100 %", "100"), ("99.99–100 %", "99.99"), ("99.9–99.99 %", "99.9"), ("99.5–99.9 %", "99.5"),
        ("99–99.5 %", "99"), ("below 99 %", nil),
    ]

    static func bands(_ elements: [Availability]) -> [Band] {
        var bands = bandBounds.map { Band(label: $0.label, from: $0.from.flatMap { Percentage(decimal: $0) }, elements: 0) }
        for element in elements where !element.availability.isEmpty {
            let index = bands.firstIndex { band in band.from.map { element.availability.compare(to: $0) >= 0 } ?? true }!
            bands[index].elements += 1
        }
        return bands
    }

    static let leadBounds: [(label: String, from: Int64?, to: Int64?)] = [
        ("called > 1 h before detection", nil, -3_600_000),
        ("called 10 min – 1 h before", -3_600_000, -600_000),
        ("called 1–10 min before", -600_000, -60_000),
        ("called < 1 min before", -60_000, 1),
        ("detected < 1 min before the call", 1, 60_000),
        ("detected 1–10 min before", 60_000, 600_000),
        ("detected 10 min – 1 h before", 600_000, 3_600_000),
        ("detected > 1 h before", 3_600_000, nil),
    ]

    static func leadTimes(_ counted: [Incident]) -> ([LeadBucket], Int) {
        var buckets = leadBounds.map { LeadBucket(label: $0.label, from: $0.from, to: $0.to, incidents: 0) }
        var notCalled = 0
        for incident in counted {
            guard let call = incident.firstCallAt else {
                notCalled += 1
                continue
            }
            let lead = call.unixMilliseconds - incident.detectedAt.unixMilliseconds
            let index = buckets.firstIndex { ($0.from.map { lead >= $0 } ?? true) && ($0.to.map { lead < $0 } ?? true) }!
            buckets[index].incidents += 1
        }
        return (buckets, notCalled)
    }

    /// Every ISO 8601 week (Monday to Sunday, local) the period touches, with the counted
    /// incidents detected in it.
    static func weeks(_ inputs: ReportInputs, counted: [Incident]) -> [Week] {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = inputs.zone
        let (start, end) = inputs.period.bounds(in: inputs.zone)
        var weeks: [Week] = []
        var starts: [Date] = []
        var monday = calendar.dateInterval(of: .weekOfYear, for: start)!.start
        while monday < end {
            let parts = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear, .year, .month, .day], from: monday)
            weeks.append(Week(name: String(format: "%04d-W%02d", parts.yearForWeekOfYear!, parts.weekOfYear!),
                              monday: String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!),
                              bySeverity: [:]))
            starts.append(monday)
            monday = calendar.date(byAdding: .weekOfYear, value: 1, to: monday)!
        }
        for incident in counted {
            // The last week starting at or before the detection.
            var low = 0
            var high = starts.count - 1
            while low < high {
                let middle = (low + high + 1) / 2
                if starts[middle] <= incident.detectedAt { low = middle } else { high = middle - 1 }
            }
            weeks[low].bySeverity[incident.severity, default: 0] += 1
        }
        return weeks
    }
}
