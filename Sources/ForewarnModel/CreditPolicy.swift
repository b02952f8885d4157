/// How a contract turns outage time into a credit on the customer's bill, as written in
/// `credit_policies:`. Evaluated by the Billing module; amounts and percentages are exact.

public struct PolicyID: StringIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

public struct CreditPolicy: Sendable, Hashable, Identifiable {
    /// Which rules' credits make the amount: their sum, or the largest of them.
    public enum Combine: String, Sendable, Hashable, CaseIterable, Codable {
        case sum, max
    }

    /// How the final amount is rounded to the currency's minor unit (once, at the end).
    public enum Rounding: String, Sendable, Hashable, CaseIterable, Codable {
        case halfUp = "half-up"
        case halfEven = "half-even"
    }

    public var id: PolicyID
    public var rules: [CreditRule]
    public var combine: Combine
    /// The most a period's credit can be, as a percentage of the monthly fee.
    public var cap: Percentage
    /// A credit below this amount (after rounding) is not paid; nil pays every amount.
    public var minimumPayout: Money?
    public var rounding: Rounding

    public init(id: PolicyID, rules: [CreditRule], combine: Combine = .sum,
                cap: Percentage = Percentage(millionths: 100 * Percentage.scale), minimumPayout: Money? = nil,
                rounding: Rounding = .halfUp) {
        (self.id, self.rules, self.combine, self.cap) = (id, rules, combine, cap)
        (self.minimumPayout, self.rounding) = (minimumPayout, rounding)
    }
}

/// One rule of a credit policy, as telecom SLAs write them.
public enum CreditRule: Sendable, Hashable {
    /// Availability bands: the worst band the period's availability falls in gives its percent
    /// of the monthly fee. Listed from the highest bound down.
    case tiers([AvailabilityTier])
    /// `credit` percent of the fee for every `step` (or part of it) the availability falls
    /// below the contract's target.
    case perStep(step: Percentage, credit: Percentage)
    /// A guaranteed time to restore per incident; for every started hour beyond it, `perHour`.
    case restoreTime(guaranteed: Duration, perHour: CreditAmount)
    /// One day's fee for every started 24 hours of outage, at most `maxDays` days.
    case outageDays(divisor: DayDivisor, maxDays: Int?)

    public var kind: String {
        switch self {
        case .tiers: return "tiers"
        case .perStep: return "per_step"
        case .restoreTime: return "restore_time"
        case .outageDays: return "outage_days"
        }
    }
}

public struct AvailabilityTier: Sendable, Hashable {
    /// The band applies when availability is strictly below this.
    public var below: Percentage
    /// Percent of the monthly fee credited.
    public var credit: Percentage

    public init(below: Percentage, credit: Percentage) {
        self.below = below
        self.credit = credit
    }
}

/// An amount per unit: a percentage of the monthly fee, or a fixed amount.
public enum CreditAmount: Sendable, Hashable {
    case percentOfFee(Percentage)
    case fixed(Money)
}

/// What one day's fee is: the fee divided by the days of the billing month, or by 30.
public enum DayDivisor: String, Sendable, Hashable, CaseIterable, Codable {
    case daysInMonth = "days-in-month"
    case thirty = "30"
}

extension Money {
    /// ISO 4217 minor-unit digits: 2 unless the currency is one of the few with 0 or 3.
    public static func minorDigits(_ currency: String) -> Int {
        switch currency {
        case "JPY", "KRW", "ISK", "CLP", "VND", "UGX", "PYG", "XAF", "XOF", "RWF", "KMF", "GNF", "DJF", "VUV", "XPF":
            return 0
        case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
            return 3
        default:
            return 2
        }
    }

    /// The amount in major units with the currency's minor digits, `1499.00`, `-0.50`, `1200`.
    public var decimalText: String {
        let digits = Money.minorDigits(currency)
        let sign = minorUnits < 0 ? "-" : ""
        let magnitude = minorUnits.magnitude
        guard digits > 0 else { return "\(sign)\(magnitude)" }
        var divisor: UInt64 = 1
        for _ in 0..<digits { divisor *= 10 }
        let fraction = String(magnitude % divisor)
        return "\(sign)\(magnitude / divisor).\(String(repeating: "0", count: digits - fraction.count))\(fraction)"
    }

    /// Parses `500`, `500.00`, `12.5` in major units into minor units of `currency`; nil when it
    /// has more decimals than the currency has minor digits, or is not a plain decimal.
    public init?(decimal text: some StringProtocol, currency: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let digits = Money.minorDigits(currency)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit),
              whole.count <= 15, var value = Int64(whole) else { return nil }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard parts.count == 1 || !fraction.isEmpty, fraction.count <= digits, fraction.allSatisfy(\.isASCIIDigit)
        else { return nil }
        fraction += String(repeating: "0", count: digits - fraction.count)
        for _ in 0..<digits { value *= 10 }
        value += fraction.isEmpty ? 0 : Int64(fraction)!
        self.init(minorUnits: value, currency: currency)
    }
}
