import ForewarnModel

/// Why a credit could not be computed or the ledger refused an operation.
public struct BillingError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An exact fraction of minor units (or of anything), always reduced, denominator positive.
/// Money is never a floating-point number: every rule yields one of these and the amount is
/// rounded once, at the end. An operation whose result does not fit 64 bits throws rather
/// than produce a wrong amount.
public struct ExactRatio: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let numerator: Int64
    public let denominator: Int64

    public static let zero = ExactRatio(reduced: 0, 1)

    private init(reduced numerator: Int64, _ denominator: Int64) {
        self.numerator = numerator
        self.denominator = denominator
    }

    public init(_ numerator: Int64, _ denominator: Int64 = 1) throws(BillingError) {
        guard denominator != 0 else { throw BillingError("division by zero") }
        guard numerator != .min, denominator != .min else { throw Self.overflow }
        let sign: Int64 = denominator < 0 ? -1 : 1
        let divisor = Self.gcd(numerator.magnitude, denominator.magnitude)
        self.numerator = sign * numerator / Int64(divisor)
        self.denominator = sign * denominator / Int64(divisor)
    }

    static let overflow = BillingError("an amount does not fit in 64-bit minor units")

    static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return max(a, 1)
    }

    static func checkedMultiply(_ a: Int64, _ b: Int64) throws(BillingError) -> Int64 {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        if overflow { throw Self.overflow }
        return value
    }

    static func checkedAdd(_ a: Int64, _ b: Int64) throws(BillingError) -> Int64 {
        let (value, overflow) = a.addingReportingOverflow(b)
        if overflow { throw Self.overflow }
        return value
    }

    public func adding(_ other: ExactRatio) throws(BillingError) -> ExactRatio {
        let common = Self.gcd(denominator.magnitude, other.denominator.magnitude)
        let left = try Self.checkedMultiply(numerator, other.denominator / Int64(common))
        let right = try Self.checkedMultiply(other.numerator, denominator / Int64(common))
        return try ExactRatio(try Self.checkedAdd(left, right),
                              try Self.checkedMultiply(denominator / Int64(common), other.denominator))
    }

    public func subtracting(_ other: ExactRatio) throws(BillingError) -> ExactRatio {
        try adding(ExactRatio(reduced: -other.numerator, other.denominator))
    }

    /// Cross-cancels before multiplying, so `fee × 10 / 100` never needs more than 64 bits.
    public func multiplied(by other: ExactRatio) throws(BillingError) -> ExactRatio {
        let first = Int64(Self.gcd(numerator.magnitude, other.denominator.magnitude))
        let second = Int64(Self.gcd(other.numerator.magnitude, denominator.magnitude))
        return try ExactRatio(try Self.checkedMultiply(numerator / first, other.numerator / second),
                              try Self.checkedMultiply(denominator / second, other.denominator / first))
    }

    public func multiplied(by factor: Int64) throws(BillingError) -> ExactRatio {
        try multiplied(by: ExactRatio(factor))
    }

    /// Compared through 128-bit products: exact for every pair of ratios.
    public static func < (lhs: ExactRatio, rhs: ExactRatio) -> Bool {
        let left = lhs.numerator.multipliedFullWidth(by: rhs.denominator)
        let right = rhs.numerator.multipliedFullWidth(by: lhs.denominator)
        return left.high != right.high ? left.high < right.high : left.low < right.low
    }

    /// The nearest integer by `mode`; a tie goes away from zero (`halfUp`) or to the even neighbour.
    public func rounded(_ mode: CreditPolicy.Rounding) -> Int64 {
        let quotient = numerator / denominator
        let remainder = (numerator % denominator).magnitude
        let rest = denominator.magnitude - remainder
        let away: Bool
        if remainder == 0 {
            away = false
        } else if remainder > rest {
            away = true
        } else if remainder < rest {
            away = false
        } else {
            away = mode == .halfUp || quotient % 2 != 0
        }
        return away ? quotient + (numerator < 0 ? -1 : 1) : quotient
    }

    /// The largest integer not above this ratio.
    public var floor: Int64 {
        let quotient = numerator / denominator
        return numerator % denominator < 0 ? quotient - 1 : quotient
    }

    /// The smallest integer not below this ratio.
    public var ceiling: Int64 {
        let quotient = numerator / denominator
        return numerator % denominator > 0 ? quotient + 1 : quotient
    }

    /// `12.5`, or `1/3` when the decimal expansion does not end within 8 digits.
    public var description: String { decimal(scaleDigits: 0) }

    /// This ratio divided by 10^scaleDigits, as a decimal: minor units shown in major units
    /// (`4990/1` with 2 digits is `49.90`); exact, or `≈…` with 8 more digits when it does not end.
    public func decimal(scaleDigits: Int) -> String {
        var denominator = self.denominator.magnitude
        for _ in 0..<scaleDigits { denominator = denominator.multipliedReportingOverflow(by: 10).partialValue }
        let magnitude = numerator.magnitude
        var text = "\(numerator < 0 ? "-" : "")\(magnitude / denominator)"
        var remainder = magnitude % denominator
        var digits = ""
        while digits.count < max(scaleDigits, 0) || (remainder != 0 && digits.count < scaleDigits + 8) {
            let (product, overflow) = remainder.multipliedReportingOverflow(by: 10)
            if overflow { break }
            digits.append(String(product / denominator))
            remainder = product % denominator
        }
        if !digits.isEmpty { text += "." + digits }
        return remainder == 0 ? text : "≈" + text
    }
}
