import ForewarnModel

/// Per-source limits for incoming traps, decided before a datagram is parsed: a token bucket per
/// source address, so one storming agent cannot starve the rest. What is dropped is logged
/// through `AggregatedLog` (per reason and minute, not per source). Synchronous and
/// clock-generic: tests drive it with virtual instants.
public struct TrapAdmission<Instant: InstantProtocol> where Instant.Duration == Duration {
    public enum Verdict: Equatable {
        case accept
        /// Over the rate: drop it.
        case drop
    }

    public var ratePerSecond: Double
    public var burst: Double
    /// Beyond this many sources tracked, the least recently seen are forgotten.
    public var maxSources: Int

    private struct Bucket {
        var tokens: Double
        var refilledAt: Instant
    }

    private var buckets: [IPAddress: Bucket] = [:]

    public init(ratePerSecond: Double, burst: Int, maxSources: Int = 100_000) {
        self.ratePerSecond = ratePerSecond
        self.burst = Double(max(1, burst))
        self.maxSources = maxSources
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
        return .drop
    }

    private mutating func forgetOldest() {
        // Rare (only under a flood of distinct sources): drop the half not refilled for longest.
        let sorted = buckets.sorted { $0.value.refilledAt < $1.value.refilledAt }
        for (key, _) in sorted.prefix(max(1, sorted.count / 2)) { buckets[key] = nil }
    }
}

/// What the trap path logs through `AggregatedLog`: each reason is logged at once the first time,
/// then summarised once a minute.
enum TrapLogReasons {
    static let rateLimited = AggregatedLog.Reason("trap.rate_limited", .warning, "trap rate limit exceeded: dropping")
    static let undecodable = AggregatedLog.Reason("trap.undecodable", .warning, "undecodable or unauthenticated SNMP message")
    static let wrongCommunity = AggregatedLog.Reason("trap.wrong_community", .warning,
                                                     "trap with a community not in snmp.trap_communities dropped")
    static let unknownSource = AggregatedLog.Reason("trap.unknown_source", .warning,
                                                    "trap from an address that is no configured element")
    static let accepted = AggregatedLog.Reason("trap.accepted", .info, "trap received; polling to confirm")
}
