/// When a writer tries the store again after it refused a write, and what to log about it: the
/// next attempt 1 s, 2 s, 4 s … at most 30 s after each failure in a row (a store that fails
/// costs a few attempts a minute, not one per tick or per observation), at once after a
/// success. The first failure is logged, then one line a minute while it lasts, and one when it
/// ends. Synchronous over an injected clock's instants; tests drive it in virtual time.
struct StoreRetry<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    enum Log: Equatable {
        case quiet
        /// The first failure of a spell.
        case failing(retryIn: Duration)
        /// Still failing, a minute (or more) after the last line.
        case stillFailing(attempts: Int, over: Duration, retryIn: Duration)
        /// Written again after `attempts` failures over `over`.
        case recovered(attempts: Int, over: Duration)
    }

    var first: Duration = .seconds(1)
    var limit: Duration = .seconds(30)
    var logInterval: Duration = .seconds(60)

    /// Failures in a row.
    private(set) var failures = 0
    private(set) var nextAttempt: Instant?
    private var failingSince: Instant?
    private var lastLogged: Instant?

    init() {}

    var isFailing: Bool { failures > 0 }

    /// Whether an attempt is due at `now` (always, unless the last one failed).
    func mayAttempt(at now: Instant) -> Bool {
        nextAttempt.map { now >= $0 } ?? true
    }

    mutating func failed(at now: Instant) -> Log {
        failures += 1
        var delay = first
        for _ in 1..<min(failures, 16) where delay < limit { delay = delay * 2 }
        delay = min(delay, limit)
        nextAttempt = now.advanced(by: delay)
        guard let since = failingSince, let logged = lastLogged else {
            failingSince = now
            lastLogged = now
            return .failing(retryIn: delay)
        }
        guard logged.duration(to: now) >= logInterval else { return .quiet }
        lastLogged = now
        return .stillFailing(attempts: failures, over: since.duration(to: now), retryIn: delay)
    }

    mutating func succeeded(at now: Instant) -> Log {
        defer {
            failures = 0
            nextAttempt = nil
            failingSince = nil
            lastLogged = nil
        }
        guard let since = failingSince else { return .quiet }
        return .recovered(attempts: failures, over: since.duration(to: now))
    }
}

extension Duration {
    /// Whole seconds, for log lines.
    var wholeSeconds: Int64 { components.seconds }
}
