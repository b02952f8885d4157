#if canImport(Glibc)
import Glibc
#endif

/// A token bucket that spaces probe packets to at most `rate` per second, allowing short bursts of
/// `burst` packets. A synchronous state machine over an injected instant: the engine thread asks
/// it with the monotonic clock, tests with virtual time.
public struct Pacer<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    /// Packets per second; 0 means no cap.
    public let rate: Int
    public let burst: Int
    private var tokens: Double
    private var last: Instant?

    /// `burst` defaults to a millisecond's worth of packets (at least one), so at 17,000 pps the
    /// engine sends 17 packets per millisecond wake-up rather than one every 59 µs.
    public init(rate: Int, burst: Int? = nil) {
        self.rate = max(0, rate)
        self.burst = max(1, burst ?? max(1, rate / 1000))
        tokens = Double(self.burst)
    }

    public var isUnlimited: Bool { rate == 0 }

    /// How many of `wanted` packets may be sent at `now`; those are taken from the bucket.
    public mutating func take(_ wanted: Int, now: Instant) -> Int {
        guard wanted > 0 else { return 0 }
        guard rate > 0 else { return wanted }
        refill(now)
        let granted = min(wanted, Int(tokens))
        tokens -= Double(granted)
        return granted
    }

    /// When at least one more packet may be sent (`now` when one may go already).
    public mutating func nextAllowed(now: Instant) -> Instant {
        guard rate > 0 else { return now }
        refill(now)
        if tokens >= 1 { return now }
        let missing = 1 - tokens
        let nanoseconds = Int64((missing / Double(rate) * 1e9).rounded(.up))
        return now.advanced(by: .nanoseconds(nanoseconds))
    }

    private mutating func refill(_ now: Instant) {
        defer { last = now }
        guard let last, last < now else { return }
        let elapsed = last.duration(to: now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        tokens = min(Double(burst), tokens + seconds * Double(rate))
    }
}

/// CLOCK_MONOTONIC as plain nanoseconds: cheap to compare in the engines' loops, and usable as
/// virtual time in tests.
public struct MonotonicInstant: InstantProtocol, Sendable, Hashable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static var now: MonotonicInstant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return MonotonicInstant(nanoseconds: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
    }

    public func advanced(by duration: Duration) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: nanoseconds &+ duration.nanosecondsClamped)
    }

    public func duration(to other: MonotonicInstant) -> Duration {
        .nanoseconds(other.nanoseconds - nanoseconds)
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public var description: String { "\(Double(nanoseconds) / 1e9)s" }
}

extension Duration {
    /// Whole nanoseconds, clamped to Int64 (292 years).
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        if seconds > 9_000_000_000 { return .max }
        if seconds < -9_000_000_000 { return .min }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Wall-clock nanoseconds since the epoch (CLOCK_REALTIME), the clock SO_TIMESTAMPNS stamps with.
@inline(__always)
func realtimeNanoseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}
