import ForewarnConfig
import ForewarnModel
import Foundation
import Testing

/// `billing:`, `credit_policies:`, contracts' billing keys and `contracts_csv:`.
@Suite struct CreditConfigTests {
    static let cases: [(file: String, message: String)] = [
        ("bad-credit-tiers-overlap.yaml", "bad-credit-tiers-overlap.yaml:6:21: rule tiers of credit policy 'standard': the band below 99.9 % overlaps the one before it (same bound)"),
        ("bad-credit-tiers-order.yaml", "bad-credit-tiers-order.yaml:6:21: rule tiers of credit policy 'standard': bands must be listed from the highest bound down; 99.9 % comes after 99.5 %"),
        ("bad-credit-percent.yaml", "bad-credit-percent.yaml:4:39: 'credit' in rule per_step of credit policy 'standard' must be a percentage from 0 to 100 such as 10 or 0.5, not '120'"),
        ("bad-credit-cap.yaml", "bad-credit-cap.yaml:3:10: 'cap' in credit policy 'standard' must be a percentage from 0 to 100 such as 10 or 0.5, not '150%'"),
        ("bad-credit-time-zone.yaml", "bad-credit-time-zone.yaml:6:112: 'time_zone' in contract 'K1' must be an IANA time zone such as Europe/Prague or UTC, not 'Europe/Praha'"),
        ("bad-credit-billing-zone.yaml", "bad-credit-billing-zone.yaml:2:14: 'time_zone' in billing must be an IANA time zone such as Europe/Prague or UTC, not 'CET+1'"),
        ("bad-credit-unknown-policy.yaml", "bad-credit-unknown-policy.yaml:6:91: contract 'K1' names unknown credit_policy 'gold' (known: standard)"),
        ("bad-credit-amount-currency.yaml", "bad-credit-amount-currency.yaml:4:58: 'per_started_hour' in rule restore_time of credit policy 'standard' needs an amount and its currency, such as 10.00 CZK, not '100.00'"),
        ("bad-credit-contracts-csv.yaml", "bad-contracts.csv:2: contract 'K1' has a monthly_fee without a currency"),
    ]

    @Test(arguments: cases)
    func rejectedWithExactMessage(file: String, message: String) throws {
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.load(path: Testdata.path(file)) }
        #expect(error?.description.replacingOccurrences(of: Testdata.folder + "/", with: "") == message)
    }

    @Test func policiesContractsAndDefaultsLoad() throws {
        let configuration = try ConfigLoader.load(path: Testdata.path("good-credits.yaml"))
        #expect(configuration.billing.timeZone == "Europe/Prague")
        let business = try #require(configuration.creditPolicies["business"])
        #expect(business.combine == .sum)
        #expect(business.cap == Percentage(decimal: "50"))
        #expect(business.minimumPayout == Money(minorUnits: 1_000, currency: "CZK"))
        #expect(business.rounding == .halfEven)
        #expect(business.rules == [
            .tiers([AvailabilityTier(below: Percentage(decimal: "99.9")!, credit: Percentage(decimal: "10")!),
                    AvailabilityTier(below: Percentage(decimal: "99.5")!, credit: Percentage(decimal: "25")!),
                    AvailabilityTier(below: Percentage(decimal: "99")!, credit: Percentage(decimal: "50")!)]),
            .perStep(step: Percentage(decimal: "0.1")!, credit: Percentage(decimal: "0.5")!),
            .restoreTime(guaranteed: .seconds(28_800), perHour: .fixed(Money(minorUnits: 10_000, currency: "CZK"))),
            .outageDays(divisor: .thirty, maxDays: 10),
        ])
        #expect(configuration.creditPolicies["home"]?.rules == [
            .restoreTime(guaranteed: .seconds(86_400), perHour: .percentOfFee(Percentage(decimal: "2")!)),
        ])
        let contracts = Dictionary(uniqueKeysWithValues: configuration.contracts.map { ($0.id, $0) })
        #expect(contracts.count == 4)
        #expect(contracts["K1"]?.timeZone == "Europe/Prague" && contracts["K1"]?.locale == "cs-CZ")
        #expect(contracts["K2"]?.timeZone == "UTC" && contracts["K2"]?.locale == "en-GB")
        #expect(contracts["K3"]?.name == "Home, fibre" && contracts["K3"]?.creditPolicy == "business")
        #expect(contracts["K3"]?.timeZone == "Europe/Prague")
        #expect(contracts["K4"]?.timeZone == "Europe/Vienna" && contracts["K4"]?.monthlyFee == Money(minorUnits: 19_900, currency: "EUR"))
    }

    @Test func aPolicyWithAmountsInAnotherCurrencyIsRefusedForAContract() throws {
        let yaml = """
            credit_policies:
              - {id: p, minimum_payout: 5.00 EUR, rules: [outage_days: {}]}
            contracts:
              - {id: K1, monthly_fee: 49900, currency: CZK, availability_target: 99.9, credit_policy: p}
            """
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.parse(yaml: yaml, file: "x.yaml", baseDirectory: ".") }
        #expect(error?.description == "x.yaml:4:91: contract 'K1' is billed in CZK but credit policy 'p' has amounts in EUR")
    }
}
