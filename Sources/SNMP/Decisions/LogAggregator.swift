/// Log lines that a flood would multiply, aggregated per reason: the first occurrence of a
/// reason after a quiet spell is logged at once with its details; the rest are counted, and once
/// per interval (a minute) one summary says how many there were, from how many sources, and which
/// source sent most. However many datagrams or sources, a reason costs at most two lines a minute.
///
/// Synchronous and clock-generic: the shell (`AggregatedLog`) feeds it occurrences and ticks;
/// tests drive it with virtual instants.
public struct LogAggregator<Instant: InstantProtocol> where Instant.Duration == Duration {
    public struct Summary: Equatable, Sendable {
        public var reason: String
        /// Occurrences since the last line about this reason.
        public var count: Int
        /// Distinct sources among them (at most `LogAggregator.sourceLimit`; `moreSources` beyond).
        public var sources: Int
        public var moreSources: Bool
        /// The source that sent most, with its count.
        public var top: String?
        public var topCount: Int
        /// The latest occurrence's detail (a message text).
        public var lastDetail: String?
        public var over: Duration
    }

    public enum Report: Equatable, Sendable {
        /// The first occurrence of a reason after a quiet interval: log it with its details.
        case first(reason: String)
        /// What else happened for a reason during the interval now ended.
        case summary(Summary)
    }

    /// Distinct sources counted per reason and interval; a flood of spoofed addresses counts
    /// beyond it without taking more memory.
    public static var sourceLimit: Int { 1_000 }

    public var interval: Duration

    private struct Spell {
        var since: Instant
        var count = 0
        var bySource: [String: Int] = [:]
        var moreSources = false
        var lastDetail: String?
    }

    /// Reasons logged recently, with what has been counted since.
    private var spells: [String: Spell] = [:]

    public init(interval: Duration = .seconds(60)) {
        self.interval = interval
    }

    /// One occurrence of `reason` from `source` at `now`: `.first` when it is to be logged now,
    /// after the summaries of any intervals that have ended.
    public mutating func record(_ reason: String, source: String? = nil, detail: String? = nil, at now: Instant) -> [Report] {
        var reports = tick(at: now)
        guard var spell = spells[reason] else {
            // The first occurrence is logged on its own; its source still counts among the sources.
            spells[reason] = Spell(since: now, bySource: source.map { [$0: 0] } ?? [:])
            reports.append(.first(reason: reason))
            return reports
        }
        spell.count += 1
        spell.lastDetail = detail
        if let source {
            if let seen = spell.bySource[source] {
                spell.bySource[source] = seen + 1
            } else if spell.bySource.count < Self.sourceLimit {
                spell.bySource[source] = 1
            } else {
                spell.moreSources = true
            }
        }
        spells[reason] = spell
        return reports
    }

    /// Summaries of the intervals ended by `now`. A reason that kept occurring stays counted (the
    /// next summary comes an interval later, with no new `.first`); one that was quiet for a
    /// whole interval is forgotten, so its next occurrence is logged at once.
    public mutating func tick(at now: Instant) -> [Report] {
        var reports: [Report] = []
        for reason in spells.keys.sorted() {
            let spell = spells[reason]!
            let over = spell.since.duration(to: now)
            guard over >= interval else { continue }
            guard spell.count > 0 else {
                spells[reason] = nil
                continue
            }
            reports.append(.summary(Self.summary(reason, spell, over: over)))
            spells[reason] = Spell(since: now)
        }
        return reports
    }

    /// Every summary still due, whether or not its interval has ended (at a stop).
    public mutating func flush(at now: Instant) -> [Report] {
        var reports: [Report] = []
        for reason in spells.keys.sorted() {
            let spell = spells[reason]!
            guard spell.count > 0 else { continue }
            reports.append(.summary(Self.summary(reason, spell, over: spell.since.duration(to: now))))
        }
        spells = [:]
        return reports
    }

    private static func summary(_ reason: String, _ spell: Spell, over: Duration) -> Summary {
        // The commonest source; ties go to the smallest name, so the outcome does not depend on hashing.
        let top = spell.bySource.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }
        return Summary(reason: reason, count: spell.count, sources: spell.bySource.count, moreSources: spell.moreSources,
                       top: top?.key, topCount: top?.value ?? 0, lastDetail: spell.lastDetail, over: over)
    }

    /// Whether a summary may still be due (the shell ticks only then).
    public var isIdle: Bool { spells.isEmpty }
}
