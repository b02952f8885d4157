import Billing
import ForewarnConfig
import ForewarnModel
import Foundation
import Persistence
import Reports

/// The live status (`forewarn status`, `GET /api/v1/status`) and the operations report
/// (`status --period`, `GET /api/v1/report`) from the store, the configuration and Billing:
/// the one place both the command and the daemon make them.
public enum LiveStatus {
    /// The live status at `now`. Without a configuration (none readable) credits and KPIs are left
    /// out and `notes` say why; a failure computing them is a note too, not the status's failure.
    public static func report(store: any Store, configuration: Configuration?, now: Date,
                              notes: [String] = []) async throws(StoreError) -> StatusReport {
        var inputs = try await StatusInputs.read(from: store, now: now)
        inputs.notes = notes
        if let configuration {
            do {
                let zone = try zone(of: configuration)
                let month = BillingPeriod.containing(now, in: zone)
                let (closed, totals) = try await ledger(configuration, store: store).totals(month, now: now)
                inputs.credits = MonthCredits(month: month.description, closed: closed, totals: totals)
                let quarter = quarter(containing: now, in: zone)
                let reportInputs = try await ReportInputs.read(
                    from: store, period: quarter, zone: zone, now: now,
                    inventory: ReportInventory(lines: configuration.lines, elements: configuration.elements),
                    targets: configuration.reportTargets, credits: [])
                inputs.kpis = StatusReport.QuarterKPIs(period: quarter, kpis: KPIs(reportInputs),
                                                       targets: configuration.reportTargets)
            } catch {
                inputs.notes.append("credits and KPIs not computed: \(error)")
            }
        }
        return StatusReport(inputs)
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
