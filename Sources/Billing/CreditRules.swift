import ForewarnModel

/// What one rule of a policy gave.
public struct RuleCredit: Sendable, Hashable {
    public var kind: String
    public var amount: ExactRatio
    /// How the amount was reached, for `credits explain`.
    public var working: String
}

/// A period's credit for one line, with every step of the arithmetic.
public struct CreditComputation: Sendable, Hashable {
    public var rules: [RuleCredit]
    public var combined: ExactRatio
    public var capped: ExactRatio
    public var rounded: Int64
    /// The amount credited: `rounded`, or 0 below the minimum payout.
    public var amount: Money
    /// The arithmetic from availability to the amount, one step a line.
    public var steps: [String]
}

/// Evaluates a credit policy exactly: availability and percentages as integer ratios, money in
/// minor units, rounded once at the end by the policy's rule.
public enum CreditRules {
    static let percentScale = 100 * Percentage.scale

    /// `trace`: also write out every step (for `credits explain`); a billing run leaves it off.
    public static func evaluate(_ policy: CreditPolicy, contract: Contract, periodSeconds: Int64, days: Int,
                                outageSeconds: Int64, restoreTimes: [RestoreTime],
                                trace: Bool = true) throws(BillingError) -> CreditComputation {
        let fee = contract.monthlyFee
        let digits = Money.minorDigits(fee.currency)
        func money(_ ratio: ExactRatio) -> String { trace ? "\(ratio.decimal(scaleDigits: digits)) \(fee.currency)" : "" }
        func percentOfFee(_ percent: Percentage) throws(BillingError) -> ExactRatio {
            try ExactRatio(fee.minorUnits).multiplied(by: try ExactRatio(percent.millionths, percentScale))
        }
        let available = periodSeconds - outageSeconds
        let feeRatio = try ExactRatio(fee.minorUnits)
        var steps: [String] = []
        func step(_ text: @autoclosure () -> String) { if trace { steps.append(text()) } }
        step("availability = (\(periodSeconds) s − \(outageSeconds) s) / \(periodSeconds) s = "
             + "\(Availability.percentText(outage: outageSeconds, period: periodSeconds)) %")
        var rules: [RuleCredit] = []
        func working(_ text: @autoclosure () -> String) -> String { trace ? text() : "" }
        for rule in policy.rules {
            switch rule {
            case .tiers(let tiers):
                // availability < below  ⇔  available × 100 × 10⁶ < below.millionths × period
                let band = tiers.last { tier in
                    available.multipliedFullWidth(by: percentScale) < tier.below.millionths.multipliedFullWidth(by: periodSeconds)
                }
                if let band {
                    let amount = try percentOfFee(band.credit)
                    rules.append(RuleCredit(kind: rule.kind, amount: amount, working: working(
                        "availability below \(band.below) % → \(band.credit) % of \(money(feeRatio)) = \(money(amount))")))
                } else {
                    rules.append(RuleCredit(kind: rule.kind, amount: .zero, working: working(
                        "availability in no band (highest bound \(tiers.first.map { "\($0.below) %" } ?? "none")) → 0")))
                }
            case .perStep(let stepSize, let credit):
                // shortfall in millionths of a percent, times the period: target × P − available × 10⁸
                let target = contract.availabilityTarget
                let shortfall = try ExactRatio.checkedAdd(try ExactRatio.checkedMultiply(target.millionths, periodSeconds),
                                                          -(try ExactRatio.checkedMultiply(available, percentScale)))
                let count = shortfall <= 0 ? 0 : try ExactRatio(shortfall, try ExactRatio.checkedMultiply(stepSize.millionths, periodSeconds)).ceiling
                let amount = try percentOfFee(credit).multiplied(by: count)
                rules.append(RuleCredit(kind: rule.kind, amount: amount, working: working(shortfall <= 0
                    ? "availability not below the target \(target) % → 0"
                    : "\(count) started step(s) of \(stepSize) % below the target \(target) % × \(credit) % of the fee = \(money(amount))")))
            case .restoreTime(let guaranteed, let perHour):
                let guaranteedSeconds = guaranteed.components.seconds
                var total = ExactRatio.zero
                var parts: [String] = []
                for restore in restoreTimes where restore.seconds > guaranteedSeconds {
                    let hours = try ExactRatio(restore.seconds - guaranteedSeconds, 3600).ceiling
                    let each: ExactRatio
                    switch perHour {
                    case .percentOfFee(let percent): each = try percentOfFee(percent)
                    case .fixed(let amount): each = try ExactRatio(amount.minorUnits)
                    }
                    let amount = try each.multiplied(by: hours)
                    total = try total.adding(amount)
                    if trace {
                        parts.append("incident \(restore.incident) restored after \(DurationText.format(.seconds(restore.seconds))), "
                        + "\(hours) started hour(s) beyond \(DurationText.format(guaranteed)) × \(money(each)) = \(money(amount))")
                    }
                }
                rules.append(RuleCredit(kind: rule.kind, amount: total, working: working(parts.isEmpty
                    ? "no incident restored later than \(DurationText.format(guaranteed)) → 0" : parts.joined(separator: "; "))))
            case .outageDays(let divisor, let maxDays):
                let started = try ExactRatio(outageSeconds, 86_400).ceiling
                let counted = maxDays.map { min(started, Int64($0)) } ?? started
                let perDay = try ExactRatio(fee.minorUnits, divisor == .thirty ? 30 : Int64(days))
                let amount = try perDay.multiplied(by: counted)
                rules.append(RuleCredit(kind: rule.kind, amount: amount, working: working(
                    "\(started) started day(s) of outage\(counted < started ? ", at most \(counted)" : "") × "
                        + "\(money(feeRatio)) / \(divisor == .thirty ? 30 : days) = \(money(amount))")))
            }
        }
        for rule in rules { step("rule \(rule.kind): \(rule.working)") }
        var combined = ExactRatio.zero
        switch policy.combine {
        case .sum:
            for rule in rules { combined = try combined.adding(rule.amount) }
            step("sum of the rules = \(money(combined))")
        case .max:
            combined = rules.map(\.amount).max() ?? .zero
            step("largest of the rules = \(money(combined))")
        }
        let cap = try percentOfFee(policy.cap)
        let capped = min(combined, cap)
        step("cap \(policy.cap) % of the fee = \(money(cap)) → \(money(capped))")
        // An amount at a cap that is not a whole minor unit rounds down to it: never above the cap.
        let rounded = min(capped.rounded(policy.rounding), cap.floor)
        let roundedRatio = try ExactRatio(rounded)
        step("rounded \(policy.rounding.rawValue) to the minor unit → \(money(roundedRatio))")
        var credited = rounded
        if let minimum = policy.minimumPayout {
            if rounded < minimum.minorUnits {
                credited = 0
                step("below the minimum payout \(minimum.decimalText) \(minimum.currency) → 0")
            } else {
                step("not below the minimum payout \(minimum.decimalText) \(minimum.currency)")
            }
        }
        let amount = Money(minorUnits: credited, currency: fee.currency)
        step("credit = \(amount.decimalText) \(amount.currency)")
        return CreditComputation(rules: rules, combined: combined, capped: capped, rounded: rounded, amount: amount,
                                 steps: steps)
    }
}

public enum Availability {
    /// `(period − outage) / period` as a percentage with four decimals, rounded half-up: `99.5833`.
    public static func percentText(outage: Int64, period: Int64) -> String {
        guard period > 0 else { return "100.0000" }
        let ratio = (try? ExactRatio((period - outage) * 1_000_000, period)) ?? .zero
        let tenThousandths = ratio.rounded(.halfUp)
        let fraction = String(tenThousandths % 10_000)
        return "\(tenThousandths / 10_000).\(String(repeating: "0", count: 4 - fraction.count))\(fraction)"
    }
}
