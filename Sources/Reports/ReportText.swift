import ForewarnModel
import Persistence

/// `forewarn status --period P` as text: every line fits 80 columns.
extension OperationsReport {
    public static let textWidth = 80

    public var text: String {
        typealias F = ReportFormatting
        let (first, last) = (period.first, period.last)
        var out: [String] = []
        out.append("Forewarn operations report \(period): \(first) – \(last), \(TerminalText.escape(zone))")
        out.append("as of \(RFC3339.format(asOf))" + (asOf < end ? " (the period has not ended)" : ""))
        out.append("")
        out.append("KPI                  value       target   status      counted")
        func row(_ name: String, _ value: String, _ target: String, _ status: TargetStatus, _ counted: String) {
            out.append(F.padded(name, 21) + F.padded(value, 12) + F.padded(target, 9) + F.padded(status.rawValue, 12) + counted)
        }
        row("proactive rate", F.percent(kpis.proactive, decimals: 1), F.target(">", targets.proactiveRate),
            kpis.proactiveStatus, "\(F.grouped(kpis.proactive.numerator)) of \(F.grouped(kpis.proactive.denominator)) incidents")
        row("lines hit", F.percent(kpis.linesHit, decimals: 2), F.target("<", targets.linesHit), kpis.linesHitStatus,
            "\(F.grouped(kpis.linesHit.numerator)) of \(F.grouped(kpis.linesHit.denominator)) lines")
        row("fixed within a day", F.percent(kpis.fixedWithinDay, decimals: 1), F.target("≥", targets.fixedWithinDay),
            kpis.fixedWithinDayStatus, "\(F.grouped(kpis.fixedWithinDay.numerator)) of "
                + "\(F.grouped(kpis.fixedWithinDay.denominator)) called")
        if kpis.linesHitStatus == .notJudged { out.append(String(repeating: " ", count: 21) + "lines hit: the target is per quarter") }
        if kpis.fixedPending > 0 {
            out.append(String(repeating: " ", count: 21) + "fixed within a day: \(F.grouped(kpis.fixedPending)) called about "
                       + "< 24 h ago, still open")
        }
        out.append("")
        func line(_ name: String, _ value: String) { out.append(F.padded(name, 21) + value) }
        if let lead = kpis.leadTime {
            line("detection lead time", "median \(F.duration(milliseconds: lead.median, signed: true)), "
                 + "p90 \(F.duration(milliseconds: lead.p90, signed: true)) (\(F.grouped(lead.incidents)) called about)")
        } else {
            line("detection lead time", "- (no incident called about)")
        }
        line("time to detect", kpis.meanTimeToDetect.map { "mean \(F.duration(milliseconds: $0))" } ?? "-")
        line("time to restore", (kpis.meanTimeToRestore.map { "mean \(F.duration(milliseconds: $0))" } ?? "-")
             + " (\(F.grouped(kpis.restored)) restored, \(F.grouped(kpis.stillOpen)) still open)")
        line("availability", "\(F.percent(kpis.availability, decimals: 4)) over \(F.grouped(kpis.linesHit.denominator)) lines "
             + "(\(F.hours(seconds: kpis.outageLineSeconds)) line-hours down)")
        let severities = F.severities.compactMap { severity in
            kpis.bySeverity[severity].map { "\(F.grouped($0)) \(severity.rawValue)" }
        }
        line("incidents", F.grouped(kpis.incidents) + (severities.isEmpty ? "" : ": " + severities.joined(separator: ", ")))
        let credits = kpis.credits.keys.sorted().map { F.money(kpis.credits[$0]!, $0) }
        line("credits", credits.isEmpty ? "none" : credits.joined(separator: ", "))

        out.append("")
        out.append("incidents per week          minor   major  critical")
        for week in weeks {
            out.append(F.padded("\(week.name) (\(week.monday))", 26)
                       + [Severity.minor, .major, .critical].map { F.right(F.grouped(week.bySeverity[$0] ?? 0), $0 == .critical ? 10 : 8) }
                        .joined())
        }

        out.append("")
        out.append("first call − detection (incidents)")
        for bucket in leadTimes { out.append("  " + F.padded(bucket.label, 40) + F.right(F.grouped(bucket.incidents), 8)) }
        out.append("  " + F.padded("not called about", 40) + F.right(F.grouped(notCalled), 8))

        out.append("")
        out.append("availability per element (elements)")
        for band in bands { out.append("  " + F.padded(band.label, 40) + F.right(F.grouped(band.elements), 8)) }

        func worst(_ title: String, _ rows: [Availability], named: Bool) {
            out.append("")
            out.append(F.padded(title, 36) + "lines    hit  down (line-h)  availability")
            if rows.isEmpty { out.append("  none") }
            for row in rows {
                let label = named && row.name != row.id ? "\(row.id) \(row.name)" : row.id
                out.append("  " + F.padded(F.fit(TerminalText.escape(label), 32), 32) + F.right(F.grouped(row.lines), 7)
                           + F.right(F.grouped(row.linesHit), 7) + F.right(F.hours(seconds: row.outageSeconds), 15)
                           + F.right(F.percent(row.availability, decimals: 4), 14))
            }
        }
        worst("worst elements", worstElements, named: true)
        worst("worst customers", worstCustomers, named: false)

        out.append("")
        out.append("credits per month")
        if months.isEmpty { out.append("  none") }
        for month in months {
            let totals = month.totals.keys.sorted().map { F.money(month.totals[$0]!, $0) }
            out.append("  \(month.month) \(F.padded(month.closed ? "(closed)" : "(open)", 9)) "
                       + (totals.isEmpty ? "none" : totals.joined(separator: ", ")))
        }
        return out.map { F.fit($0, Self.textWidth) }.joined(separator: "\n") + "\n"
    }
}
