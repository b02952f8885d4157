import ForewarnModel
import Foundation
import Logging
import Persistence
import ServiceLifecycle

/// Writes the sources' state transitions to the store in order. A batch the store refuses is
/// kept and retried, backing off (1 s, 2 s, … 30 s: a failing store is not retried with every
/// observation), so a store that recovers gets every transition (the outage intervals credits
/// are paid from start at them). Stopping tries once more; transitions still unwritten then make
/// the stop fail (exit status non-zero).
actor TransitionWriter: TransitionStore, Service {
    /// Transitions kept at most while the store cannot be written; later ones are dropped (and
    /// counted in the log).
    static let limit = 1_000_000
    static let writer = "state transitions"

    nonisolated let store: any TransitionStore
    nonisolated let health: StoreHealth
    nonisolated let logger: Logger
    private let retryInterval: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private var waiting: [StateTransition] = []
    private var flushing = false
    private var dropped = 0
    private var retry = StoreRetry<ContinuousClock.Instant>()
    private var lastFailure: StoreError?

    /// `now` is the clock the back-off is decided on (a virtual one in tests).
    init(store: any TransitionStore, health: StoreHealth, retryInterval: Duration = .seconds(1),
         now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }, logger: Logger) {
        self.store = store
        self.health = health
        self.retryInterval = retryInterval
        self.now = now
        self.logger = logger
    }

    nonisolated var location: String { store.location }

    /// Never throws: what cannot be written now is kept for the next attempt.
    func appendTransitions(_ transitions: [StateTransition]) async throws(StoreError) {
        let room = max(0, Self.limit - waiting.count)
        waiting += transitions.prefix(room)
        if transitions.count > room {
            dropped += transitions.count - room
            logger.critical("dropping state transitions: the store has refused them too long",
                            metadata: ["transitions.dropped": "\(dropped)", "transitions.waiting": "\(waiting.count)"])
        }
        if retry.mayAttempt(at: now()) {
            await flush()
        } else if let lastFailure {
            health.failed(Self.writer, waiting: waiting.count, error: lastFailure)
        }
    }

    nonisolated func transitions(of subject: Subject?, since: Date) async throws(StoreError) -> [StateTransition] {
        try await store.transitions(of: subject, since: since)
    }

    /// Transitions not written yet.
    var unwritten: Int { waiting.count }

    /// Writes what waits, oldest first, until the store refuses.
    @discardableResult
    func flush() async -> Bool {
        // One writer at a time: a call arriving meanwhile has queued its transitions, which the
        // loop below takes too.
        guard !flushing else { return false }
        flushing = true
        defer { flushing = false }
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(10_000))
            do {
                try await store.appendTransitions(batch)
                waiting.removeFirst(batch.count)
            } catch {
                health.failed(Self.writer, waiting: waiting.count, error: error)
                lastFailure = error
                let metadata: Logger.Metadata = ["error": "\(error)", "transitions.waiting": "\(waiting.count)"]
                switch retry.failed(at: now()) {
                case .failing(let retryIn):
                    logger.error("cannot write state transitions, keeping them for the next attempt",
                                 metadata: metadata.merging(["retry.seconds": "\(retryIn.wholeSeconds)"]) { $1 })
                case .stillFailing(let attempts, let over, let retryIn):
                    logger.error("still cannot write state transitions", metadata: metadata.merging([
                        "attempts.failed": "\(attempts)", "seconds": "\(over.wholeSeconds)", "retry.seconds": "\(retryIn.wholeSeconds)",
                    ]) { $1 })
                case .quiet, .recovered:
                    break
                }
                return false
            }
        }
        if case .recovered(let attempts, let over) = retry.succeeded(at: now()) {
            logger.notice("state transitions written again", metadata: [
                "store.path": "\(store.location)", "attempts.failed": "\(attempts)", "seconds": "\(over.wholeSeconds)",
            ])
        }
        lastFailure = nil
        health.wrote(Self.writer)
        return true
    }

    /// Attempts the store takes now: none while backing off after a failure.
    var attemptDue: Bool { retry.mayAttempt(at: now()) }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { [retryInterval] in try await Task.sleep(for: retryInterval) }
            if !waiting.isEmpty && retry.mayAttempt(at: now()) { await flush() }
        }
        // The sources stopped before this service (they come after it in the group).
        let flushed = waiting.isEmpty ? true : await flush()
        if !flushed {
            logger.critical("stopped with state transitions not written",
                            metadata: ["transitions.unwritten": "\(waiting.count)", "store.path": "\(store.location)"])
            throw UnwrittenAtStop(what: "state transitions", count: waiting.count, store: store.location)
        }
    }
}

/// A stop that could not write everything decided: the exit is non-zero so that systemd (and
/// the operator) see it; a restart rebuilds open incidents from the sources.
public struct UnwrittenAtStop: Error, CustomStringConvertible {
    public var what: String
    public var count: Int
    public var store: String

    public var description: String {
        "stopped with \(what) not written: \(count) could not be written to store \(store)"
    }
}
