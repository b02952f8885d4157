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
        try compute(period: period, inventory: inventory, table: LineOutageTable(data), maintenance: maintenance,
                    now: now, detail: detail)
    }

    public static func compute(period: BillingPeriod, inventory: CreditInventory, table: LineOutageTable,
                               maintenance: [MaintenanceWindow], now: Date,
                               detail: Bool = true) throws(BillingError) -> [LineCredit] {
        var results: [LineCredit] = []
        try forEach(period: period, inventory: inventory, table: table, maintenance: maintenance, now: now,
                    detail: detail) { results.append($0) }
        return results
    }

    /// The feed's rows alone (a billing run), in the same order.
    public static func rows(period: BillingPeriod, inventory: CreditInventory, table: LineOutageTable,
                            maintenance: [MaintenanceWindow], now: Date) throws(BillingError) -> [CreditRow] {
        var rows: [CreditRow] = []
        rows.reserveCapacity(table.lines.count)
        try forEach(period: period, inventory: inventory, table: table, maintenance: maintenance, now: now,
                    detail: false) { rows.append($0.row) }
        return rows
    }

    /// What a line's credit depends on besides its outage, the same for every line of a contract.
    struct Terms {
        var contract: Contract?
        var policy: CreditPolicy?
        var zone: TimeZone
        var span: SecondSpans.Span
        var offsets: ZoneOffsets
        var locale: String
    }

    /// Each line's credit, ordered by customer then line. Lines covered by a maintenance window,
    /// and every line with `detail`, are accounted by `OutageAccounting.account`; the rest by
    /// `LineAccountant`, which gives the same outage without the audit trail.
    static func forEach(period: BillingPeriod, inventory: CreditInventory, table: LineOutageTable,
                        maintenance: [MaintenanceWindow], now: Date, detail: Bool,
                        _ body: (LineCredit) throws(BillingError) -> Void) throws(BillingError) {
        let plan = try Plan(period: period, inventory: inventory, table: table, maintenance: maintenance, now: now,
                            detail: detail)
        try plan.run(0..<plan.order.count, body)
    }

    /// The feed's rows (a billing run, without detail) in blocks of `linesPerBlock` lines computed
    /// on every core, each block made into a `T` by `transform` on the core that computed it, and
    /// handed to `consume` in the feed's order. At most `width` blocks are in memory at once.
    public static func rowBlocks<T: Sendable>(
        period: BillingPeriod, inventory: CreditInventory, table: LineOutageTable, maintenance: [MaintenanceWindow],
        now: Date, linesPerBlock: Int = 2_048, width: Int = 2 * ProcessInfo.processInfo.activeProcessorCount,
        transform: @escaping @Sendable ([CreditRow]) -> T, consume: (T) throws -> Void
    ) async throws {
        let plan = try Plan(period: period, inventory: inventory, table: table, maintenance: maintenance, now: now,
                            detail: false)
        let blocks = stride(from: 0, to: plan.order.count, by: max(1, linesPerBlock)).map {
            $0..<min($0 + max(1, linesPerBlock), plan.order.count)
        }
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            var started = 0
            func start() {
                guard started < blocks.count else { return }
                let (index, range) = (started, blocks[started])
                group.addTask {
                    var rows: [CreditRow] = []
                    rows.reserveCapacity(range.count)
                    try plan.run(range) { rows.append($0.row) }
                    return (index, transform(rows))
                }
                started += 1
            }
            for _ in 0..<max(1, width) { start() }
            var done: [Int: T] = [:]
            var next = 0
            while let (index, block) = try await group.next() {
                done[index] = block
                while let ready = done.removeValue(forKey: next) {
                    try consume(ready)
                    next += 1
                    start()
                }
            }
        }
    }

    /// What every line of a run shares, worked out once: the order of the lines, their
    /// configuration, each zone's bounds and offsets, the incidents' verdicts.
    struct Plan: Sendable {
        typealias Zone = (zone: TimeZone, span: SecondSpans.Span, offsets: ZoneOffsets)
        let period: BillingPeriod
        let periodText: String
        let days: Int
        let nowSeconds: Int64
        let inventory: CreditInventory
        let table: LineOutageTable
        let maintenance: [MaintenanceWindow]
        let detail: Bool
        let configured: [Line?]
        let customers: [CustomerID]
        /// Indices into `table.lines`, by customer then line.
        let order: [Int]
        let maintainedLines: Set<LineID>
        let maintainedElements: Set<ElementID>
        let verdicts: LineAccountant.Verdicts
        let zones: [String: Zone]

        init(period: BillingPeriod, inventory: CreditInventory, table: LineOutageTable, maintenance: [MaintenanceWindow],
             now: Date, detail: Bool) throws(BillingError) {
            self.period = period
            periodText = period.description
            days = period.days
            nowSeconds = OutageAccounting.seconds(now.unixMilliseconds)
            (self.inventory, self.table, self.maintenance, self.detail) = (inventory, table, maintenance, detail)
            var zones: [String: Zone] = [:]
            for name in inventory.zoneNames {
                let zone = try inventory.zone(name)
                let bounds = period.bounds(in: zone)
                let span = SecondSpans.Span(OutageAccounting.seconds(bounds.start.unixMilliseconds),
                                            OutageAccounting.seconds(bounds.end.unixMilliseconds))
                zones[name] = (zone, span, ZoneOffsets(zone, from: span.start, to: span.end))
            }
            self.zones = zones
            let configured = table.lines.map { inventory.lines[$0] }
            let customers = table.lines.indices.map { configured[$0]?.customer ?? table.customers[$0] }
            order = table.lines.indices.sorted { a, b in
                customers[a] != customers[b] ? customers[a].rawValue < customers[b].rawValue
                    : table.lines[a].rawValue < table.lines[b].rawValue
            }
            (self.configured, self.customers) = (configured, customers)
            maintainedLines = Set(maintenance.flatMap(\.lines))
            maintainedElements = Set(maintenance.flatMap(\.elements))
            verdicts = LineAccountant.verdicts(table.incidents)
        }

        /// The credits of the lines at `positions` of `order`, in that order.
        func run(_ positions: Range<Int>, _ body: (LineCredit) throws(BillingError) -> Void) throws(BillingError) {
            var termsByContract: [ContractID?: Terms] = [:]
            func terms(_ contract: Contract?) throws(BillingError) -> Terms {
                if let known = termsByContract[contract?.id] { return known }
                let zoneName = contract?.timeZone ?? inventory.defaultTimeZone
                guard let (zone, span, offsets) = zones[zoneName] else {
                    throw BillingError("unknown time zone '\(zoneName)'")
                }
                let made = Terms(contract: contract, policy: contract?.creditPolicy.flatMap { inventory.policies[$0] },
                                 zone: zone, span: span, offsets: offsets,
                                 locale: contract?.locale ?? inventory.defaultLocale)
                termsByContract[contract?.id] = made
                return made
            }
            var accountant = LineAccountant()
            for index in order[positions] {
                let line = table.lines[index]
                let config = configured[index]
                let contract = config?.contract.flatMap { inventory.contracts[$0] }
                let terms = try terms(contract)
                let intervals = table.lineBounds[index]..<table.lineBounds[index + 1]
                let maintained = (!maintainedLines.isEmpty && maintainedLines.contains(line))
                    || (!maintainedElements.isEmpty && config.map { maintainedElements.contains($0.element) } == true)
                let outage = detail || maintained
                    ? OutageAccounting.account(line: line, customer: customers[index], element: config?.element,
                                               period: terms.span, intervals: table.intervals(ofLine: index),
                                               incidents: table.incidents, maintenance: maintenance, now: nowSeconds)
                    : accountant.account(line: line, customer: customers[index], period: terms.span, table: table,
                                         intervals: intervals, verdicts: verdicts, now: nowSeconds)
                guard outage.outageSeconds > 0 || !outage.exclusions.isEmpty else { continue }
                var credit = try CreditRun.credit(outage, period: period, periodText: periodText, days: days,
                                                  terms: terms, configured: config != nil, inventory: inventory,
                                                  trace: detail)
                if !detail {
                    credit.outage.intervals = []
                    credit.outage.restoreTimes = []
                    credit.computation = nil
                }
                try body(credit)
            }
        }
    }

    static func credit(_ outage: LineOutage, period: BillingPeriod, periodText: String, days: Int, terms: Terms,
                       configured: Bool, inventory: CreditInventory, trace: Bool) throws(BillingError) -> LineCredit {
        let contract = terms.contract
        let policy = terms.policy
        var computation: CreditComputation?
        var note: String?
        if let contract, let policy {
            computation = try CreditRules.evaluate(policy, contract: contract, periodSeconds: outage.periodSeconds,
                                                   days: days, outageSeconds: outage.outageSeconds,
                                                   restoreTimes: outage.restoreTimes, trace: trace)
        } else if !configured {
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
            locale: terms.locale, zone: terms.zone, period: period, offsets: terms.offsets)
        let row = CreditRow(customer: outage.customer.rawValue, line: outage.line.rawValue,
                            contract: contract?.id.rawValue ?? "", period: periodText, kind: .credit,
                            adjusts: nil, outageSeconds: outage.outageSeconds,
                            availabilityPercent: Availability.percentText(outage: outage.outageSeconds,
                                                                          period: outage.periodSeconds),
                            credit: currency.isEmpty ? "0" : amount.decimalText, creditMinorUnits: amount.minorUnits,
                            currency: currency, incidents: outage.incidents.map(\.rawValue), rules: rules,
                            exclusions: outage.exclusions, note: note, statement: statement)
        return LineCredit(outage: outage, contract: contract, zone: terms.zone, computation: computation, row: row)
    }
}
