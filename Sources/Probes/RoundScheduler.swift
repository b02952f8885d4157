/// When each line's next round starts. Lines sharing an interval are spread evenly over it (line
/// j of n starts at j·interval/n), so a million lines a minute become a steady ~17,000 probes a
/// second rather than one burst. A synchronous state machine over an injected instant: the
/// service asks `due(now:)` and sleeps until `nextDue`; tests step virtual time.
public struct RoundScheduler<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    struct Group: Sendable {
        var interval: Duration
        var lines: [Int]
        var start: Instant
        /// Next round number and position within it.
        var round: Int = 0
        var position: Int = 0

        func dueTime(round: Int, position: Int) -> Instant {
            start.advanced(by: interval * round + (interval / lines.count) * position)
        }

        var nextDue: Instant { dueTime(round: round, position: position) }
    }

    private var groups: [Group]

    /// - Parameters:
    ///   - intervals: each line's round interval, by line index.
    ///   - start: when the first rounds are due.
    public init(intervals: [Duration], start: Instant) {
        var byInterval: [Duration: [Int]] = [:]
        for (line, interval) in intervals.enumerated() { byInterval[interval, default: []].append(line) }
        groups = byInterval.keys.sorted().map { Group(interval: $0, lines: byInterval[$0]!, start: start) }
    }

    /// When the next round of any line is due; nil without lines.
    public var nextDue: Instant? { groups.map(\.nextDue).min() }

    /// The lines whose round is due at `now`, each at most once. A service that fell more than a
    /// whole interval behind skips the missed rounds rather than firing them all at once.
    public mutating func due(now: Instant) -> [Int] {
        var lines: [Int] = []
        for index in groups.indices {
            var group = groups[index]
            let count = group.lines.count
            if group.nextDue.advanced(by: group.interval) < now {
                // Skip ahead to the round in progress at `now`.
                let behind = group.start.duration(to: now)
                let rounds = Int(behind / group.interval)
                if rounds > group.round {
                    group.round = rounds
                    group.position = 0
                }
            }
            var emitted = 0
            while emitted < count, group.nextDue <= now {
                lines.append(group.lines[group.position])
                emitted += 1
                group.position += 1
                if group.position == count {
                    group.position = 0
                    group.round += 1
                }
            }
            groups[index] = group
        }
        return lines
    }
}
