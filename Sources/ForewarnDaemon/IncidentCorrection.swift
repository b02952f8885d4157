import ForewarnModel
import Foundation
import Persistence

/// `forewarn incident edit` and `resolve --at`, checked against the incident as the store holds
/// it. Pure: the store read and the clock come in.
public enum IncidentCorrection {
    /// What an operator asked to correct.
    public struct Request: Sendable {
        public var line: LineID?
        public var start: Date?
        public var end: Date?
        public var classification: Classification?
        public var reason: String
        public var by: String

        public init(line: LineID? = nil, start: Date? = nil, end: Date? = nil, classification: Classification? = nil,
                    reason: String, by: String) {
            (self.line, self.start, self.end, self.classification) = (line, start, end, classification)
            (self.reason, self.by) = (reason, by)
        }
    }

    /// The correction the correlator applies, or why it cannot be made. A line's start is its
    /// first interval's in the incident, its end its last interval's.
    public static func edit(_ record: IncidentRecord, _ request: Request, now: Date) -> Result<IncidentEdit, ManualEntryError> {
        func fail(_ location: String, _ message: String) -> Result<IncidentEdit, ManualEntryError> {
            .failure(ManualEntryError([ManualEntryProblem(location, message)]))
        }
        let incident = record.incident
        guard !request.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            return fail("--reason", "say why (it goes to the timeline with the old and new values)")
        }
        if let survivor = incident.mergedInto {
            return fail("incident \(incident.id)", "it was merged into \(survivor): correct that one")
        }
        if request.line == nil && (request.start != nil || request.end != nil) {
            return fail("--line", "--start and --end correct one line's interval: name the line")
        }
        if request.line != nil && request.start == nil && request.end == nil {
            return fail("--line", "give the line's corrected --start, --end or both")
        }
        if request.line == nil && request.classification == nil {
            return fail("incident \(incident.id)", "nothing to correct: give --line with --start/--end, or --classification")
        }
        for (option, date) in [("--start", request.start), ("--end", request.end)] {
            guard let date else { continue }
            if date < TimeBounds.floor { return fail(option, "\(RFC3339.format(date)) is before 2000") }
            if date > now { return fail(option, "\(RFC3339.format(date)) is in the future (now \(RFC3339.format(now)))") }
        }
        var header = incident
        var interval: IncidentEdit.Interval?
        if let line = request.line {
            let intervals = record.lines.filter { $0.line == line }.sorted { $0.start < $1.start }
            guard let first = intervals.first, let last = intervals.last else {
                return fail("--line", "line \(line) is not in incident \(incident.id)")
            }
            if request.start != nil && request.end != nil && intervals.count > 1 {
                return fail("--line", "line \(line) has \(intervals.count) intervals in incident \(incident.id): "
                            + "correct its start (the first) and its end (the last) one at a time")
            }
            let old = request.start != nil ? first : last
            var new = old
            if let start = request.start { new.start = start }
            if let end = request.end {
                if old.end == nil && !incident.isManual {
                    return fail("--end", "line \(line) is still in incident \(incident.id): its end comes from its probe; "
                                + "resolve the incident (`forewarn incident resolve \(incident.id.rawValue) --at TIME`) to end it")
                }
                new.end = end
            }
            if let end = new.end, end <= new.start {
                return fail(request.end != nil ? "--end" : "--start",
                            "the interval would run from \(RFC3339.format(new.start)) to \(RFC3339.format(end)): "
                            + "it must end after it starts")
            }
            if new == old { return fail("--line", "line \(line)'s interval is \(describe(old)) already") }
            interval = IncidentEdit.Interval(old: old, new: new)
            var after = record.lines
            if let index = after.firstIndex(of: old) { after[index] = new }
            if incident.isManual {
                header.startedAt = after.map(\.start).min() ?? new.start
                let ends = after.map(\.end)
                if incident.state == .resolved || !ends.contains(where: { $0 == nil }) {
                    header.resolvedAt = ends.compactMap { $0 }.max()
                }
            } else {
                header.startedAt = min(incident.startedAt, new.start)
                if incident.state == .resolved, let end = new.end {
                    header.resolvedAt = max(incident.resolvedAt ?? end, end)
                }
            }
        }
        if let classification = request.classification, classification == incident.classification, interval == nil {
            return fail("--classification", "incident \(incident.id) is classified \(classification.rawValue) already")
        }
        return .success(IncidentEdit(incident: incident.id, interval: interval,
                                     classification: request.classification == incident.classification
                                         ? nil : request.classification,
                                     reason: request.reason, by: request.by, at: now, header: header))
    }

    /// Why an incident cannot be resolved at `at`, or nil.
    public static func resolveProblem(_ record: IncidentRecord, at: Date, now: Date) -> ManualEntryProblem? {
        let incident = record.incident
        if incident.state == .resolved { return ManualEntryProblem("incident \(incident.id)", "it is resolved already") }
        if at < TimeBounds.floor { return ManualEntryProblem("--at", "\(RFC3339.format(at)) is before 2000") }
        if at > now { return ManualEntryProblem("--at", "\(RFC3339.format(at)) is in the future (now \(RFC3339.format(now)))") }
        if let late = record.lines.filter({ $0.end == nil && $0.start > at }).min(by: { $0.start < $1.start }) {
            return ManualEntryProblem("--at", "line \(late.line) is in incident \(incident.id) from "
                                      + "\(RFC3339.format(late.start)), after \(RFC3339.format(at))")
        }
        return nil
    }

    static func describe(_ interval: LineInterval) -> String {
        "\(RFC3339.format(interval.start)) – " + (interval.end.map(RFC3339.format) ?? "ongoing")
    }
}
