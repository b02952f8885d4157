import Foundation
import ForewarnModel
import Persistence

/// The operator's KPIs over one period, exactly as docs/reports.md defines them. Pure: computed
/// from `ReportInputs`, tested on hand-built incident histories.
public struct KPIs: Sendable, Hashable {
    /// Incidents counted: detected in the period, classified `network`, not planned, not merged
    /// into another, with customers hit (severity above `warning`).
    public var incidents: Int
    public var bySeverity: [Severity: Int]
    /// Counted incidents detected before the first customer call about them (or never called about).
    public var proactive: Share
    public var proactiveStatus: TargetStatus
    /// Lines with an interval of a counting incident overlapping the period, of the lines monitored.
    public var linesHit: Share
    public var linesHitStatus: TargetStatus
    /// Customer-reported incidents (one call or more) resolved within 24 h of the first call,
    /// of those decided: resolved, or called about more than 24 h ago.
    public var fixedWithinDay: Share
    public var fixedWithinDayStatus: TargetStatus
    /// Called about less than 24 h ago and still open: not decided yet.
    public var fixedPending: Int
    /// First call − detection over the counted incidents called about, milliseconds.
    public var leadTime: LeadTime?
    /// Mean of detection − start over the counted incidents, milliseconds (truncated).
    public var meanTimeToDetect: Int64?
    /// Mean of resolution − start over the counted incidents resolved, milliseconds (truncated).
    public var meanTimeToRestore: Int64?
    public var restored: Int
    public var stillOpen: Int
    /// Line-seconds available of line-seconds monitored, over every line monitored and the part
    /// of the period that has passed.
    public var availability: Share
    public var outageLineSeconds: Int64
    /// Credits of the months the period touches, per currency, minor units.
    public var credits: [String: Int64]

    public struct LeadTime: Sendable, Hashable {
        public var incidents: Int
        /// Nearest rank: the value at rank ⌈n/2⌉ and ⌈0.9 n⌉ of the sorted lead times.
        public var median: Int64
        public var p90: Int64
    }

    /// Whether an incident's line intervals count as outage (lines hit, availability).
    public static func countsOutage(_ incident: Incident) -> Bool {
        incident.classification == .network && !incident.planned && incident.mergedInto == nil
    }

    /// Whether an incident is one the rates count (when detected in the period).
    public static func counted(_ incident: Incident) -> Bool {
        countsOutage(incident) && incident.severity != .warning
    }

    public static let day: Int64 = 86_400_000

    /// The counted incidents of the period, by id.
    static func periodIncidents(_ inputs: ReportInputs, start: Date, end: Date) -> [Incident] {
        inputs.incidents.filter { counted($0) && $0.detectedAt >= start && $0.detectedAt < end }.sorted { $0.id < $1.id }
    }

    public init(_ inputs: ReportInputs) {
        let (start, end) = inputs.period.bounds(in: inputs.zone)
        let outages = LineOutages(inputs.lines, start: start.unixMilliseconds, end: end.unixMilliseconds,
                                  now: inputs.now.unixMilliseconds,
                                  counts: IncidentVerdicts(inputs.lines, counts: Self.countsOutage))
        self.init(inputs, incidents: Self.periodIncidents(inputs, start: start, end: end),
                  lines: LineTotals(inputs, outages: outages))
    }

    init(_ inputs: ReportInputs, incidents counted: [Incident], lines: LineTotals) {
        let now = inputs.now.unixMilliseconds
        let targets = inputs.targets
        incidents = counted.count
        bySeverity = Dictionary(grouping: counted, by: \.severity).mapValues(\.count)

        let proactiveCount = counted.filter { incident in
            incident.firstCallAt.map { incident.detectedAt < $0 } ?? true
        }.count
        proactive = Share(Int64(proactiveCount), of: Int64(counted.count))
        proactiveStatus = proactive.isEmpty ? .noData : proactive.compare(to: targets.proactiveRate) > 0 ? .met : .notMet

        linesHit = Share(Int64(lines.hit), of: Int64(lines.monitored))
        if inputs.period.kind != .quarter {
            linesHitStatus = .notJudged
        } else {
            linesHitStatus = linesHit.isEmpty ? .noData : linesHit.compare(to: targets.linesHit) < 0 ? .met : .notMet
        }

        var fixed: Int64 = 0
        var decided: Int64 = 0
        var pending = 0
        var leads: [Int64] = []
        for incident in counted {
            guard let call = incident.firstCallAt?.unixMilliseconds else { continue }
            leads.append(call - incident.detectedAt.unixMilliseconds)
            if let resolved = incident.resolvedAt?.unixMilliseconds {
                decided += 1
                if resolved - call <= Self.day { fixed += 1 }
            } else if now - call > Self.day {
                decided += 1
            } else {
                pending += 1
            }
        }
        fixedWithinDay = Share(fixed, of: decided)
        fixedPending = pending
        fixedWithinDayStatus = fixedWithinDay.isEmpty ? .noData
            : fixedWithinDay.compare(to: targets.fixedWithinDay) >= 0 ? .met : .notMet
        leads.sort()
        leadTime = leads.isEmpty ? nil : LeadTime(incidents: leads.count, median: Self.nearestRank(leads, percent: 50),
                                                  p90: Self.nearestRank(leads, percent: 90))

        meanTimeToDetect = Self.mean(counted.map { $0.detectedAt.unixMilliseconds - $0.startedAt.unixMilliseconds })
        let resolved = counted.compactMap { incident in
            incident.resolvedAt.map { $0.unixMilliseconds - incident.startedAt.unixMilliseconds }
        }
        meanTimeToRestore = Self.mean(resolved)
        restored = resolved.count
        stillOpen = counted.count - resolved.count

        outageLineSeconds = lines.outageSeconds
        availability = Share(lines.monitoredSeconds - lines.outageSeconds, of: lines.monitoredSeconds)
        credits = inputs.credits.reduce(into: [:]) { totals, month in
            for (currency, amount) in month.totals { totals[currency, default: 0] += amount }
        }
    }

    /// The value at rank ⌈n × percent / 100⌉ (from 1) of `sorted`, which is not empty.
    static func nearestRank(_ sorted: [Int64], percent: Int) -> Int64 {
        let rank = (sorted.count * percent + 99) / 100
        return sorted[max(rank, 1) - 1]
    }

    /// The mean, truncated toward zero; nil for no values.
    static func mean(_ values: [Int64]) -> Int64? {
        values.isEmpty ? nil : values.reduce(0, +) / Int64(values.count)
    }
}
