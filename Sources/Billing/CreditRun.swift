import Foundation
import ForewarnModel
import Persistence

/// What credits are computed from, besides the store: the lines, contracts and policies of the
/// configuration, its maintenance windows, and the defaults of `billing:`.
public struct CreditInventory: Sendable {
    public var lines: [LineID: Line]
    public var contracts: [ContractID: Contract]
    public var policies: [PolicyID: CreditPolicy]
    public var maintenance: [MaintenanceWindow]
    /// For lines without a contract.
    public var defaultTimeZone: String
    public var defaultLocale: String
    public var templates: StatementTemplates

    public init(lines: [Line], contracts: [Contract], policies: [CreditPolicy], maintenance: [MaintenanceWindow] = [],
                defaultTimeZone: String = "UTC", defaultLocale: String = "en",
                templates: StatementTemplates) {
        self.lines = Dictionary(lines.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.contracts = Dictionary(contracts.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.policies = Dictionary(policies.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.maintenance = maintenance
        self.defaultTimeZone = defaultTimeZone
        self.defaultLocale = defaultLocale
        self.templates = templates
    }

    func contract(of line: LineID) -> Contract? { lines[line]?.contract.flatMap { contracts[$0] } }

    func zoneName(of line: LineID) -> String { contract(of: line)?.timeZone ?? defaultTimeZone }

    /// Every zone a period may be computed in.
    var zoneNames: Set<String> { Set(contracts.values.map(\.timeZone)).union([defaultTimeZone]) }

    func zone(_ name: String) throws(BillingError) -> TimeZone {
        guard let zone = TimeZone(identifier: name) else { throw BillingError("unknown time zone '\(name)'") }
        return zone
    }

    /// The instants covering `period` in every zone used: what to read from the store.
    func range(of period: BillingPeriod) throws(BillingError) -> (start: Date, end: Date) {
        var start = Date.distantFuture
        var end = Date.distantPast
        for name in zoneNames {
            let bounds = period.bounds(in: try zone(name))
            start = min(start, bounds.start)
            end = max(end, bounds.end)
        }
        return (start, end)
    }
}

/// One line's account in one period: its outage, the credit and the row of the feed.
public struct LineCredit: Sendable {
    public var outage: LineOutage
    public var contract: Contract?
    public var zone: TimeZone
    public var computation: CreditComputation?
    public var row: CreditRow
}

/// Computes a period's credits from the store's intervals. Pure: the caller reads the store.
public enum CreditRun {
    /// Every line with an outage or an exclusion in `period`, ordered by customer then line.
    /// Without `detail` (a billing run) only the rows are kept, not each line's intervals and steps.
    public static func compute(period: BillingPeriod, inventory: CreditInventory, data: LineOutageIntervals,
                               maintenance: [MaintenanceWindow], now: Date,
                               detail: Bool = true) throws(BillingError) -> [LineCredit] {
        let days = period.days
        var zones: [String: (zone: TimeZone, span: SecondSpans.Span)] = [:]
        var results: [LineCredit] = []
        let nowSeconds = OutageAccounting.seconds(now.unixMilliseconds)
        let intervals = data.intervals
        var index = intervals.startIndex
        while index < intervals.endIndex {
            let line = intervals[index].line
            var end = index + 1
            while end < intervals.endIndex && intervals[end].line == line { end += 1 }
            let zoneName = inventory.zoneName(of: line)
            if zones[zoneName] == nil {
                let zone = try inventory.zone(zoneName)
                let bounds = period.bounds(in: zone)
                zones[zoneName] = (zone, SecondSpans.Span(OutageAccounting.seconds(bounds.start.unixMilliseconds),
                                                          OutageAccounting.seconds(bounds.end.unixMilliseconds)))
            }
            let (zone, span) = zones[zoneName]!
            let outage = OutageAccounting.account(
                line: line, customer: inventory.lines[line]?.customer ?? intervals[index].customer,
                element: inventory.lines[line]?.element, period: span, intervals: intervals[index..<end],
                incidents: data.incidents, maintenance: maintenance, now: nowSeconds)
            index = end
            guard outage.outageSeconds > 0 || !outage.exclusions.isEmpty else { continue }
            var credit = try credit(outage, period: period, days: days, zone: zone, inventory: inventory, trace: detail)
            if !detail {
                credit.outage.intervals = []
                credit.outage.restoreTimes = []
                credit.computation = nil
            }
            results.append(credit)
        }
        results.sort { ($0.row.customer, $0.row.line) < ($1.row.customer, $1.row.line) }
        return results
    }

    static func credit(_ outage: LineOutage, period: BillingPeriod, days: Int, zone: TimeZone,
                       inventory: CreditInventory, trace: Bool) throws(BillingError) -> LineCredit {
        let contract = inventory.contract(of: outage.line)
        let policy = contract?.creditPolicy.flatMap { inventory.policies[$0] }
        var computation: CreditComputation?
        var note: String?
        if let contract, let policy {
            computation = try CreditRules.evaluate(policy, contract: contract, periodSeconds: outage.periodSeconds,
                                                   days: days, outageSeconds: outage.outageSeconds,
                                                   restoreTimes: outage.restoreTimes, trace: trace)
        } else if inventory.lines[outage.line] == nil {
            note = "line not in the configuration: no contract"
        } else if contract == nil {
            note = "line has no contract: not credited"
        } else {
            note = "contract \(contract!.id) has no credit policy: not credited"
        }
        let currency = contract?.monthlyFee.currency ?? ""
        let amount = computation?.amount ?? Money(minorUnits: 0, currency: currency)
        var rules: [String: String] = [:]
        if let computation, let policy {
            for rule in computation.rules {
                rules[rule.kind] = Money(minorUnits: rule.amount.rounded(policy.rounding), currency: currency).decimalText
            }
        }
        let statement = inventory.templates.render(
            amount, outage: outage.counted, outageSeconds: outage.outageSeconds,
            locale: contract?.locale ?? inventory.defaultLocale, zone: zone, period: period)
        let row = CreditRow(customer: outage.customer.rawValue, line: outage.line.rawValue,
                            contract: contract?.id.rawValue ?? "", period: period.description, kind: .credit,
                            adjusts: nil, outageSeconds: outage.outageSeconds,
                            availabilityPercent: Availability.percentText(outage: outage.outageSeconds,
                                                                          period: outage.periodSeconds),
                            credit: currency.isEmpty ? "0" : amount.decimalText, creditMinorUnits: amount.minorUnits,
                            currency: currency, incidents: outage.incidents.map(\.rawValue), rules: rules,
                            exclusions: outage.exclusions, note: note, statement: statement)
        return LineCredit(outage: outage, contract: contract, zone: zone, computation: computation, row: row)
    }
}
