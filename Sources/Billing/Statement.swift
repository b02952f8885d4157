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

    private let templates: [String: MustacheTemplate]

    public init(_ sources: [String: String] = StatementTemplates.shipped) throws(BillingError) {
        var templates: [String: MustacheTemplate] = [:]
        for (language, text) in sources {
            do {
                templates[language] = try MustacheTemplate(string: text)
            } catch {
                throw BillingError("the statement template for '\(language)' is not valid Mustache: \(error)")
            }
        }
        self.templates = templates
    }

    public var languages: [String] { templates.keys.sorted() }

    /// The bill's text for a credit, or "" for no credit.
    public func render(_ amount: Money, outage: SecondSpans, outageSeconds: Int64, locale: String, zone: TimeZone,
                       period: BillingPeriod, adjusts: BillingPeriod? = nil) -> String {
        guard amount.minorUnits != 0 else { return "" }
        let format = StatementFormat(locale: locale)
        let template = templates[format.language] ?? templates["en"] ?? templates.values.first!
        let spans = outage.spans
        var outages: [[String: Any]] = []
        for (index, span) in spans.prefix(Self.listed).enumerated() {
            let (from, to) = format.range(span, zone: zone)
            outages.append(["from": from, "to": to, "last": index == min(spans.count, Self.listed) - 1])
        }
        var context: [String: Any] = [
            "outages": outages, "duration": format.duration(outageSeconds), "amount": format.money(amount),
            "period": format.period(period), "adjustment": adjusts != nil,
        ]
        if spans.count > Self.listed { context["more"] = String(spans.count - Self.listed) }
        if let adjusts { context["adjusts"] = format.period(adjusts) }
        return template.render(context).trimmingCharacters(in: .whitespacesAndNewlines)
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

    func components(_ seconds: Int64, _ zone: TimeZone) -> DateComponents {
        BillingPeriod.calendar(zone).dateComponents([.year, .month, .day, .hour, .minute],
                                                    from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    func date(_ c: DateComponents) -> String {
        czech ? "\(c.day!). \(c.month!). \(c.year!)" : "\(c.day!) \(Self.englishMonths[c.month! - 1]) \(c.year!)"
    }

    func time(_ c: DateComponents) -> String {
        let minute = c.minute! < 10 ? "0\(c.minute!)" : "\(c.minute!)"
        if czech { return "\(c.hour!):\(minute)" }
        return "\(c.hour! < 10 ? "0" : "")\(c.hour!):\(minute)"
    }

    /// `10. 11. 2026 9:00` and `12:00` on one day; both with dates when it spans days.
    func range(_ span: SecondSpans.Span, zone: TimeZone) -> (String, String) {
        let start = components(span.start, zone)
        let end = components(span.end, zone)
        let from = "\(date(start)) \(time(start))"
        let sameDay = (start.year, start.month, start.day) == (end.year, end.month, end.day)
        return (from, sameDay ? time(end) : "\(date(end)) \(time(end))")
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
