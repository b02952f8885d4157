import Billing
import ForewarnConfig
import ForewarnModel
import Foundation
import Persistence
import Probes
import Reports
import Synchronization

/// Every probed line's last round as the prober reported it, for the line view.
public final class LineProbeLog: Sendable {
    private let rounds = Mutex<[LineID: LineView.LastProbe]>([:])

    public init() {}

    func record(_ lines: [LineID], _ outcomes: [ProbeOutcome], at: Date) {
        rounds.withLock { rounds in
            for (line, outcome) in zip(lines, outcomes) {
                let rtt = outcome.received > 0 ? Double(outcome.rttSumNanoseconds) / Double(outcome.received) / 1e6 : nil
                rounds[line] = LineView.LastProbe(at: at, answered: outcome.received > 0,
                                                  rttMilliseconds: rtt.map { ($0 * 1000).rounded() / 1000 })
            }
        }
    }

    public func last(_ line: LineID) -> LineView.LastProbe? { rounds.withLock { $0[line] } }
}

/// The contact centre's line view from the configuration, the store and Billing; with the
/// daemon's verdict and last round when the daemon makes it.
public enum LineLookup {
    /// What a caller names: a line id, a customer (every line of theirs), or a line's address.
    public enum Query: Sendable, Hashable, CustomStringConvertible {
        case line(String), customer(String), address(String)

        public var description: String {
            switch self {
            case .line(let id): return "line '\(id)'"
            case .customer(let id): return "customer '\(id)'"
            case .address(let address): return "address \(address)"
            }
        }
    }

    /// The configured lines the query names, in id order; empty when none.
    public static func lines(_ query: Query, in configuration: Configuration) -> [Line] {
        let matching: [Line]
        switch query {
        case .line(let id): matching = configuration.lines.filter { $0.id.rawValue == id }
        case .customer(let id): matching = configuration.lines.filter { $0.customer.rawValue == id }
        case .address(let text):
            let address = IPAddress(text)
            matching = configuration.lines.filter { line in line.target.map { $0 == address } ?? false }
        }
        return matching.sorted { $0.id.rawValue < $1.id.rawValue }
    }

    public static func view(of line: Line, configuration: Configuration, store: any Store, now: Date,
                            fromDaemon: Bool = false, live: Health? = nil, lastProbe: LineView.LastProbe? = nil,
                            notes: [String] = []) async throws(StoreError) -> LineView {
        let origin = Date(timeIntervalSince1970: 0)
        let elements = Dictionary(configuration.elements.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var inputs = LineViewInputs(now: now, line: line,
                                    customerName: configuration.customers.first { $0.id == line.customer }?.name,
                                    elements: elements, fromDaemon: fromDaemon, live: live, lastProbe: lastProbe,
                                    notes: notes)
        inputs.lineTransition = try await store.transitions(of: .line(line.id), since: origin).last
        for element in LineView.path(from: line.element, elements: elements) {
            inputs.elementTransitions[element.id] = try await store.transitions(of: .element(element.id), since: origin).last
        }
        let open = try await store.incidents(openOnly: true, since: nil)
        let covering = open.first { $0.lines.contains { $0.line == line.id && $0.end == nil } }
            ?? open.first { $0.lines.contains { $0.line == line.id } }
        if let covering { inputs.incident = try await store.incident(covering.incident.id) }
        do {
            inputs.month = try await month(of: line, configuration: configuration, store: store, now: now)
        } catch let error as StoreError {
            throw error
        } catch {
            inputs.notes.append("credit not computed: \(error)")
        }
        return LineView(inputs)
    }

    /// The line's billing month to date (in its contract's time zone): its outage intervals and
    /// the credit Billing computes for it now.
    static func month(of line: Line, configuration: Configuration, store: any Store, now: Date) async throws -> LineView.Month {
        let contract = line.contract.flatMap { id in configuration.contracts.first { $0.id == id } }
        let zoneName = contract?.timeZone ?? configuration.billing.timeZone
        guard let zone = TimeZone(identifier: zoneName) else { throw LiveStatusError("unknown time zone '\(zoneName)'") }
        let period = BillingPeriod.containing(now, in: zone)
        let (start, end) = period.bounds(in: zone)
        let data = try await store.lineOutageIntervals(from: start, to: end, lines: [line.id])
        let inventory = CreditInventory(
            lines: [line], contracts: configuration.contracts, policies: Array(configuration.creditPolicies.values),
            maintenance: configuration.maintenance, defaultTimeZone: configuration.billing.timeZone,
            defaultLocale: configuration.billing.locale, templates: try StatementTemplates())
        let maintenance = configuration.maintenance + (try await store.maintenanceWindows())
        let credit = try CreditRun.compute(period: period, inventory: inventory, data: data, maintenance: maintenance,
                                           now: now, detail: false).first { $0.outage.line == line.id }
        let outages = data.intervals.filter { $0.line == line.id }.map { interval in
            LineView.Outage(incident: interval.incident.rawValue, start: Date(unixMilliseconds: interval.startMilliseconds),
                            end: interval.endMilliseconds.map { Date(unixMilliseconds: $0) })
        }
        return LineView.Month(period: period.description, outages: outages, outageSeconds: credit?.outage.outageSeconds ?? 0,
                              creditAmount: credit.map { $0.row.credit }, creditMinorUnits: credit?.row.creditMinorUnits,
                              currency: credit.map { $0.row.currency }, creditNote: credit?.row.note)
    }
}
