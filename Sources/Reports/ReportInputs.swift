import Foundation
import ForewarnModel
import Persistence

/// Everything a report is computed from, as plain values: what the store holds for the period,
/// what the configuration says is monitored, the targets, and the credits Billing computed.
public struct ReportInputs: Sendable {
    public var period: ReportPeriod
    public var zone: TimeZone
    public var now: Date
    /// Incidents detected in the period (`ReportQueries.incidents(detectedFrom:to:)`).
    public var incidents: [Incident]
    /// Line intervals overlapping the period in parts, every line in one, each line's by start,
    /// with their incidents' headers (`ReportQueries.reportLineTables`).
    public var lines: [LineOutageTable]
    public var inventory: ReportInventory
    public var targets: ReportTargets
    /// The credits of each month the period touches.
    public var credits: [MonthCredits]

    public init(period: ReportPeriod, zone: TimeZone, now: Date, incidents: [Incident], lines: [LineOutageTable],
                inventory: ReportInventory, targets: ReportTargets = ReportTargets(), credits: [MonthCredits] = []) {
        (self.period, self.zone, self.now, self.incidents) = (period, zone, now, incidents)
        (self.lines, self.inventory, self.targets, self.credits) = (lines, inventory, targets, credits)
    }
}

/// What is monitored: the configuration's lines (with their customers and elements) and
/// elements (for their names).
public struct ReportInventory: Sendable {
    public var lines: [Line]
    public var elements: [Element]

    public init(lines: [Line], elements: [Element] = []) {
        self.lines = lines
        self.elements = elements
    }
}

/// One billing month's credits per currency (minor units): frozen in the ledger once closed,
/// computed as of now while open.
public struct MonthCredits: Sendable, Hashable {
    public var month: String
    public var closed: Bool
    public var totals: [String: Int64]

    public init(month: String, closed: Bool, totals: [String: Int64]) {
        (self.month, self.closed, self.totals) = (month, closed, totals)
    }
}

extension ReportInputs {
    /// Reads what `period` needs from `store`, both reads at once; `credits` come from Billing
    /// (the caller's).
    public static func read(from store: any ReportQueries, period: ReportPeriod, zone: TimeZone, now: Date,
                            inventory: ReportInventory, targets: ReportTargets,
                            credits: [MonthCredits]) async throws(StoreError) -> ReportInputs {
        let (start, end) = period.bounds(in: zone)
        async let lines = outcome { () async throws(StoreError) in try await store.reportLineTables(from: start, to: end) }
        async let incidents = outcome { () async throws(StoreError) in
            try await store.incidents(detectedFrom: start, to: end)
        }
        return ReportInputs(period: period, zone: zone, now: now, incidents: try await incidents.get(),
                            lines: try await lines.get(), inventory: inventory, targets: targets, credits: credits)
    }

    /// A read's failure as a value: `async let` does not keep a typed error.
    static func outcome<T: Sendable>(_ body: () async throws(StoreError) -> T) async -> Result<T, StoreError> {
        do {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }
}
