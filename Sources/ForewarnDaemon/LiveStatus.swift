import Billing
import ForewarnConfig
import ForewarnModel
import Foundation
import Persistence
import Reports
import ServiceLifecycle
import Synchronization

/// The live status (`forewarn status`, `GET /api/v1/status`) and the operations report
/// (`status --period`, `GET /api/v1/report`) from the store, the configuration and Billing:
/// the one place both the command and the daemon make them.
public enum LiveStatus {
    /// The live status at `now`. Without a configuration (none readable) credits and KPIs are left
    /// out and `notes` say why; a failure computing them is a note too, not the status's failure.
    /// With `accounting`, credits and KPIs computed less than its `maxAge` ago are reused;
    /// `figures` (the running daemon's) are taken as they are.
    public static func report(store: any Store, configuration: Configuration?, now: Date, notes: [String] = [],
                              accounting: StatusAccounting? = nil, generation: Int = 0,
                              figures kept: StatusAccounting.Figures? = nil) async throws(StoreError) -> StatusReport {
        var inputs = try await StatusInputs.read(from: store, now: now)
        inputs.notes = notes
        if let configuration {
            let figures: StatusAccounting.Figures
            if let kept {
                figures = kept
            } else {
                figures = await (accounting ?? StatusAccounting(maxAge: 0))
                    .figures(configuration: configuration, generation: generation, store: store, now: now)
            }
            (inputs.credits, inputs.kpis) = (figures.credits, figures.kpis)
            inputs.accountedAt = figures.at
            inputs.notes += figures.notes
        }
        return StatusReport(inputs)
    }

    /// Credits of the month to date and the quarter's KPIs: the expensive part of the status.
    static func accounting(configuration: Configuration, store: any Store, now: Date) async -> StatusAccounting.Figures {
        var figures = StatusAccounting.Figures(at: now)
        do {
            let zone = try zone(of: configuration)
            let month = BillingPeriod.containing(now, in: zone)
            let (closed, totals) = try await ledger(configuration, store: store).totals(month, now: now)
            figures.credits = MonthCredits(month: month.description, closed: closed, totals: totals)
            let quarter = quarter(containing: now, in: zone)
            let reportInputs = try await ReportInputs.read(
                from: store, period: quarter, zone: zone, now: now,
                inventory: ReportInventory(lines: configuration.lines, elements: configuration.elements),
                targets: configuration.reportTargets, credits: [])
            figures.kpis = StatusReport.QuarterKPIs(period: quarter, kpis: KPIs(reportInputs),
                                                    targets: configuration.reportTargets)
        } catch {
            figures.notes.append("credits and KPIs not computed: \(error)")
        }
        return figures
    }

    /// The quarter holding `now` in `zone`.
    public static func quarter(containing now: Date, in zone: TimeZone) -> ReportPeriod {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let components = calendar.dateComponents([.year, .month], from: now)
        // Always a valid quarter name for a date Foundation can represent.
        return try! ReportPeriod(parsing: "\(components.year!)Q\((components.month! + 2) / 3)")
    }

    static func zone(of configuration: Configuration) throws(LiveStatusError) -> TimeZone {
        guard let zone = TimeZone(identifier: configuration.billing.timeZone) else {
            throw LiveStatusError("unknown time zone '\(configuration.billing.timeZone)' (billing.time_zone)")
        }
        return zone
    }

    /// The credit ledger over `store` with the configuration's contracts and policies.
    public static func ledger(_ configuration: Configuration, store: any Store) throws -> CreditLedger {
        let inventory = CreditInventory(
            lines: configuration.lines, contracts: configuration.contracts,
            policies: Array(configuration.creditPolicies.values), maintenance: configuration.maintenance,
            defaultTimeZone: configuration.billing.timeZone, defaultLocale: configuration.billing.locale,
            templates: try StatementTemplates())
        return CreditLedger(store: store, inventory: inventory)
    }

    /// The operations report of `period`: the store's incidents and line intervals, the
    /// configuration's lines, targets and time zone, and Billing's credits of each month.
    public static func operationsReport(_ period: ReportPeriod, configuration: Configuration, store: any Store,
                                        now: Date) async throws -> OperationsReport {
        let zone = try zone(of: configuration)
        let ledger = try ledger(configuration, store: store)
        var credits: [MonthCredits] = []
        for month in period.months {
            guard let billing = BillingPeriod(month) else { continue }
            let (closed, totals) = try await ledger.totals(billing, now: now)
            credits.append(MonthCredits(month: month, closed: closed, totals: totals))
        }
        let inputs = try await ReportInputs.read(
            from: store, period: period, zone: zone, now: now,
            inventory: ReportInventory(lines: configuration.lines, elements: configuration.elements),
            targets: configuration.reportTargets, credits: credits)
        return OperationsReport(inputs)
    }
}

/// A status or report that cannot be made, with what is wrong.
public struct LiveStatusError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The credits and KPIs of the live status, computed at most once per `maxAge` (they read every
/// line interval of the month and the quarter): `--watch`, `GET /api/v1/status` and `/metrics`
/// reuse them; a reload (another configuration generation) or a clock gone back recomputes.
public final class StatusAccounting: Sendable {
    public struct Figures: Sendable {
        public var credits: MonthCredits?
        public var kpis: StatusReport.QuarterKPIs?
        public var notes: [String] = []
        /// When they were computed.
        public var at: Date

        public init(credits: MonthCredits? = nil, kpis: StatusReport.QuarterKPIs? = nil, notes: [String] = [], at: Date) {
            (self.credits, self.kpis, self.notes, self.at) = (credits, kpis, notes, at)
        }
    }

    public let maxAge: TimeInterval
    private let cached = Mutex<(figures: Figures, generation: Int)?>(nil)

    public init(maxAge: TimeInterval = 60) { self.maxAge = maxAge }

    public func figures(configuration: Configuration, generation: Int, store: any Store, now: Date) async -> Figures {
        if let (figures, cachedGeneration) = cached.withLock({ $0 }), cachedGeneration == generation,
           now >= figures.at, now.timeIntervalSince(figures.at) < maxAge {
            return figures
        }
        let figures = await LiveStatus.accounting(configuration: configuration, store: store, now: now)
        cached.withLock { $0 = (figures, generation) }
        return figures
    }
}

/// Keeps the daemon's credits and KPIs at most a minute old, so that neither a status request nor
/// a scrape waits for them (at 200,000 lines they take seconds).
struct StatusAccountingService: Service {
    let accounting: StatusAccounting
    let store: any Store
    let current: CurrentConfiguration

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            _ = await accounting.figures(configuration: current.configuration, generation: current.generation,
                                         store: store, now: Date())
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(accounting.maxAge / 2)) }
        }
    }
}
