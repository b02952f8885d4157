import ForewarnModel

/// How reports write numbers, durations and amounts, the same in text and HTML.
enum ReportFormatting {
    /// `1,234,567`.
    static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }

    static func grouped(_ value: Int) -> String { grouped(Int64(value)) }

    /// Milliseconds as `4 min 10 s`, `2 h 05 min`, `3 d 4 h`, `850 ms`; `signed` adds `+` to a
    /// positive value.
    static func duration(milliseconds: Int64, signed: Bool = false) -> String {
        let sign = milliseconds < 0 ? "-" : (signed && milliseconds > 0 ? "+" : "")
        let ms = milliseconds.magnitude
        let seconds = ms / 1000
        func two(_ value: UInt64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let text: String
        if seconds == 0 {
            text = "\(ms) ms"
        } else if seconds < 60 {
            text = "\(seconds) s"
        } else if seconds < 3_600 {
            text = seconds % 60 == 0 ? "\(seconds / 60) min" : "\(seconds / 60) min \(two(seconds % 60)) s"
        } else if seconds < 86_400 {
            text = "\(seconds / 3_600) h \(two(seconds % 3_600 / 60)) min"
        } else {
            text = "\(seconds / 86_400) d \(seconds % 86_400 / 3_600) h"
        }
        return sign + text
    }

    /// Line-seconds as hours with one decimal, truncated: `1,234.5`.
    static func hours(seconds: Int64) -> String {
        "\(grouped(seconds / 3_600)).\(seconds % 3_600 * 10 / 3_600)"
    }

    static func money(_ minorUnits: Int64, _ currency: String) -> String {
        let text = Money(minorUnits: minorUnits, currency: currency).decimalText
        let parts = text.split(separator: ".", maxSplits: 1)
        let whole = Int64(parts[0]) ?? 0
        let grouped = (text.hasPrefix("-") && whole == 0 ? "-" : "") + grouped(whole)
        return grouped + (parts.count == 2 ? "." + parts[1] : "") + " " + currency
    }

    static func percent(_ share: Share, decimals: Int) -> String {
        share.percentText(decimals: decimals).map { "\($0) %" } ?? "-"
    }

    static func target(_ comparison: String, _ target: Percentage) -> String { "\(comparison) \(target) %" }

    static let severities: [Severity] = [.minor, .major, .critical, .warning]

    /// `text` cut to `width` characters, the last one an ellipsis when cut.
    static func fit(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(width - 1)) + "…"
    }

    static func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func right(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
