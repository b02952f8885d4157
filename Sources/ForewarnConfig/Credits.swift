import Foundation
import ForewarnModel

/// `billing:`: the defaults contracts inherit.
public struct BillingSettings: Sendable, Hashable {
    /// IANA zone whose calendar months are the billing periods of contracts without their own.
    public var timeZone = "UTC"
    /// Language of the bill's credit lines for contracts without their own (`cs`, `en`, `cs-CZ`).
    public var locale = "en"
    public init() {}
}

/// Statement languages Forewarn ships templates for (Billing's `StatementTemplates.shipped`).
let statementLanguages = ["cs", "en"]

/// The credit policies read, and every id declared (one with errors is not reported again as unknown).
struct CreditPolicyTable {
    var valid: [PolicyID: CreditPolicy] = [:]
    var declared: Set<PolicyID> = []
}

/// What a contract's billing keys resolve to.
struct ContractBilling {
    var policy: PolicyID?
    var timeZone: String
    var locale: String
    var valid: Bool
}

extension ConfigReader {
    static let billingKeys = ["time_zone", "locale"]
    static let contractColumns = ["id", "name", "monthly_fee", "currency", "availability_target", "credit_policy",
                                  "time_zone", "locale"]

    mutating func readBilling(_ node: Located) -> BillingSettings {
        var settings = BillingSettings()
        guard let fields = Fields(node, what: "billing", allowed: Self.billingKeys, sink: &sink) else { return settings }
        if let zone = fields.string("time_zone", sink: &sink) {
            if Self.isTimeZone(zone) {
                settings.timeZone = zone
            } else {
                sink.report(fields.value("time_zone")!.location, Self.timeZoneMessage("billing", zone))
            }
        }
        if let locale = fields.string("locale", sink: &sink) {
            if Self.isStatementLocale(locale) {
                settings.locale = locale
            } else {
                sink.report(fields.value("locale")!.location, Self.localeMessage("billing", locale))
            }
        }
        return settings
    }

    static func isTimeZone(_ name: String) -> Bool {
        name.contains("/") || name == "UTC" ? TimeZone(identifier: name) != nil : false
    }

    static func timeZoneMessage(_ what: String, _ zone: String) -> String {
        "'time_zone' in \(what) must be an IANA time zone such as Europe/Prague or UTC, not '\(zone)'"
    }

    static func isStatementLocale(_ locale: String) -> Bool {
        let language = String(locale.prefix { $0 != "-" && $0 != "_" }).lowercased()
        return statementLanguages.contains(language)
    }

    static func localeMessage(_ what: String, _ locale: String) -> String {
        "'locale' in \(what) names a language without a statement template: '\(locale)' (shipped: \(statementLanguages.joined(separator: ", ")))"
    }

    /// The billing keys of one contract (YAML or CSV), checked against the policies and defaults.
    static func contractBilling(id: String, values: [String: (text: String, at: SourceLocation)],
                                currency: String?, billing: BillingSettings, policies: CreditPolicyTable,
                                sink: inout DiagnosticSink) -> ContractBilling {
        var result = ContractBilling(policy: nil, timeZone: billing.timeZone, locale: billing.locale, valid: true)
        let what = "contract '\(id)'"
        if let zone = values["time_zone"] {
            if Self.isTimeZone(zone.text) {
                result.timeZone = zone.text
            } else {
                sink.report(zone.at, Self.timeZoneMessage(what, zone.text))
                result.valid = false
            }
        }
        if let locale = values["locale"] {
            if Self.isStatementLocale(locale.text) {
                result.locale = locale.text
            } else {
                sink.report(locale.at, Self.localeMessage(what, locale.text))
                result.valid = false
            }
        }
        if let name = values["credit_policy"] {
            if let policy = policies.valid[PolicyID(name.text)] {
                result.policy = policy.id
                let amounts = Self.policyCurrencies(policy)
                if let currency, let other = amounts.first(where: { $0 != currency }) {
                    sink.report(name.at, "\(what) is billed in \(currency) but credit policy '\(name.text)' has amounts in \(other)")
                    result.valid = false
                }
            } else if policies.declared.contains(PolicyID(name.text)) {
                result.valid = false
            } else {
                let known = policies.declared.map(\.rawValue).sorted()
                sink.report(name.at, "\(what) names unknown credit_policy '\(name.text)'"
                            + (known.isEmpty ? " (no credit_policies are configured)" : " (known: \(known.joined(separator: ", ")))"))
                result.valid = false
            }
        }
        return result
    }

    static func policyCurrencies(_ policy: CreditPolicy) -> [String] {
        var currencies: [String] = []
        if let minimum = policy.minimumPayout { currencies.append(minimum.currency) }
        for case .restoreTime(_, .fixed(let amount)) in policy.rules { currencies.append(amount.currency) }
        return currencies
    }

    // MARK: credit policies

    mutating func readCreditPolicies(_ items: [Located]) -> CreditPolicyTable {
        var policies = CreditPolicyTable()
        var seen: [PolicyID: SourceLocation] = [:]
        for item in items {
            guard let fields = Fields(item, what: "a credit policy", kind: "credit policy",
                                      allowed: ["id", "rules", "combine", "cap", "minimum_payout", "rounding"], sink: &sink),
                  let idText = fields.string("id", required: true, sink: &sink) else { continue }
            let id = PolicyID(idText)
            if let first = seen[id] {
                sink.report(fields.value("id")!.location,
                            "duplicate credit policy id '\(idText)' (first at \(first.line ?? 0):\(first.column ?? 0))")
                continue
            }
            seen[id] = fields.value("id")!.location
            policies.declared.insert(id)
            var valid = true
            let combine = fields.choice("combine", CreditPolicy.Combine.self, default: .sum, sink: &sink)
            let rounding = fields.choice("rounding", CreditPolicy.Rounding.self, default: .halfUp, sink: &sink)
            var cap = Percentage(millionths: 100 * Percentage.scale)
            if fields.has("cap") {
                if let value = percent(fields, "cap") { cap = value } else { valid = false }
            }
            var minimum: Money?
            if fields.has("minimum_payout") {
                minimum = amount(fields, "minimum_payout")
                if minimum == nil { valid = false }
            }
            let ruleItems = fields.list("rules", sink: &sink)
            if ruleItems.isEmpty {
                sink.report(fields.has("rules") ? fields.value("rules")!.location : item.location,
                            "\(fields.what) needs at least one rule in 'rules' (tiers, per_step, restore_time, outage_days)")
                valid = false
            }
            var rules: [CreditRule] = []
            for ruleItem in ruleItems {
                if let rule = readRule(ruleItem, policy: fields.what) { rules.append(rule) } else { valid = false }
            }
            guard valid, let combine, let rounding else { continue }
            policies.valid[id] = CreditPolicy(id: id, rules: rules, combine: combine, cap: cap, minimumPayout: minimum,
                                        rounding: rounding)
        }
        return policies
    }

    static let ruleKinds = ["tiers", "per_step", "restore_time", "outage_days"]

    mutating func readRule(_ item: Located, policy: String) -> CreditRule? {
        guard let fields = Fields(item, what: "a rule of \(policy)", allowed: Self.ruleKinds, sink: &sink) else { return nil }
        let present = Self.ruleKinds.filter { fields.has($0) }
        guard present.count == 1, let kind = present.first else {
            sink.report(item.location, "each rule of \(policy) is one of \(Self.ruleKinds.joined(separator: ", ")), "
                        + (present.isEmpty ? "not empty" : "not several (\(present.joined(separator: ", ")))"))
            return nil
        }
        let node = fields.value(kind)!
        let what = "rule \(kind) of \(policy)"
        switch kind {
        case "tiers":
            return readTiers(node, what: what)
        case "per_step":
            guard let rule = Fields(node, what: what, allowed: ["step", "credit"], sink: &sink) else { return nil }
            let step = requiredPercent(rule, "step")
            let credit = requiredPercent(rule, "credit")
            if let step, step.millionths == 0 {
                sink.report(rule.value("step")!.location, "'step' in \(what) must be more than 0")
                return nil
            }
            guard let step, let credit else { return nil }
            return .perStep(step: step, credit: credit)
        case "restore_time":
            guard let rule = Fields(node, what: what, allowed: ["guaranteed", "per_started_hour"], sink: &sink) else { return nil }
            guard rule.has("guaranteed"), rule.has("per_started_hour") else {
                for key in ["guaranteed", "per_started_hour"] where !rule.has(key) {
                    sink.report(node.location, "\(what) is missing required key '\(key)'")
                }
                return nil
            }
            let guaranteed = rule.duration("guaranteed", default: .zero, in: ConfigLimits.guaranteedRestore, sink: &sink)
            let text = rule.string("per_started_hour", sink: &sink) ?? ""
            let perHour: CreditAmount?
            if text.hasSuffix("%") {
                perHour = percent(rule, "per_started_hour").map(CreditAmount.percentOfFee)
            } else {
                perHour = amount(rule, "per_started_hour").map(CreditAmount.fixed)
            }
            guard guaranteed > .zero, let perHour else { return nil }
            return .restoreTime(guaranteed: guaranteed, perHour: perHour)
        default:
            guard let rule = Fields(node, what: what, allowed: ["divisor", "max_days"], sink: &sink) else { return nil }
            let divisor = rule.choice("divisor", DayDivisor.self, default: .daysInMonth, sink: &sink)
            let maxDays = rule.has("max_days") ? rule.integer("max_days", in: 1...31, sink: &sink) : nil
            guard let divisor, !rule.has("max_days") || maxDays != nil else { return nil }
            return .outageDays(divisor: divisor, maxDays: maxDays.map(Int.init))
        }
    }

    mutating func readTiers(_ node: Located, what: String) -> CreditRule? {
        guard let items = node.node.sequence, !items.isEmpty else {
            sink.report(node.location, "\(what) must be a list of bands such as {below: 99.9, credit: 10}")
            return nil
        }
        var tiers: [AvailabilityTier] = []
        var valid = true
        for entry in items {
            let located = Located(node: entry, file: node.file)
            guard let band = Fields(located, what: "a band of \(what)", allowed: ["below", "credit"], sink: &sink) else {
                valid = false
                continue
            }
            guard let below = requiredPercent(band, "below"), let credit = requiredPercent(band, "credit") else {
                valid = false
                continue
            }
            if let previous = tiers.last {
                if below == previous.below {
                    sink.report(band.value("below")!.location,
                                "\(what): the band below \(below) % overlaps the one before it (same bound)")
                    valid = false
                } else if below > previous.below {
                    sink.report(band.value("below")!.location,
                                "\(what): bands must be listed from the highest bound down; \(below) % comes after \(previous.below) %")
                    valid = false
                } else if credit < previous.credit {
                    sink.report(band.value("credit")!.location,
                                "\(what): the band below \(below) % credits \(credit) %, less than the band above it (\(previous.credit) %)")
                    valid = false
                }
            }
            tiers.append(AvailabilityTier(below: below, credit: credit))
        }
        return valid ? .tiers(tiers) : nil
    }

    mutating func requiredPercent(_ fields: Fields, _ key: String) -> Percentage? {
        guard fields.has(key) else {
            sink.report(fields.owner.location, "\(fields.what) is missing required key '\(key)'")
            return nil
        }
        return percent(fields, key)
    }

    /// `10`, `10%`, `0.5 %`: a percentage from 0 to 100.
    mutating func percent(_ fields: Fields, _ key: String) -> Percentage? {
        guard let text = fields.string(key, sink: &sink) else { return nil }
        var number = text.trimmingCharacters(in: .whitespaces)
        if number.hasSuffix("%") { number = number.dropLast().trimmingCharacters(in: .whitespaces) }
        guard let value = Percentage(decimal: number) else {
            sink.report(fields.value(key)!.location,
                        "'\(key)' in \(fields.what) must be a percentage from 0 to 100 such as 10 or 0.5, not '\(text)'")
            return nil
        }
        return value
    }

    /// `10.00 CZK`: an amount in major units and its currency.
    mutating func amount(_ fields: Fields, _ key: String) -> Money? {
        guard let text = fields.string(key, sink: &sink) else { return nil }
        let parts = text.split(separator: " ")
        guard parts.count == 2 else {
            sink.report(fields.value(key)!.location,
                        "'\(key)' in \(fields.what) needs an amount and its currency, such as 10.00 CZK, not '\(text)'")
            return nil
        }
        let currency = String(parts[1])
        guard Money.isValidCurrency(currency), let money = Money(decimal: parts[0], currency: currency) else {
            sink.report(fields.value(key)!.location,
                        "'\(key)' in \(fields.what) must be an amount with at most the currency's minor digits and an ISO 4217 code, such as 10.00 CZK, not '\(text)'")
            return nil
        }
        return money
    }
}

/// `contracts_csv:`: large portfolios, one contract a row; the same keys as `contracts:`.
enum ContractCSV {
    static func read(path: String, shownAs name: String, referencedAt reference: SourceLocation,
                     index: inout InventoryIndex, billing: BillingSettings, policies: CreditPolicyTable,
                     sink: inout DiagnosticSink) -> [Contract] {
        var contracts: [Contract] = []
        CSVTable.read(path: path, shownAs: name, referencedAt: reference, columns: ConfigReader.contractColumns,
                      required: ["id", "monthly_fee", "currency", "availability_target"], sink: &sink) { values, at, sink in
            var fields: [String: (text: String, at: SourceLocation)] = [:]
            for (key, field) in values {
                fields[key] = (field.text, SourceLocation(file: name, line: field.line, column: field.column))
            }
            guard let id = fields["id"] else {
                sink.report(at, "a contract has no id")
                return
            }
            var valid = index.addContract(ContractID(id.text), at: id.at, sink: &sink)
            let what = "contract '\(id.text)'"
            let fee = fields["monthly_fee"].flatMap { Int64($0.text.replacingOccurrences(of: "_", with: "")) }
                .flatMap { (0...1_000_000_000_000).contains($0) ? $0 : nil }
            if fee == nil {
                sink.report(fields["monthly_fee"]?.at ?? at, "'monthly_fee' in \(what) must be a whole number of minor units "
                            + "from 0 to 1000000000000, not '\(fields["monthly_fee"]?.text ?? "")'")
                valid = false
            }
            let currency = fields["currency"]?.text
            if fields["monthly_fee"] != nil && currency == nil {
                sink.report(at, "\(what) has a monthly_fee without a currency")
                valid = false
            } else if let currency, !Money.isValidCurrency(currency) {
                sink.report(fields["currency"]!.at, "'currency' in \(what) must be an ISO 4217 code such as CZK or EUR, not '\(currency)'")
                valid = false
            }
            let targetText = fields["availability_target"]?.text ?? ""
            let target = Percentage(decimal: targetText.hasSuffix("%") ? String(targetText.dropLast()) : targetText)
            if target == nil {
                sink.report(fields["availability_target"]?.at ?? at,
                            "'availability_target' in \(what) must be a percentage from 0 to 100 such as 99.9, not '\(targetText)'")
                valid = false
            }
            let billingKeys = ConfigReader.contractBilling(id: id.text, values: fields, currency: currency,
                                                           billing: billing, policies: policies, sink: &sink)
            guard valid, billingKeys.valid, let fee, let currency, let target else { return }
            contracts.append(Contract(id: ContractID(id.text), name: fields["name"]?.text ?? id.text,
                                      monthlyFee: Money(minorUnits: fee, currency: currency), availabilityTarget: target,
                                      creditPolicy: billingKeys.policy, timeZone: billingKeys.timeZone,
                                      locale: billingKeys.locale))
        }
        return contracts
    }
}
