import Foundation
import ForewarnModel
import Persistence

/// The billing feed over the store: exports (a closed period from its frozen document), closing
/// a period into the ledger, adjustments of closed periods, the list of periods, the audit trace.
public struct CreditLedger: Sendable {
    public typealias LedgerStore = CreditLedgerStore & ReportQueries & CommandStore

    let store: any LedgerStore
    let inventory: CreditInventory

    public init(store: any LedgerStore, inventory: CreditInventory) {
        self.store = store
        self.inventory = inventory
    }

    /// The period's feed: frozen when closed, computed as of `now` (with the adjustments of closed
    /// periods it will book) while open.
    public func feed(_ period: BillingPeriod, now: Date) async throws -> CreditFeed {
        if let closed = try await store.closedCreditPeriod(period.description) {
            return try CreditFeed.decode(json: closed.document)
        }
        return try await openFeed(period, now: now)
    }

    func maintenance() async throws -> [MaintenanceWindow] {
        inventory.maintenance + (try await store.maintenanceWindows())
    }

    func compute(_ period: BillingPeriod, now: Date, lines: Set<LineID>? = nil, detail: Bool = false) async throws -> [LineCredit] {
        let range = try inventory.range(of: period)
        let table = try await store.lineOutageTable(from: range.start, to: range.end, lines: lines)
        return try CreditRun.compute(period: period, inventory: inventory, table: table, maintenance: try await maintenance(),
                                     now: now, detail: detail)
    }

    func openFeed(_ period: BillingPeriod, now: Date) async throws -> CreditFeed {
        var rows: [CreditRow] = []
        try await openBlocks(period, now: now, transform: { $0 }, consume: { rows += $0 })
        return CreditFeed(period: period.description, state: .open, asOf: RFC3339.format(now), rows: rows)
    }

    /// The period's feed as `feed(period, now:).only(customer:).renderedBytes(format)` gives it,
    /// handed to `write` in chunks of about `chunkBytes`. An open period's CSV and JSON are
    /// written as the rows are computed (on every core), never the whole feed in memory; a closed
    /// period's CSV and JSON are the bytes frozen when it was closed.
    public func export(_ period: BillingPeriod, now: Date, format: CreditFeed.Format, customer: String? = nil,
                       chunkBytes: Int = 1 << 20, to write: ([UInt8]) throws -> Void) async throws {
        var buffer: [UInt8] = []
        func take(_ bytes: [UInt8]) throws {
            buffer += bytes
            var written = 0
            while buffer.count - written >= chunkBytes {
                try write(Array(buffer[written..<written + chunkBytes]))
                written += chunkBytes
            }
            buffer.removeFirst(written)
        }
        if let closed = try await store.closedCreditPeriod(period.description) {
            if customer == nil && format == .csv, let csv = closed.csv {
                try take(csv)
            } else if customer == nil && format == .json {
                try take(Array(closed.document.utf8))
            } else {
                try take(try CreditFeed.decode(json: closed.document).only(customer: customer).renderedBytes(format))
            }
        } else {
            switch format {
            case .csv:
                var header: [UInt8] = []
                CreditFeed.appendCSVHeader(to: &header)
                try take(header)
                try await openBlocks(period, now: now, transform: { rows in
                    var bytes: [UInt8] = []
                    bytes.reserveCapacity(rows.count * 320)
                    for row in rows where customer == nil || row.customer == customer {
                        CreditFeed.appendCSV(row, to: &bytes)
                    }
                    return bytes
                }, consume: take)
            case .json:
                var head: [UInt8] = []
                FeedJSON.appendHead(asOf: RFC3339.format(now), period: period.description, to: &head)
                try take(head)
                // Each row after a separator; the first row's is dropped.
                var first = true
                try await openBlocks(period, now: now, transform: { rows in
                    var bytes: [UInt8] = []
                    bytes.reserveCapacity(rows.count * 900)
                    for row in rows where customer == nil || row.customer == customer {
                        bytes.append(contentsOf: ",\n".utf8)
                        FeedJSON.appendRow(row, to: &bytes)
                    }
                    return bytes
                }, consume: { bytes in
                    guard !bytes.isEmpty else { return }
                    try take(first ? Array(bytes.dropFirst(2)) : bytes)
                    first = false
                })
                var tail: [UInt8] = []
                FeedJSON.appendTail(state: .open, to: &tail)
                try take(tail)
            case .text:
                try take(try await openFeed(period, now: now).only(customer: customer).renderedBytes(.text))
            }
        }
        if !buffer.isEmpty { try write(buffer) }
    }

    /// The open period's feed in blocks of rows (credits, then the adjustments it books), in the
    /// feed's order, each made into a `T` by `transform` on the core that computed it: for the
    /// CSV file, totals and the list of periods, without the whole feed in memory.
    func openBlocks<T: Sendable>(_ period: BillingPeriod, now: Date, transform: @escaping @Sendable ([CreditRow]) -> T,
                                 consume: (T) throws -> Void) async throws {
        let adjustments = try await adjustments(bookedIn: period, now: now)
        let range = try inventory.range(of: period)
        let table = try await store.lineOutageTable(from: range.start, to: range.end, lines: nil)
        try await CreditRun.rowBlocks(period: period, inventory: inventory, table: table,
                                      maintenance: try await maintenance(), now: now, transform: transform,
                                      consume: consume)
        if !adjustments.isEmpty { try consume(transform(adjustments)) }
    }

    /// Rows and totals per currency (minor units) of the open period's feed as of `now`.
    func openTotals(_ period: BillingPeriod, now: Date) async throws -> (rows: Int, totals: [String: Int64]) {
        var rows = 0
        var totals: [String: Int64] = [:]
        try await openBlocks(period, now: now, transform: { block in
            (block.count, block.reduce(into: [String: Int64]()) { $0[$1.currency, default: 0] += $1.creditMinorUnits })
        }, consume: { block in
            rows += block.0
            totals.merge(block.1, uniquingKeysWith: +)
        })
        return (rows, totals)
    }

    /// Corrections of closed periods whose incidents changed after they were closed: booked in the
    /// first period after each that is still open. A closed period's own entries never change.
    func adjustments(bookedIn target: BillingPeriod, now: Date) async throws -> [CreditRow] {
        let closed = try await store.closedCreditPeriods()
        let closedNames = Set(closed.map(\.period))
        var rows: [CreditRow] = []
        for (name, closedAt) in closed {
            guard let period = BillingPeriod(name), period < target else { continue }
            var firstOpen = period.next
            while closedNames.contains(firstOpen.description) { firstOpen = firstOpen.next }
            guard firstOpen == target else { continue }
            let range = try inventory.range(of: period)
            let changed = try await store.linesChanged(since: closedAt, from: range.start, to: range.end)
            guard !changed.isEmpty else { continue }
            let data = try await store.lineOutageIntervals(from: range.start, to: range.end, lines: changed)
            let now = min(now, range.end)
            let recomputed = try CreditRun.compute(period: period, inventory: inventory, data: data,
                                                   maintenance: try await maintenance(), now: now, detail: false)
            let byLine = Dictionary(recomputed.map { ($0.outage.line, $0) }, uniquingKeysWith: { first, _ in first })
            var booked: [LineID: [LedgerEntry]] = [:]
            for entry in try await store.ledger(period: name) + (try await store.ledger(adjusting: name))
            where changed.contains(entry.line) {
                booked[entry.line, default: []].append(entry)
            }
            let changedIncidents = data.incidents.values.filter { $0.updatedAt > closedAt }
            for line in changed.sorted() {
                let now = byLine[line]
                let entries = booked[line] ?? []
                let was = entries.reduce(0) { $0 + $1.amount.minorUnits }
                let isAmount = now?.row.creditMinorUnits ?? 0
                guard isAmount != was else { continue }
                let currency = now?.row.currency ?? entries.first?.amount.currency ?? ""
                let contract = inventory.contract(of: line)
                let delta = Money(minorUnits: isAmount - was, currency: currency)
                let lineIncidents = Set(data.intervals.filter { $0.line == line }.map(\.incident))
                let why = changedIncidents.filter { lineIncidents.contains($0.id) }.sorted { $0.id < $1.id }
                    .map { "incident \($0.id) now \($0.classification.rawValue)" }.joined(separator: ", ")
                let wasMoney = Money(minorUnits: was, currency: currency)
                let reason = "corrects \(name) for line \(line): credited \(wasMoney.decimalText) \(currency), "
                    + "now \(Money(minorUnits: isAmount, currency: currency).decimalText) \(currency)"
                    + (why.isEmpty ? "" : " (\(why))")
                let zone = try inventory.zone(inventory.zoneName(of: line))
                let statement = inventory.templates.render(
                    delta, outage: SecondSpans(), outageSeconds: 0,
                    locale: contract?.locale ?? inventory.defaultLocale, zone: zone, period: target, adjusts: period)
                rows.append(CreditRow(
                    customer: (inventory.lines[line]?.customer ?? entries.first?.customer)?.rawValue ?? "",
                    line: line.rawValue, contract: contract?.id.rawValue ?? entries.first?.contract.rawValue ?? "",
                    period: target.description, kind: .adjustment, adjusts: name,
                    outageSeconds: now?.outage.outageSeconds ?? 0,
                    availabilityPercent: now?.row.availabilityPercent ?? "100.0000", credit: delta.decimalText,
                    creditMinorUnits: delta.minorUnits, currency: currency,
                    incidents: why.isEmpty ? (now?.row.incidents ?? []) : changedIncidents
                        .filter { lineIncidents.contains($0.id) }.map(\.id.rawValue).sorted(),
                    rules: [:], exclusions: now?.row.exclusions ?? [], note: reason, statement: statement))
            }
        }
        return rows.sorted { ($0.adjusts ?? "", $0.customer, $0.line) < ($1.adjusts ?? "", $1.customer, $1.line) }
    }

    /// Freezes `period`: its feed as of `now` goes into the ledger and is exported unchanged from
    /// then on. Refused before the period has ended in every time zone, or when already closed.
    /// An incident still open counts up to the period's end; the rest falls in the next period.
    public func close(_ period: BillingPeriod, now: Date) async throws -> CreditFeed {
        let range = try inventory.range(of: period)
        guard now >= range.end else {
            throw BillingError("\(period) cannot be closed before it ends (\(RFC3339.format(range.end)))")
        }
        if try await store.closedCreditPeriod(period.description) != nil {
            throw BillingError("\(period) is already closed; later changes are booked as adjustments")
        }
        var feed = try await openFeed(period, now: now)
        feed.state = .closed
        let entries = feed.rows.map { row in
            LedgerEntry(period: row.period, line: LineID(row.line), customer: CustomerID(row.customer),
                        contract: ContractID(row.contract), kind: row.kind == .credit ? .credit : .adjustment,
                        amount: Money(minorUnits: row.creditMinorUnits, currency: row.currency),
                        outageMilliseconds: row.outageSeconds * 1000,
                        reason: row.note ?? (row.exclusions.isEmpty ? "outage credit" : CreditFeed.exclusionText(row)),
                        createdAt: now, adjusts: row.adjusts, incidents: row.incidents.map(IncidentID.init))
        }
        try await store.closeCreditPeriod(ClosedCreditPeriod(period: period.description, closedAt: now,
                                                             document: feed.json, csv: feed.csvBytes), entries: entries)
        return feed
    }

    /// A period's credits per currency (minor units), and whether it is closed: the ledger's
    /// totals once closed, the feed's as of `now` while open (for reports).
    public func totals(_ period: BillingPeriod, now: Date) async throws -> (closed: Bool, totals: [String: Int64]) {
        if try await store.closedCreditPeriods().contains(where: { $0.period == period.description }) {
            return (true, try await store.ledgerTotals(periods: [period.description])[period.description] ?? [:])
        }
        return (false, try await openTotals(period, now: now).totals)
    }

    public struct PeriodSummary: Sendable, Hashable {
        public var period: String
        public var state: CreditFeed.State
        public var closedAt: Date?
        public var rows: Int
        /// Minor units per currency.
        public var totals: [String: Int64]
    }

    /// Closed periods with their ledger totals, then every open period up to the current one
    /// (computed as of `now`).
    public func periods(now: Date) async throws -> [PeriodSummary] {
        var summaries: [PeriodSummary] = []
        let closed = try await store.closedCreditPeriods()
        for (name, closedAt) in closed {
            let entries = try await store.ledger(period: name)
            summaries.append(PeriodSummary(period: name, state: .closed, closedAt: closedAt, rows: entries.count,
                                           totals: entries.reduce(into: [:]) { $0[$1.amount.currency, default: 0] += $1.amount.minorUnits }))
        }
        let current = BillingPeriod.containing(now, in: try inventory.zone(inventory.defaultTimeZone))
        var period = closed.last.flatMap { BillingPeriod($0.period)?.next } ?? current
        let closedNames = Set(closed.map(\.period))
        while period <= current {
            if !closedNames.contains(period.description) {
                let (rows, totals) = try await openTotals(period, now: now)
                summaries.append(PeriodSummary(period: period.description, state: .open, closedAt: nil,
                                               rows: rows, totals: totals))
            }
            period = period.next
        }
        return summaries
    }

    public static func periodsText(_ summaries: [PeriodSummary]) -> String {
        var out = "period   state   rows  credits\n"
        for summary in summaries {
            let totals = summary.totals.keys.sorted().map { "\(Money(minorUnits: summary.totals[$0]!, currency: $0).decimalText) \($0)" }
            let state = summary.state.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
            let rows = String(summary.rows)
            out += "\(summary.period)  \(state)  \(String(repeating: " ", count: max(0, 4 - rows.count)))\(rows)  "
                + (totals.isEmpty ? "-" : totals.joined(separator: ", "))
                + (summary.closedAt.map { "  (closed \(RFC3339.format($0)))" } ?? "") + "\n"
        }
        return out
    }

    /// The arithmetic of one line's credit, step by step, as a billing clerk reads it out.
    public func explain(line: LineID, period: BillingPeriod, now: Date) async throws -> String {
        let closed = try await store.closedCreditPeriod(period.description)
        let asOf = closed.map { min(now, $0.closedAt) } ?? now
        var booked: [LedgerEntry] = []
        if closed != nil {
            booked = (try await store.ledger(period: period.description) + (try await store.ledger(adjusting: period.description)))
                .filter { $0.line == line }
        }
        guard let credit = try await compute(period, now: asOf, lines: [line], detail: true).first else {
            return "line \(line), \(period): no outage and nothing excluded in this period\n"
                + booked.map { "ledger: \($0.kind.rawValue) \($0.amount.decimalText) \($0.amount.currency) booked in \($0.period)\n" }.joined()
        }
        return Self.explainText(credit, period: period, closed: closed, booked: booked)
    }

    static func explainText(_ credit: LineCredit, period: BillingPeriod, closed: ClosedCreditPeriod?,
                            booked: [LedgerEntry] = []) -> String {
        let outage = credit.outage
        func instant(_ seconds: Int64) -> String { RFC3339.format(seconds: TimeInterval(seconds)) }
        var out = "line \(outage.line), customer \(outage.customer), contract \(credit.contract?.id.rawValue ?? "-")\n"
        out += "period \(period) in \(credit.zone.identifier): \(instant(outage.period.start)) – \(instant(outage.period.end)) "
            + "= \(outage.periodSeconds) s (\(outage.periodSeconds / 3600) h)\n"
        if let closed {
            out += "closed \(RFC3339.format(closed.closedAt)); the account below is from today's data, the ledger keeps what was booked:\n"
            for entry in booked {
                out += "  ledger: \(entry.kind.rawValue) \(entry.amount.decimalText) \(entry.amount.currency) booked in \(entry.period)\n"
            }
        }
        out += "intervals (clipped to the period, instants truncated to whole seconds):\n"
        for interval in outage.intervals {
            out += "  incident #\(interval.incident.rawValue) (\(interval.classification)): \(instant(interval.start)) – "
                + "\(instant(interval.end))\(interval.open ? " (still open: counted up to here)" : "") = \(interval.end - interval.start) s\n"
        }
        let union = outage.counted.seconds + outage.exclusions.filter { $0.kind == .maintenance }.reduce(0) { $0 + $1.seconds }
        out += "union of the counting intervals: \(union) s\n"
        for exclusion in outage.exclusions {
            out += "excluded: \(exclusion.reason): \(exclusion.seconds) s\n"
        }
        out += "outage: \(outage.outageSeconds) s in \(outage.counted.spans.count) stretch(es)\n"
        for restore in outage.restoreTimes {
            out += "time to restore: incident #\(restore.incident.rawValue): \(restore.seconds) s\n"
        }
        if let computation = credit.computation, let contract = credit.contract {
            out += "fee \(contract.monthlyFee.decimalText) \(contract.monthlyFee.currency), target \(contract.availabilityTarget) %, "
                + "policy \(contract.creditPolicy?.rawValue ?? "-")\n"
            for step in computation.steps { out += step + "\n" }
        } else {
            out += "\(credit.row.note ?? "not credited")\n"
        }
        if !credit.row.statement.isEmpty { out += "bill: \(credit.row.statement)\n" }
        return out
    }
}
