/// An exact amount in the currency's minor units (haléř, cent). Never a floating-point number.
public struct Money: Sendable, Hashable, Codable, CustomStringConvertible {
    public var minorUnits: Int64
    /// ISO 4217 code, three upper-case letters.
    public var currency: String

    public init(minorUnits: Int64, currency: String) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func isValidCurrency(_ code: String) -> Bool {
        code.utf8.count == 3 && code.utf8.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }

    /// `1499.00 CZK` for two-decimal currencies; the amount itself stays integral.
    public var description: String {
        let sign = minorUnits < 0 ? "-" : ""
        let magnitude = minorUnits.magnitude
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction) \(currency)"
    }
}

/// A percentage held exactly, in millionths of a percent (99.95 % = 99_950_000).
public struct Percentage: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public static let scale: Int64 = 1_000_000
    public var millionths: Int64

    public init(millionths: Int64) { self.millionths = millionths }

    /// Parses `99.9`, `99.95`, `100` (at most six decimals); nil for anything else or outside 0…100.
    public init?(decimal text: some StringProtocol) {
        let string = String(text)
        let parts = string.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit),
              let wholeValue = Int64(whole), wholeValue <= 100 else { return nil }
        var value = wholeValue * Self.scale
        if parts.count == 2 {
            let fraction = parts[1]
            guard !fraction.isEmpty, fraction.count <= 6, fraction.allSatisfy(\.isASCIIDigit),
                  let digits = Int64(fraction) else { return nil }
            var multiplier = Self.scale
            for _ in 0..<fraction.count { multiplier /= 10 }
            value += digits * multiplier
        }
        guard value <= 100 * Self.scale else { return nil }
        self.millionths = value
    }

    public static func < (lhs: Percentage, rhs: Percentage) -> Bool { lhs.millionths < rhs.millionths }

    public var description: String {
        let whole = millionths / Self.scale
        var fraction = String(millionths % Self.scale)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)" : "\(whole).\(fraction)"
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
