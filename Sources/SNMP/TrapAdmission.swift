import ForewarnModel

/// Per-source limits for incoming traps, decided before a datagram is parsed: a token bucket per
/// source address (so one storming agent cannot starve the rest), and "log once per source per
/// interval" for drops and problems, with the number suppressed meanwhile. Synchronous and
/// clock-generic: tests drive it with virtual instants.
public struct TrapAdmission<Instant: InstantProtocol> where Instant.Duration == Duration {
    public enum Verdict: Equatable {
        case accept
        /// Over the rate: drop it. `log` is true for the first drop from this source per log interval.
        case drop(log: Bool, suppressed: Int)
    }

    public var ratePerSecond: Double
    public var burst: Double
    public var logInterval: Duration
    /// Beyond this many sources tracked, the least recently seen are forgotten.
    public var maxSources: Int

    private struct Bucket {
        var tokens: Double
        var refilledAt: Instant
    }

    private var buckets: [IPAddress: Bucket] = [:]
    private var logged = LogOncePerKey<Instant>(interval: .seconds(60))

    public init(ratePerSecond: Double, burst: Int, logInterval: Duration = .seconds(60), maxSources: Int = 100_000) {
        self.ratePerSecond = ratePerSecond
        self.burst = Double(max(1, burst))
        self.logInterval = logInterval
        self.maxSources = maxSources
        logged = LogOncePerKey(interval: logInterval)
    }

    public mutating func admit(_ source: IPAddress, at now: Instant) -> Verdict {
        var bucket = buckets[source] ?? Bucket(tokens: burst, refilledAt: now)
        let elapsed = bucket.refilledAt.duration(to: now)
        if elapsed > .zero {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * ratePerSecond)
            bucket.refilledAt = now
        }
        if buckets.count >= maxSources && buckets[source] == nil { forgetOldest() }
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            buckets[source] = bucket
            return .accept
        }
        buckets[source] = bucket
        let decision = logged.shouldLog("rate:\(source)", at: now)
        return .drop(log: decision.log, suppressed: decision.suppressed)
    }

    /// For problems found after admission (malformed, unknown source): log or count silently.
    public mutating func shouldLog(_ problem: String, from source: IPAddress, at now: Instant) -> (log: Bool, suppressed: Int) {
        logged.shouldLog("\(problem):\(source)", at: now)
    }

    private mutating func forgetOldest() {
        // Rare (only under a flood of distinct sources): drop the half not refilled for longest.
        let sorted = buckets.sorted { $0.value.refilledAt < $1.value.refilledAt }
        for (key, _) in sorted.prefix(max(1, sorted.count / 2)) { buckets[key] = nil }
    }
}

/// Allows a message per key once per interval and counts the ones suppressed in between.
public struct LogOncePerKey<Instant: InstantProtocol> where Instant.Duration == Duration {
    public var interval: Duration
    private var last: [String: (at: Instant, suppressed: Int)] = [:]

    public init(interval: Duration) { self.interval = interval }

    public mutating func shouldLog(_ key: String, at now: Instant) -> (log: Bool, suppressed: Int) {
        if let previous = last[key], previous.at.duration(to: now) < interval {
            last[key] = (previous.at, previous.suppressed + 1)
            return (false, previous.suppressed + 1)
        }
        let suppressed = last[key]?.suppressed ?? 0
        if last.count > 50_000 { last.removeAll() }
        last[key] = (now, 0)
        return (true, suppressed)
    }
}
