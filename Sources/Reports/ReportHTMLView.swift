import Foundation
import ForewarnModel

/// What the HTML template shows, every value a string made here (numbers, geometry of the
/// charts, labels), so that the template only places them, and Mustache escapes every one.
struct ReportHTMLView {
    struct Tile {
        var name: String
        var value: String
        var target: String
        var status: String
        var statusClass: String
        var counted: String
        /// The value and the target on a 0–`scale` bar, 0–200 wide.
        var fill: String
        var targetX: String
        var scale: String
    }

    struct Fact {
        var name: String
        var value: String
    }

    struct Segment {
        var x: String
        var y: String
        var width: String
        var height: String
        var kind: String
        var title: String
    }

    struct Column {
        var segments: [Segment]
        var label: String
        var labelX: String
        var showLabel: Bool
    }

    struct Tick {
        var y: String
        var label: String
    }

    /// Vertical stacked bars: incidents per week, credits per month.
    struct ColumnChart {
        var id: String
        var title: String
        var height: String
        var columns: [Column]
        var ticks: [Tick]
        var baseY: String
    }

    struct Row {
        var label: String
        var y: String
        var textY: String
        var width: String
        var valueX: String
        var value: String
        var kind: String
    }

    /// Horizontal bars: detection lead time, availability bands.
    struct RowChart {
        var id: String
        var title: String
        var height: String
        var rows: [Row]
    }

    struct Worst {
        var label: String
        var lines: String
        var hit: String
        var down: String
        var availability: String
        var barWidth: String
    }

    var title: String
    var period: String
    var asOf: String
    var notEnded: Bool
    var tiles: [Tile]
    var facts: [Fact]
    var weekly: ColumnChart
    /// Detection lead time, then availability per element.
    var rowCharts: [RowChart]
    var worstElements: [Worst]
    var worstCustomers: [Worst]
    var noWorstElements: Bool
    var noWorstCustomers: Bool
    var credits: [ColumnChart]
    var noCredits: Bool

    static func number(_ value: Double) -> String { String(format: "%.1f", value) }

    init(_ report: OperationsReport) {
        typealias F = ReportFormatting
        let kpis = report.kpis
        title = "Forewarn operations report \(report.period)"
        period = "\(report.period.first) – \(report.period.last), \(report.zone)"
        asOf = RFC3339.format(report.asOf)
        notEnded = report.asOf < report.end
        func tile(_ name: String, _ share: Share, decimals: Int, _ comparison: String, _ target: Percentage,
                  _ status: TargetStatus, _ counted: String, scale: Double) -> Tile {
            let value = share.isEmpty ? 0 : Double(share.numerator) / Double(share.denominator) * 100
            let targetValue = Double(target.millionths) / Double(Percentage.scale)
            return Tile(name: name, value: F.percent(share, decimals: decimals), target: "\(comparison) \(target) %",
                        status: status.rawValue, statusClass: status == .met ? "met" : status == .notMet ? "missed" : "none",
                        counted: counted, fill: Self.number(min(value, scale) / scale * 200),
                        targetX: Self.number(min(targetValue, scale) / scale * 200), scale: "0–\(Int(scale)) %")
        }
        tiles = [
            tile("Proactive rate", kpis.proactive, decimals: 1, ">", report.targets.proactiveRate, kpis.proactiveStatus,
                 "\(F.grouped(kpis.proactive.numerator)) of \(F.grouped(kpis.proactive.denominator)) incidents detected first",
                 scale: 100),
            tile("Lines hit", kpis.linesHit, decimals: 2, "<", report.targets.linesHit, kpis.linesHitStatus,
                 "\(F.grouped(kpis.linesHit.numerator)) of \(F.grouped(kpis.linesHit.denominator)) lines"
                    + (kpis.linesHitStatus == .notJudged ? " (the target is per quarter)" : ""),
                 scale: max(10, (Double(report.targets.linesHit.millionths) / Double(Percentage.scale) * 2).rounded(.up))),
            tile("Fixed within a day", kpis.fixedWithinDay, decimals: 1, "≥", report.targets.fixedWithinDay,
                 kpis.fixedWithinDayStatus,
                 "\(F.grouped(kpis.fixedWithinDay.numerator)) of \(F.grouped(kpis.fixedWithinDay.denominator)) called about"
                    + (kpis.fixedPending > 0 ? ", \(F.grouped(kpis.fixedPending)) pending" : ""),
                 scale: 100),
        ]
        let severities = F.severities.compactMap { severity in kpis.bySeverity[severity].map { "\(F.grouped($0)) \(severity.rawValue)" } }
        let credits = kpis.credits.keys.sorted().map { F.money(kpis.credits[$0]!, $0) }
        facts = [
            Fact(name: "Availability", value: "\(F.percent(kpis.availability, decimals: 4)) over \(F.grouped(kpis.linesHit.denominator)) lines, "
                 + "\(F.hours(seconds: kpis.outageLineSeconds)) line-hours down"),
            Fact(name: "Detection lead time (first call − detection)",
                 value: kpis.leadTime.map { "median \(F.duration(milliseconds: $0.median, signed: true)), p90 "
                     + "\(F.duration(milliseconds: $0.p90, signed: true)) over \(F.grouped($0.incidents)) incidents called about" }
                     ?? "no incident called about"),
            Fact(name: "Mean time to detect", value: kpis.meanTimeToDetect.map { F.duration(milliseconds: $0) } ?? "-"),
            Fact(name: "Mean time to restore", value: (kpis.meanTimeToRestore.map { F.duration(milliseconds: $0) } ?? "-")
                 + " (\(F.grouped(kpis.restored)) restored, \(F.grouped(kpis.stillOpen)) still open)"),
            Fact(name: "Incidents", value: F.grouped(kpis.incidents) + (severities.isEmpty ? "" : ": " + severities.joined(separator: ", "))),
            Fact(name: "Credits", value: credits.isEmpty ? "none" : credits.joined(separator: ", ")),
        ]
        var weeks: [(String, [(String, Double, String)])] = []
        for week in report.weeks {
            var stack: [(String, Double, String)] = []
            for severity in [Severity.minor, .major, .critical] {
                let count = week.bySeverity[severity] ?? 0
                stack.append((severity.rawValue, Double(count), "\(week.name): \(count) \(severity.rawValue)"))
            }
            // `W45` under the column (the year is in the period), the full name in its tooltips.
            weeks.append((String(week.name.suffix(3)), stack))
        }
        weekly = Self.columns(id: "weekly", title: "Incidents per week by severity", columns: weeks,
                              format: { F.grouped(Int64($0)) })
        var leadRows: [(String, Double, String, String)] = []
        for bucket in report.leadTimes {
            // The customer called first (or at the same moment): late.
            let late = bucket.to.map { to in to <= 1 } ?? false
            leadRows.append((bucket.label, Double(bucket.incidents), F.grouped(bucket.incidents), late ? "late" : "early"))
        }
        leadRows.append(("not called about", Double(report.notCalled), F.grouped(report.notCalled), "none"))
        let leadTimes = Self.rows(id: "lead", title: "Detection lead time: first call − detection (incidents)", rows: leadRows)
        var bandRows: [(String, Double, String, String)] = []
        for band in report.bands { bandRows.append((band.label, Double(band.elements), F.grouped(band.elements), "band")) }
        let bands = Self.rows(id: "bands", title: "Availability per element (elements)", rows: bandRows)
        rowCharts = [leadTimes, bands]
        func worst(_ rows: [OperationsReport.Availability], named: Bool) -> [Worst] {
            let longest = max(rows.map(\.outageSeconds).max() ?? 0, 1)
            return rows.map { row in
                Worst(label: named && row.name != row.id ? "\(row.id) \(row.name)" : row.id, lines: F.grouped(row.lines),
                      hit: F.grouped(row.linesHit), down: F.hours(seconds: row.outageSeconds),
                      availability: F.percent(row.availability, decimals: 4),
                      barWidth: Self.number(Double(row.outageSeconds) / Double(longest) * 100))
            }
        }
        worstElements = worst(report.worstElements, named: true)
        worstCustomers = worst(report.worstCustomers, named: false)
        noWorstElements = worstElements.isEmpty
        noWorstCustomers = worstCustomers.isEmpty
        let currencies = Set(report.months.flatMap(\.totals.keys)).sorted()
        self.credits = currencies.map { currency -> ColumnChart in
            var months: [(String, [(String, Double, String)])] = []
            for month in report.months {
                let amount = month.totals[currency] ?? 0
                months.append((month.month + (month.closed ? "" : " (open)"),
                               [("credit", Double(max(amount, 0)), "\(month.month): \(F.money(amount, currency))")]))
            }
            return Self.columns(id: "credits-\(currency)", title: "Credits per month, \(currency)", columns: months,
                                format: { F.money(Int64($0), currency) })
        }
        noCredits = self.credits.isEmpty
    }

    static let chartWidth = 700.0
    static let left = 90.0
    static let plotHeight = 160.0
    static let top = 10.0

    /// Stacked columns, each `(label, [(kind, value, title)])`, on a scale from 0 to a round maximum.
    static func columns(id: String, title: String, columns input: [(String, [(String, Double, String)])],
                        format: (Double) -> String) -> ColumnChart {
        let highest = input.map { $0.1.reduce(0) { $0 + $1.1 } }.max() ?? 0
        let scale = niceCeiling(highest)
        let slot = (chartWidth - left - 10) / Double(max(input.count, 1))
        let width = slot * 0.7
        let base = top + plotHeight
        let every = max(1, Int((Double(input.count) / 27).rounded(.up)))
        let columns = input.enumerated().map { index, column -> Column in
            let x = left + Double(index) * slot + (slot - width) / 2
            var y = base
            let segments = column.1.filter { $0.1 > 0 }.map { kind, value, title -> Segment in
                let height = value / scale * plotHeight
                y -= height
                return Segment(x: number(x), y: number(y), width: number(width), height: number(height), kind: kind, title: title)
            }
            return Column(segments: segments, label: column.0, labelX: number(x + width / 2), showLabel: index % every == 0)
        }
        // A middle line only where it falls on a whole number (a count of 5 has none at 2.5).
        let fractions = (scale / 2).rounded() == scale / 2 ? [0.0, 0.5, 1.0] : [0.0, 1.0]
        let ticks = fractions.map { Tick(y: number(base - $0 * plotHeight), label: format(scale * $0)) }
        return ColumnChart(id: id, title: title, height: number(base + 40), columns: columns, ticks: ticks, baseY: number(base))
    }

    /// Horizontal bars, each `(label, value, value text, kind)`.
    static func rows(id: String, title: String, rows input: [(String, Double, String, String)]) -> RowChart {
        let scale = max(input.map(\.1).max() ?? 0, 1)
        let rows = input.enumerated().map { index, row -> Row in
            let y = Double(index) * 24 + 4
            let width = row.1 / scale * 330
            return Row(label: row.0, y: number(y), textY: number(y + 14), width: number(width),
                       valueX: number(300 + width + 6), value: row.2, kind: row.3)
        }
        return RowChart(id: id, title: title, height: number(Double(input.count) * 24 + 8), rows: rows)
    }

    /// 1, 2 or 5 times a power of ten at or above `value` (at least 1).
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 1 else { return 1 }
        var power = 1.0
        while power * 10 < value { power *= 10 }
        for step in [1.0, 2.0, 5.0, 10.0] where step * power >= value { return step * power }
        return 10 * power
    }
}
