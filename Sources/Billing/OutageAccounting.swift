import ForewarnModel
import Persistence

/// What is excluded from a line's outage, and why: each exclusion is kept with its reason so a
/// clerk can say why a credit is smaller than the customer expects.
public struct Exclusion: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case maintenance
        case customerCaused = "customer-caused"
        case forceMajeure = "force-majeure"
        case planned
    }

    public var kind: Kind
    public var reason: String
    public var seconds: Int64
    public var incident: IncidentID?

    public init(kind: Kind, reason: String, seconds: Int64, incident: IncidentID? = nil) {
        (self.kind, self.reason, self.seconds, self.incident) = (kind, reason, seconds, incident)
    }
}

/// One incident's time to restore on one line (for `restore_time` rules).
public struct RestoreTime: Sendable, Hashable, Codable {
    public var incident: IncidentID
    public var seconds: Int64
    public init(incident: IncidentID, seconds: Int64) {
        self.incident = incident
        self.seconds = seconds
    }
}

/// One interval as it entered the account: its incident, why it counts or not, clipped to the period.
public struct AccountedInterval: Sendable, Hashable, Codable {
    public var incident: IncidentID
    public var classification: String
    public var start: Int64
    public var end: Int64
    /// True when the incident was still open and the interval was cut at now or the period's end.
    public var open: Bool
}

/// A line's outage in one billing period, in whole seconds.
///
/// Milliseconds: every instant is truncated to its whole second before the union, so the parts
/// of an outage on either side of a period boundary (whole seconds) add up to the whole.
public struct LineOutage: Sendable, Hashable {
    public var line: LineID
    public var customer: CustomerID
    public var period: SecondSpans.Span
    public var intervals: [AccountedInterval]
    /// The union of the counting intervals, minus maintenance.
    public var counted: SecondSpans
    public var incidents: [IncidentID]
    public var exclusions: [Exclusion]
    /// Incidents restored within the period, each with the line's whole time in it (not clipped).
    public var restoreTimes: [RestoreTime]

    public var outageSeconds: Int64 { counted.seconds }
    public var periodSeconds: Int64 { period.seconds }
}

public enum OutageAccounting {
    /// Seconds since 1970 of a stored millisecond instant, truncated toward the past.
    static func seconds(_ milliseconds: Int64) -> Int64 {
        milliseconds >= 0 ? milliseconds / 1000 : -((-milliseconds + 999) / 1000)
    }

    static func exclusionKind(_ incident: Incident) -> Exclusion.Kind? {
        switch incident.classification {
        case .customerCaused: return .customerCaused
        case .forceMajeure: return .forceMajeure
        case .planned: return .planned
        case .network: return incident.planned ? .planned : nil
        }
    }

    /// The outage of `line` in `period` (seconds since 1970, half-open) from its intervals (any
    /// order, any incidents), the maintenance windows covering it, and `now` (an interval still
    /// open counts up to now, and never past the period's end).
    public static func account(line: LineID, customer: CustomerID, element: ElementID?, period: SecondSpans.Span,
                               intervals: some Sequence<LineOutageInterval>, incidents: [IncidentID: Incident],
                               maintenance: [MaintenanceWindow], now: Int64) -> LineOutage {
        var accounted: [AccountedInterval] = []
        var countingSpans: [SecondSpans.Span] = []
        var excludedSpans: [IncidentID: (kind: Exclusion.Kind, spans: [SecondSpans.Span])] = [:]
        var byIncident: [IncidentID: (spans: [SecondSpans.Span], restoredAt: Int64, open: Bool)] = [:]
        for interval in intervals {
            guard let incident = incidents[interval.incident] else { continue }
            let start = seconds(interval.startMilliseconds)
            let rawEnd = interval.endMilliseconds.map(seconds) ?? now
            let clippedStart = max(start, period.start)
            let clippedEnd = min(rawEnd, period.end)
            let kind = exclusionKind(incident)
            if kind == nil {
                var entry = byIncident[incident.id] ?? ([], rawEnd, false)
                entry.spans.append(SecondSpans.Span(start, rawEnd))
                entry.restoredAt = max(entry.restoredAt, rawEnd)
                entry.open = entry.open || interval.endMilliseconds == nil
                byIncident[incident.id] = entry
            }
            guard clippedEnd > clippedStart else { continue }
            let span = SecondSpans.Span(clippedStart, clippedEnd)
            accounted.append(AccountedInterval(incident: incident.id,
                                               classification: kind?.rawValue ?? incident.classification.rawValue,
                                               start: clippedStart, end: clippedEnd,
                                               open: interval.endMilliseconds == nil || rawEnd > period.end))
            if let kind {
                excludedSpans[incident.id, default: (kind, [])].spans.append(span)
            } else {
                countingSpans.append(span)
            }
        }
        let windows = maintenance.filter { window in
            window.lines.contains(line) || element.map { window.elements.contains($0) } == true
        }.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
        func spans(of window: MaintenanceWindow) -> SecondSpans {
            SecondSpans(unioning: [SecondSpans.Span(seconds(window.start.unixMilliseconds),
                                                    seconds(window.end.unixMilliseconds))])
        }
        let maintenanceUnion = windows.reduce(SecondSpans()) { $0.union(spans(of: $1)) }
        let network = SecondSpans(unioning: countingSpans)
        let allDown = network.union(SecondSpans(unioning: excludedSpans.values.flatMap(\.spans)))

        var exclusions: [Exclusion] = []
        var alreadyExcluded = SecondSpans()
        for window in windows {
            let part = allDown.intersection(spans(of: window)).subtracting(alreadyExcluded)
            guard !part.isEmpty else { continue }
            alreadyExcluded = alreadyExcluded.union(part)
            let reason = window.reason.isEmpty ? "maintenance \(window.id)" : "maintenance \(window.id) (\(window.reason))"
            exclusions.append(Exclusion(kind: .maintenance, reason: reason, seconds: part.seconds))
        }
        alreadyExcluded = alreadyExcluded.union(network)
        for id in excludedSpans.keys.sorted() {
            let entry = excludedSpans[id]!
            let part = SecondSpans(unioning: entry.spans).subtracting(alreadyExcluded)
            guard !part.isEmpty else { continue }
            alreadyExcluded = alreadyExcluded.union(part)
            exclusions.append(Exclusion(kind: entry.kind, reason: "incident \(id) \(entry.kind.rawValue)",
                                        seconds: part.seconds, incident: id))
        }
        let counted = network.subtracting(maintenanceUnion)
        let countedIncidents = byIncident.keys.sorted().filter { id in
            !SecondSpans(unioning: byIncident[id]!.spans).clipped(to: period).intersection(counted).isEmpty
        }
        let restoreTimes = byIncident.keys.sorted().compactMap { id -> RestoreTime? in
            let entry = byIncident[id]!
            guard !entry.open, entry.restoredAt > period.start, entry.restoredAt <= period.end else { return nil }
            let time = SecondSpans(unioning: entry.spans).subtracting(maintenanceUnion).seconds
            return time > 0 ? RestoreTime(incident: id, seconds: time) : nil
        }
        return LineOutage(line: line, customer: customer, period: period,
                          intervals: accounted.sorted { ($0.start, $0.incident) < ($1.start, $1.incident) },
                          counted: counted, incidents: countedIncidents, exclusions: exclusions,
                          restoreTimes: restoreTimes)
    }
}
