import Foundation
import ForewarnModel
import Mustache

/// The line the customer's bill prints for a credit, from a Mustache template per language,
/// with dates, durations and amounts formatted for the contract's locale in its time zone.
public struct StatementTemplates: Sendable {
    /// Templates shipped with Forewarn, by language. Variables: `outages` (each `from`, `to`,
    /// `last`), `more` (outages not listed), `duration`, `amount`, `period`, `adjustment`, `adjusts`.
    public static let shipped: [String: String] = [
        "cs": """
            {{#adjustment}}Oprava slevy za výpadky služby v období {{{adjusts}}}: {{{amount}}}{{/adjustment}}\
            {{^adjustment}}Výpadek služby {{#outages}}{{{from}}}–{{{to}}}{{^last}}, {{/last}}{{/outages}}\
            {{#more}} a další ({{{more}}}){{/more}} ({{{duration}}}), sleva {{{amount}}}{{/adjustment}}
            """,
        "en": """
            {{#adjustment}}Correction of the outage credit for {{{adjusts}}}: {{{amount}}}{{/adjustment}}\
            {{^adjustment}}Service outage {{#outages}}{{{from}}}–{{{to}}}{{^last}}, {{/last}}{{/outages}}\
            {{#more}} and {{{more}}} more{{/more}} ({{{duration}}}), credit {{{amount}}}{{/adjustment}}
            """,
    ]

    /// Outages listed by name; the rest are counted.
    static let listed = 3

    /// A template rendered once per shape (how many outages are listed, whether more follow,
    /// credit or adjustment) with a marker in place of each value: every value is a non-empty
    /// string, so sections over values render the same whatever the value, and a bill line is
    /// the pattern with the values put in, without walking the template for each of 200,000 rows.
    struct Pattern: Sendable {
        enum Piece: Sendable {
            case text(String)
            case slot(Int)
        }
        var pieces: [Piece]
    }

    struct Shape: Hashable, Sendable {
        var language: String
        var listed: Int
        var more: Bool
        var adjustment: Bool
    }

    static let slots = ["from0", "to0", "from1", "to1", "from2", "to2", "more", "duration", "amount", "period", "adjusts"]
    static func marker(_ slot: Int) -> String { "\u{1}\(Character(Unicode.Scalar(UInt8(65 + slot))))\u{1}" }

    private let patterns: [Shape: Pattern]
    public let languages: [String]

    public init(_ sources: [String: String] = StatementTemplates.shipped) throws(BillingError) {
        var patterns: [Shape: Pattern] = [:]
        for (language, text) in sources {
            let template: MustacheTemplate
            do {
                template = try MustacheTemplate(string: text)
            } catch {
                throw BillingError("the statement template for '\(language)' is not valid Mustache: \(error)")
            }
            for listed in 0...Self.listed {
                for more in [false, true] {
                    for adjustment in [false, true] {
                        let shape = Shape(language: language, listed: listed, more: more, adjustment: adjustment)
                        patterns[shape] = Self.pattern(template, shape)
                    }
                }
            }
        }
        self.patterns = patterns
        self.languages = sources.keys.sorted()
    }

    static func pattern(_ template: MustacheTemplate, _ shape: Shape) -> Pattern {
        var outages: [[String: Any]] = []
        for index in 0..<shape.listed {
            outages.append(["from": marker(2 * index), "to": marker(2 * index + 1), "last": index == shape.listed - 1])
        }
        var context: [String: Any] = [
            "outages": outages, "duration": marker(7), "amount": marker(8), "period": marker(9),
            "adjustment": shape.adjustment,
        ]
        if shape.more { context["more"] = marker(6) }
        if shape.adjustment { context["adjusts"] = marker(10) }
        let rendered = template.render(context).trimmingCharacters(in: .whitespacesAndNewlines)
        var pieces: [Pattern.Piece] = []
        for (index, part) in rendered.split(separator: "\u{1}", omittingEmptySubsequences: false).enumerated() {
            if index % 2 == 1, part.unicodeScalars.count == 1, let value = part.unicodeScalars.first?.value,
               value >= 65, value < 65 + UInt32(slots.count) {
                pieces.append(.slot(Int(value) - 65))
            } else if !part.isEmpty {
                pieces.append(.text(index % 2 == 1 ? "\u{1}\(part)\u{1}" : String(part)))
            }
        }
        return Pattern(pieces: pieces)
    }

    /// The bill's text for a credit, or "" for no credit.
    public func render(_ amount: Money, outage: SecondSpans, outageSeconds: Int64, locale: String, zone: TimeZone,
                       period: BillingPeriod, adjusts: BillingPeriod? = nil) -> String {
        render(amount, outage: outage, outageSeconds: outageSeconds, locale: locale, zone: zone, period: period,
               adjusts: adjusts, offsets: nil)
    }

    /// `offsets`: the zone's offsets over the period, known beforehand (a billing run).
    func render(_ amount: Money, outage: SecondSpans, outageSeconds: Int64, locale: String, zone: TimeZone,
                period: BillingPeriod, adjusts: BillingPeriod? = nil, offsets: ZoneOffsets?) -> String {
        guard amount.minorUnits != 0 else { return "" }
        let offsets = offsets ?? ZoneOffsets(zone, from: 0, to: -1)
        let format = StatementFormat(locale: locale)
        let language = languages.contains(format.language) ? format.language : (languages.contains("en") ? "en" : languages[0])
        let spans = outage.spans
        let listed = min(spans.count, Self.listed)
        let shape = Shape(language: language, listed: listed, more: spans.count > Self.listed, adjustment: adjusts != nil)
        guard let pattern = patterns[shape] else { return "" }
        var values = Array(repeating: "", count: Self.slots.count)
        for (index, span) in spans.prefix(listed).enumerated() {
            (values[2 * index], values[2 * index + 1]) = format.range(span, offsets: offsets)
        }
        values[6] = String(spans.count - listed)
        values[7] = format.duration(outageSeconds)
        values[8] = format.money(amount)
        values[9] = format.period(period)
        if let adjusts { values[10] = format.period(adjusts) }
        var text = ""
        for piece in pattern.pieces {
            switch piece {
            case .text(let literal): text += literal
            case .slot(let slot): text += values[slot]
            }
        }
        return text
    }
}

/// A time zone's offsets from UTC over a stretch of time (a billing period), found once from
/// its transitions rather than asked of the zone for every instant a bill prints. Outside the
/// stretch the zone is asked.
struct ZoneOffsets: Sendable {
    let zone: TimeZone
    let start: Int64
    let end: Int64
    /// From which second each offset holds, ascending; the first at `start`.
    private let changes: [(at: Int64, offset: Int)]

    /// `end < start`: no stretch, every offset is asked of the zone.
    init(_ zone: TimeZone, from start: Int64, to end: Int64) {
        (self.zone, self.start, self.end) = (zone, start, end)
        guard end >= start else {
            changes = []
            return
        }
        var instant = Date(timeIntervalSince1970: TimeInterval(start))
        var changes = [(at: start, offset: zone.secondsFromGMT(for: instant))]
        while let next = zone.nextDaylightSavingTimeTransition(after: instant), next > instant,
              next.timeIntervalSince1970 <= TimeInterval(end) {
            // The first whole second at or after the transition has the new offset.
            let at = Int64(next.timeIntervalSince1970.rounded(.up))
            changes.append((at, zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(at)))))
            instant = next
        }
        self.changes = changes
    }

    func offset(at seconds: Int64) -> Int {
        guard seconds >= start, seconds <= end, !changes.isEmpty else {
            return zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
        var offset = changes[0].offset
        for change in changes.dropFirst() {
            guard change.at <= seconds else { break }
            offset = change.offset
        }
        return offset
    }
}

/// Dates, durations and amounts as a Czech or English bill writes them. Written out rather
/// than left to the platform's locale data, so a bill reads the same on every machine.
struct StatementFormat {
    let language: String

    init(locale: String) {
        language = String(locale.prefix { $0 != "-" && $0 != "_" }).lowercased()
    }

    var czech: Bool { language == "cs" }

    static let englishMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The local civil time of an instant: the zone's offset at that instant, then the proleptic
    /// Gregorian date of the day number (H. Hinnant's civil_from_days), without a Calendar per call.
    struct Civil: Equatable {
        var year: Int
        var month: Int
        var day: Int
        var hour: Int
        var minute: Int
    }

    func components(_ seconds: Int64, _ offsets: ZoneOffsets) -> Civil {
        let local = seconds + Int64(offsets.offset(at: seconds))
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = local - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return Civil(year: Int(year), month: Int(month), day: Int(day), hour: Int(secondOfDay / 3_600),
                     minute: Int(secondOfDay % 3_600 / 60))
    }

    func date(_ c: Civil) -> String {
        var text = ""
        appendDate(c, to: &text)
        return text
    }

    func time(_ c: Civil) -> String {
        var text = ""
        appendTime(c, to: &text)
        return text
    }

    /// `10. 11. 2026` (Czech), `10 Nov 2026` (English).
    func appendDate(_ c: Civil, to text: inout String) {
        if czech {
            text += String(c.day)
            text += ". "
            text += String(c.month)
            text += ". "
        } else {
            text += String(c.day)
            text += " "
            text += Self.englishMonths[c.month - 1]
            text += " "
        }
        text += String(c.year)
    }

    /// `9:00` (Czech), `09:00` (English).
    func appendTime(_ c: Civil, to text: inout String) {
        if !czech && c.hour < 10 { text += "0" }
        text += String(c.hour)
        text += c.minute < 10 ? ":0" : ":"
        text += String(c.minute)
    }

    /// `10. 11. 2026 9:00` and `12:00` on one day; both with dates when it spans days.
    func range(_ span: SecondSpans.Span, offsets: ZoneOffsets) -> (String, String) {
        let start = components(span.start, offsets)
        let end = components(span.end, offsets)
        var from = ""
        appendDate(start, to: &from)
        from += " "
        appendTime(start, to: &from)
        var to = ""
        if (start.year, start.month, start.day) != (end.year, end.month, end.day) {
            appendDate(end, to: &to)
            to += " "
        }
        appendTime(end, to: &to)
        return (from, to)
    }

    /// `3 h`, `2 h 15 min`, `45 s`.
    func duration(_ seconds: Int64) -> String {
        let hours = seconds / 3600
        let minutes = seconds % 3600 / 60
        let rest = seconds % 60
        var parts: [String] = []
        if hours > 0 { parts.append("\(hours) h") }
        if minutes > 0 { parts.append("\(minutes) min") }
        if rest > 0 || parts.isEmpty { parts.append("\(rest) s") }
        return parts.joined(separator: " ")
    }

    func period(_ period: BillingPeriod) -> String {
        czech ? "\(period.month)/\(period.year)" : "\(Self.englishMonths[period.month - 1]) \(period.year)"
    }

    static let czechSymbols = ["CZK": "Kč", "EUR": "€", "USD": "US$", "GBP": "£"]
    static let englishSymbols = ["EUR": "€", "USD": "$", "GBP": "£"]

    /// `40,00 Kč`, `1 234,50 €` (Czech), `CZK 40.00`, `€1,234.50` (English).
    func money(_ amount: Money) -> String {
        let text = amount.decimalText
        let negative = text.hasPrefix("-")
        let unsigned = negative ? String(text.dropFirst()) : text
        let parts = unsigned.split(separator: ".")
        var whole = String(parts[0])
        var grouped = ""
        while whole.count > 3 {
            grouped = (czech ? "\u{00A0}" : ",") + whole.suffix(3) + grouped
            whole = String(whole.dropLast(3))
        }
        grouped = whole + grouped
        let number = parts.count > 1 ? grouped + (czech ? "," : ".") + parts[1] : grouped
        let sign = negative ? "−" : ""
        if czech { return "\(sign)\(number) \(Self.czechSymbols[amount.currency] ?? amount.currency)" }
        if let symbol = Self.englishSymbols[amount.currency] { return "\(sign)\(symbol)\(number)" }
        return "\(sign)\(amount.currency) \(number)"
    }
}
