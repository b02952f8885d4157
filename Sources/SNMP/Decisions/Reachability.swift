/// When to poll one element and what its answers mean, as a synchronous state machine over
/// injected instants (tests use virtual time). Regular polls sit on a fixed grid
/// `origin + phase + n × interval`, so they never drift however long a poll takes; the phase
/// (jitter) spreads elements over the interval. After a failed poll, confirmation polls follow
/// every `confirmInterval`; only when `confirmations` of them fail too is the element declared
/// unreachable, `since` the first failure. A trap asks for an immediate poll, never a verdict.
public struct Reachability<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public enum State: Sendable, Equatable {
        case unknown
        case up
        case confirming(firstFailure: Instant, failures: Int)
        case down(since: Instant)
    }

    public enum Action: Sendable, Equatable {
        case poll(at: Instant)
        case declareUp(since: Instant)
        case declareDown(since: Instant, failedPolls: Int)
        case declareRebooted(at: Instant)
    }

    public let interval: Duration
    public let confirmInterval: Duration
    public let confirmations: Int
    public let origin: Instant
    public let phase: Duration
    public private(set) var state: State = .unknown
    public private(set) var lastUptime: UInt32?
    public private(set) var nextPoll: Instant?
    private var lastUptimeAt: Instant?

    public init(origin: Instant, interval: Duration, phase: Duration, confirmInterval: Duration = .seconds(5),
                confirmations: Int = 3) {
        self.origin = origin
        self.interval = interval
        self.phase = phase
        self.confirmInterval = confirmInterval
        self.confirmations = confirmations
    }

    /// A phase in [0, interval) derived from a stable key (the element id), so restarts keep the spread.
    public static func phase(for key: String, interval: Duration) -> Duration {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let milliseconds = interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000
        guard milliseconds > 0 else { return .zero }
        return .milliseconds(Int64(hash % UInt64(milliseconds)))
    }

    public mutating func start() -> [Action] {
        let first = origin.advanced(by: phase)
        nextPoll = first
        return [.poll(at: first)]
    }

    /// The first grid point strictly after `now`.
    func nextRegular(after now: Instant) -> Instant {
        let first = origin.advanced(by: phase)
        if now < first { return first }
        let elapsed = first.duration(to: now)
        let steps = Int64((elapsed / interval).rounded(.down)) + 1
        return first.advanced(by: interval * steps)
    }

    /// sysUpTime.0 answered (`uptime` in hundredths of a second).
    public mutating func pollSucceeded(at now: Instant, uptime: UInt32?) -> [Action] {
        var actions: [Action] = []
        if let uptime, let previous = lastUptime, let previousAt = lastUptimeAt,
           Self.restarted(previous: previous, at: previousAt, now: uptime, at: now) {
            actions.append(.declareRebooted(at: now))
        }
        if let uptime {
            lastUptime = uptime
            lastUptimeAt = now
        }
        switch state {
        case .unknown: actions.append(.declareUp(since: now))
        case .down: actions.append(.declareUp(since: now))
        case .up, .confirming: break
        }
        state = .up
        let next = nextRegular(after: now)
        nextPoll = next
        actions.append(.poll(at: next))
        return actions
    }

    /// The poll sent at `sentAt` (default `now`) got no answer by `now`. The outage is dated from
    /// the first unanswered poll's sending: the element was already silent then.
    public mutating func pollFailed(at now: Instant, sentAt: Instant? = nil) -> [Action] {
        switch state {
        case .unknown, .up:
            state = .confirming(firstFailure: min(sentAt ?? now, now), failures: 1)
        case .confirming(let first, let failures):
            if failures + 1 > confirmations {
                state = .down(since: first)
                let next = nextRegular(after: now)
                nextPoll = next
                return [.declareDown(since: first, failedPolls: failures + 1), .poll(at: next)]
            }
            state = .confirming(firstFailure: first, failures: failures + 1)
        case .down:
            let next = nextRegular(after: now)
            nextPoll = next
            return [.poll(at: next)]
        }
        let next = now.advanced(by: confirmInterval)
        nextPoll = next
        return [.poll(at: next)]
    }

    /// sysUpTime went backwards: either below the previous value, or (after an outage) far below
    /// the previous value plus the time elapsed. A 32-bit TimeTicks wrap (497 days) is not a restart.
    static func restarted(previous: UInt32, at previousAt: Instant, now uptime: UInt32, at now: Instant) -> Bool {
        let elapsed = previousAt.duration(to: now)
        let elapsedTicks = Double(elapsed.components.seconds) * 100 + Double(elapsed.components.attoseconds) / 1e16
        let expected = Double(previous) + elapsedTicks
        if expected > Double(UInt32.max) - 8_640_000 && uptime < 8_640_000 + UInt32(min(elapsedTicks, 1e9)) {
            return false
        }
        let slack = max(500, elapsedTicks * 0.1) // clocks and poll latency: 5 s or 10 %
        return Double(uptime) + slack < expected
    }

    /// A trap named this element: poll it now to confirm, whatever the trap claimed.
    public mutating func trapReceived(at now: Instant) -> [Action] {
        nextPoll = now
        return [.poll(at: now)]
    }
}
