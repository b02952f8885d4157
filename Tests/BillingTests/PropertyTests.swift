import Billing
import ForewarnModel
import Testing

/// Invariants over many generated policies and outages (a fixed seed: failures reproduce).
@Suite struct CreditPropertyTests {
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int64) -> Int64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((state >> 33) % UInt64(bound))
        }
        mutating func percent(_ maximumMillionths: Int64) -> Percentage { Percentage(millionths: next(maximumMillionths + 1)) }
    }

    static func randomPolicy(_ random: inout Generator) -> CreditPolicy {
        var rules: [CreditRule] = []
        var below = 100 * Percentage.scale
        var credit: Int64 = 0
        var bands: [AvailabilityTier] = []
        for _ in 0..<(1 + random.next(4)) {
            below -= 1 + random.next(2 * Percentage.scale)
            credit += random.next(30 * Percentage.scale)
            bands.append(AvailabilityTier(below: Percentage(millionths: below), credit: Percentage(millionths: min(credit, 100 * Percentage.scale))))
        }
        if random.next(2) == 0 { rules.append(.tiers(bands)) }
        if random.next(2) == 0 {
            rules.append(.perStep(step: Percentage(millionths: 1 + random.next(Percentage.scale)), credit: random.percent(10 * Percentage.scale)))
        }
        if random.next(2) == 0 {
            rules.append(.restoreTime(guaranteed: .seconds(3_600 * (1 + random.next(12))),
                                      perHour: random.next(2) == 0 ? .percentOfFee(random.percent(5 * Percentage.scale))
                                          : .fixed(Money(minorUnits: random.next(100_000), currency: "CZK"))))
        }
        if random.next(2) == 0 || rules.isEmpty {
            rules.append(.outageDays(divisor: random.next(2) == 0 ? .thirty : .daysInMonth,
                                     maxDays: random.next(2) == 0 ? nil : Int(1 + random.next(10))))
        }
        return CreditPolicy(id: "p", rules: rules, combine: random.next(2) == 0 ? .sum : .max,
                            cap: random.percent(100 * Percentage.scale),
                            minimumPayout: random.next(2) == 0 ? nil : Money(minorUnits: random.next(20_000), currency: "CZK"),
                            rounding: random.next(2) == 0 ? .halfUp : .halfEven)
    }

    @Test func creditIsNeverNegativeNeverAboveTheCapAndNeverFallsAsOutageGrows() throws {
        var random = Generator(state: 20_261_101)
        let period: Int64 = 2_592_000
        for _ in 0..<3_000 {
            let policy = Self.randomPolicy(&random)
            let fee = random.next(1_000_000)
            let contract = Contract(id: "K", name: "K", monthlyFee: Money(minorUnits: fee, currency: "CZK"),
                                    availabilityTarget: random.percent(100 * Percentage.scale), creditPolicy: "p")
            let outage = random.next(period + 1)
            let more = min(period, outage + random.next(200_000))
            let restores = (0..<random.next(4)).map { RestoreTime(incident: IncidentID($0), seconds: random.next(100_000)) }
            let longer = restores.map { RestoreTime(incident: $0.incident, seconds: $0.seconds + random.next(20_000)) }
            let first = try CreditRules.evaluate(policy, contract: contract, periodSeconds: period, days: 30,
                                                 outageSeconds: outage, restoreTimes: restores)
            let second = try CreditRules.evaluate(policy, contract: contract, periodSeconds: period, days: 30,
                                                  outageSeconds: more, restoreTimes: longer)
            // The cap as an exact amount: fee × cap millionths / 10⁸; the credit never exceeds it.
            let capTimes: (high: Int64, low: UInt64) = fee.multipliedFullWidth(by: policy.cap.millionths)
            let creditTimes = first.amount.minorUnits.multipliedFullWidth(by: 100 * Percentage.scale)
            #expect(first.amount.minorUnits >= 0)
            #expect(creditTimes.high < capTimes.high || (creditTimes.high == capTimes.high && creditTimes.low <= capTimes.low),
                    "credit \(first.amount) above cap \(policy.cap) % of \(fee)")
            #expect(second.amount.minorUnits >= first.amount.minorUnits,
                    "outage \(outage) → \(more) s lowered the credit \(first.amount) → \(second.amount) under \(policy)")
        }
    }
}
