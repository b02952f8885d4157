import Billing
import ForewarnModel
import Testing

/// Every rule kind, the cap, the minimum payout and rounding at the half, each amount worked out
/// by hand in its comment. Unless a case says otherwise: monthly fee 499.00 CZK (49,900 haléř),
/// availability target 99.9 %, November (30 days = 2,592,000 s).
@Suite struct CreditRulesTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var policy: CreditPolicy
        var fee: Int64 = 49_900
        var periodSeconds: Int64 = 2_592_000
        var days = 30
        var outage: Int64
        var restores: [Int64] = []
        var expected: Int64
        var testDescription: String { name }
    }

    static func percent(_ text: String) -> Percentage { Percentage(decimal: text)! }
    static let bands = CreditRule.tiers([
        AvailabilityTier(below: percent("99.9"), credit: percent("10")),
        AvailabilityTier(below: percent("99.5"), credit: percent("25")),
        AvailabilityTier(below: percent("99"), credit: percent("50")),
    ])
    static func policy(_ rules: [CreditRule], combine: CreditPolicy.Combine = .sum, cap: String = "100",
                       minimum: Int64? = nil, rounding: CreditPolicy.Rounding = .halfUp) -> CreditPolicy {
        CreditPolicy(id: "p", rules: rules, combine: combine, cap: percent(cap),
                     minimumPayout: minimum.map { Money(minorUnits: $0, currency: "CZK") }, rounding: rounding)
    }

    static let cases: [Case] = [
        // 3 h: (2,592,000 − 10,800) / 2,592,000 = 99.5833 %: below 99.9, not below 99.5 → 10 % × 49,900 = 4,990.
        Case(name: "tiers, first band", policy: policy([bands]), outage: 10_800, expected: 4_990),
        // 4 h: 2,577,600 / 2,592,000 = 99.4444 % < 99.5 → 25 % × 49,900 = 12,475.
        Case(name: "tiers, second band", policy: policy([bands]), outage: 14_400, expected: 12_475),
        // 2,592 s is exactly 0.1 %: availability 99.9 % is not below 99.9 → 0.
        Case(name: "tiers, exactly at the bound", policy: policy([bands]), outage: 2_592, expected: 0),
        // One second more: 99.89996 % < 99.9 → 4,990.
        Case(name: "tiers, a second past the bound", policy: policy([bands]), outage: 2_593, expected: 4_990),
        // 8 h: 2,563,200 / 2,592,000 = 98.8889 % < 99 → 50 % × 49,900 = 24,950.
        Case(name: "tiers, worst band", policy: policy([bands]), outage: 28_800, expected: 24_950),
        // 3 h: shortfall 99.9 − 99.5833 = 0.3167 % → 4 started steps of 0.1 % × 5 % = 20 % × 49,900 = 9,980.
        Case(name: "per_step, part of a step counts",
             policy: policy([.perStep(step: percent("0.1"), credit: percent("5"))]), outage: 10_800, expected: 9_980),
        // 7,776 s = 0.3 %: availability 99.7 %, shortfall exactly 2 steps × 5 % = 10 % × 49,900 = 4,990.
        Case(name: "per_step, whole steps",
             policy: policy([.perStep(step: percent("0.1"), credit: percent("5"))]), outage: 7_776, expected: 4_990),
        // Availability exactly at the target: no shortfall → 0.
        Case(name: "per_step, at the target",
             policy: policy([.perStep(step: percent("0.1"), credit: percent("5"))]), outage: 2_592, expected: 0),
        // 8 h guaranteed; restored after 8 h (0 h), 8 h 0 min 1 s (1 started hour), 12 h (4 h): 5 h × 2 % × 49,900 = 4,990.
        Case(name: "restore_time, percent per started hour",
             policy: policy([.restoreTime(guaranteed: .seconds(28_800), perHour: .percentOfFee(percent("2")))]),
             outage: 72_001, restores: [28_800, 28_801, 43_200], expected: 4_990),
        // 9 h 30 min: 1 h 30 min beyond 8 h = 2 started hours × 100.00 CZK = 20,000.
        Case(name: "restore_time, fixed amount per started hour",
             policy: policy([.restoreTime(guaranteed: .seconds(28_800),
                                          perHour: .fixed(Money(minorUnits: 10_000, currency: "CZK")))]),
             outage: 34_200, restores: [34_200], expected: 20_000),
        // 24 h + 1 s = 2 started days × 49,900 / 30 days = 3,326.67 → 3,327.
        Case(name: "outage_days, days in the month",
             policy: policy([.outageDays(divisor: .daysInMonth, maxDays: nil)]), outage: 86_401, expected: 3_327),
        // December (31 days): 3 days × 49,900 / 31 = 4,829.03 → 4,829.
        Case(name: "outage_days, 31-day month",
             policy: policy([.outageDays(divisor: .daysInMonth, maxDays: nil)]), periodSeconds: 2_678_400, days: 31,
             outage: 259_200, expected: 4_829),
        // December with the ÷ 30 rule: 3 × 49,900 / 30 = 4,990.
        Case(name: "outage_days, divided by 30",
             policy: policy([.outageDays(divisor: .thirty, maxDays: nil)]), periodSeconds: 2_678_400, days: 31,
             outage: 259_200, expected: 4_990),
        // 5 started days, at most 2: 2 × 49,900 / 30 = 3,326.67 → 3,327.
        Case(name: "outage_days, maximum days",
             policy: policy([.outageDays(divisor: .daysInMonth, maxDays: 2)]), outage: 5 * 86_400, expected: 3_327),
        // 8 h → 50 % = 24,950, capped at 30 % × 49,900 = 14,970.
        Case(name: "cap", policy: policy([bands], cap: "30"), outage: 28_800, expected: 14_970),
        // Cap 33.3333 % of 49,900 = 16,633.31667: 50 % is capped there and rounds to 16,633.
        Case(name: "cap not a whole minor unit", policy: policy([bands], cap: "33.3333"), outage: 28_800, expected: 16_633),
        // Fee 500.00 CZK, cap 0.001 % = 0.5 haléř: 50 % is capped at 0.5, which half-up would round to 1,
        // above the cap; an amount at a cap rounds down to it → 0.
        Case(name: "cap at half a minor unit", policy: policy([bands], cap: "0.001"), fee: 50_000, outage: 28_800,
             expected: 0),
        // 4,990 is below the minimum payout of 50.00 CZK → 0.
        Case(name: "minimum payout not reached", policy: policy([bands], minimum: 5_000), outage: 10_800, expected: 0),
        // 4,990 equals the minimum of 49.90 CZK: paid.
        Case(name: "minimum payout reached exactly", policy: policy([bands], minimum: 4_990), outage: 10_800, expected: 4_990),
        // Fee 123.45 CZK: 10 % = 1,234.5 → half-up 1,235.
        Case(name: "half-up at the half", policy: policy([bands], rounding: .halfUp), fee: 12_345, outage: 10_800,
             expected: 1_235),
        // Fee 123.45 CZK: 10 % = 1,234.5 → half-even 1,234 (4 is even).
        Case(name: "half-even at the half, down", policy: policy([bands], rounding: .halfEven), fee: 12_345, outage: 10_800,
             expected: 1_234),
        // Fee 123.55 CZK: 10 % = 1,235.5 → half-even 1,236 (5 is odd).
        Case(name: "half-even at the half, up", policy: policy([bands], rounding: .halfEven), fee: 12_355, outage: 10_800,
             expected: 1_236),
        // 25 h: tiers 98.9 % → 50 % = 24,950 plus 2 days × 49,900 / 30 = 3,326.67: sum 28,276.67 → 28,277.
        Case(name: "combine sum",
             policy: policy([bands, .outageDays(divisor: .daysInMonth, maxDays: nil)]), outage: 90_000, expected: 28_277),
        // The same, the largest: 24,950.
        Case(name: "combine max",
             policy: policy([bands, .outageDays(divisor: .daysInMonth, maxDays: nil)], combine: .max), outage: 90_000,
             expected: 24_950),
    ]

    @Test(arguments: cases) func creditIsExact(_ test: Case) throws {
        let contract = Contract(id: "K", name: "K", monthlyFee: Money(minorUnits: test.fee, currency: "CZK"),
                                availabilityTarget: Self.percent("99.9"), creditPolicy: "p")
        let restores = test.restores.enumerated().map { RestoreTime(incident: IncidentID(Int64($0.offset + 1)), seconds: $0.element) }
        let result = try CreditRules.evaluate(test.policy, contract: contract, periodSeconds: test.periodSeconds,
                                              days: test.days, outageSeconds: test.outage, restoreTimes: restores)
        #expect(result.amount == Money(minorUnits: test.expected, currency: "CZK"))
        #expect(result.steps.last == "credit = \(result.amount.decimalText) CZK")
    }

    @Test func availabilityIsPrintedWithFourDecimals() {
        #expect(Availability.percentText(outage: 10_800, period: 2_592_000) == "99.5833")
        #expect(Availability.percentText(outage: 0, period: 2_592_000) == "100.0000")
        #expect(Availability.percentText(outage: 2_592_000, period: 2_592_000) == "0.0000")
    }

    @Test func ratiosRoundBothWaysAtTheHalf() throws {
        #expect(try ExactRatio(5, 2).rounded(.halfUp) == 3)
        #expect(try ExactRatio(5, 2).rounded(.halfEven) == 2)
        #expect(try ExactRatio(7, 2).rounded(.halfEven) == 4)
        #expect(try ExactRatio(-5, 2).rounded(.halfUp) == -3)
        #expect(try ExactRatio(-5, 2).rounded(.halfEven) == -2)
        #expect(try ExactRatio(2, 3).decimal(scaleDigits: 2) == "≈0.0066666666")
        #expect(try ExactRatio(4_990).decimal(scaleDigits: 2) == "49.90")
    }

    @Test func anAmountTooLargeIsAnErrorNotAWrongNumber() throws {
        let huge = try ExactRatio(Int64.max / 2)
        #expect(throws: BillingError.self) { try huge.multiplied(by: 3) }
    }
}
