import ForewarnModel

/// An exact share, `numerator` of `denominator`: rates are judged against their targets on the
/// fraction itself, and shown truncated (never better than they are).
public struct Share: Sendable, Hashable {
    public var numerator: Int64
    public var denominator: Int64

    public init(_ numerator: Int64, of denominator: Int64) {
        self.numerator = numerator
        self.denominator = denominator
    }

    public var isEmpty: Bool { denominator == 0 }

    /// `numerator / denominator` as a percentage with `decimals` decimals, truncated; nil when
    /// there is nothing to divide by.
    public func percentText(decimals: Int) -> String? {
        guard denominator > 0 else { return nil }
        var scale: UInt64 = 100
        for _ in 0..<decimals { scale *= 10 }
        // numerator × 100 × 10^decimals ÷ denominator, in 128 bits: line-seconds of a quarter
        // over 200,000 lines times 10^6 does not fit in 64.
        let product = UInt64(numerator.magnitude).multipliedFullWidth(by: scale)
        let (quotient, _) = UInt64(denominator).dividingFullWidth(product)
        var digits = String(quotient)
        if decimals > 0 {
            if digits.count <= decimals { digits = String(repeating: "0", count: decimals + 1 - digits.count) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
        }
        return (numerator < 0 ? "-" : "") + digits
    }

    /// -1, 0 or 1 as the share is below, at or above `target` (exactly).
    public func compare(to target: Percentage) -> Int {
        // numerator / denominator <=> millionths / (100 × 10^6)
        let left = UInt64(numerator.magnitude).multipliedFullWidth(by: UInt64(100 * Percentage.scale))
        let right = UInt64(target.millionths.magnitude).multipliedFullWidth(by: UInt64(denominator.magnitude))
        if left.high != right.high { return left.high < right.high ? -1 : 1 }
        if left.low != right.low { return left.low < right.low ? -1 : 1 }
        return 0
    }
}

/// How a KPI stands against its target.
public enum TargetStatus: String, Sendable, Hashable, Codable {
    case met
    case notMet = "not-met"
    /// Nothing to compute it from (no incident, no call, no line).
    case noData = "no-data"
    /// The target is for another kind of period (lines hit: a quarter).
    case notJudged = "not-judged"
}
