@testable import ForewarnDaemon
import ForewarnModel
import Foundation
import Logging
import Persistence
import Synchronization
import Testing

/// A transition store that refuses writes while `failing` is set, like a full disk.
final class FlakyTransitionStore: TransitionStore {
    let location = "/var/lib/forewarn/forewarn.sqlite"
    let failing = Mutex(true)
    let written = Mutex<[StateTransition]>([])

    func appendTransitions(_ transitions: [StateTransition]) async throws(StoreError) {
        if failing.withLock({ $0 }) {
            throw StoreError(location: location, operation: "append state transitions", reason: "database or disk is full")
        }
        written.withLock { $0 += transitions }
    }

    func transitions(of subject: Subject?, since: Date) async throws(StoreError) -> [StateTransition] {
        written.withLock { $0 }
    }
}

@Suite struct TransitionWriterTests {
    static func transition(_ line: String, _ to: Health, at seconds: Double) -> StateTransition {
        StateTransition(subject: .line(LineID(line)), from: to == .down ? .up : .down, to: to,
                        at: Date(timeIntervalSince1970: 1_800_000_000 + seconds), evidence: "3 of 3 probes lost")
    }

    @Test func aRefusedBatchIsKeptAndWrittenInOrderOnceTheStoreRecovers() async throws {
        let store = FlakyTransitionStore()
        let health = StoreHealth(location: store.location)
        let writer = TransitionWriter(store: store, health: health, logger: Logger(label: "test"))
        try await writer.appendTransitions([Self.transition("L1", .down, at: 0), Self.transition("L2", .down, at: 1)])
        try await writer.appendTransitions([Self.transition("L1", .up, at: 5)])

        #expect(await writer.unwritten == 3)
        #expect(store.written.withLock { $0 }.isEmpty)
        #expect(health.problem == "store \(store.location) cannot be written: state transitions (3 waiting): database or disk is full")

        store.failing.withLock { $0 = false }
        #expect(await writer.flush())
        #expect(store.written.withLock { $0 } == [Self.transition("L1", .down, at: 0), Self.transition("L2", .down, at: 1),
                                                 Self.transition("L1", .up, at: 5)])
        #expect(await writer.unwritten == 0)
        #expect(health.problem == nil)
    }

    @Test func transitionsThroughTheSinkSurviveAFailingStore() async throws {
        let store = FlakyTransitionStore()
        let clock = VirtualNow()
        let writer = TransitionWriter(store: store, health: StoreHealth(location: store.location), now: clock.now,
                                      logger: Logger(label: "test"))
        let sink = TransitionSink(store: writer, correlator: NullObservationSink(), logger: Logger(label: "test"))
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        await sink.deliver([Observation(subject: .element("acc1"), kind: .state(.down), since: at, observedAt: at,
                                        source: .poll, detail: "3 polls timed out")])
        store.failing.withLock { $0 = false }
        clock.advance(.seconds(1))
        await sink.deliver([Observation(subject: .element("acc2"), kind: .state(.up), since: at, observedAt: at,
                                        source: .poll, detail: "answers")])
        #expect(store.written.withLock { $0 }.map(\.subject) == [.element("acc1"), .element("acc2")])
    }

    /// A failing store is tried again 1 s, 2 s, 4 s … 30 s after each failure, not once per
    /// batch the sources deliver (which, with many lines, kept a core busy retrying).
    @Test func aFailingStoreIsRetriedWithBackOffNotWithEveryBatch() async throws {
        let store = CountingFailingStore()
        let clock = VirtualNow()
        let health = StoreHealth(location: store.location)
        let writer = TransitionWriter(store: store, health: health, now: clock.now, logger: Logger(label: "test"))
        // Ten batches a second for two minutes.
        for tenth in 0..<1_200 {
            try await writer.appendTransitions([Self.transition("L\(tenth)", .down, at: Double(tenth) / 10)])
            clock.advance(.milliseconds(100))
        }
        // Attempts at 0, 1, 3, 7, 15, 31, 61, 91 s (then every 30 s): 8, not 1,200.
        #expect(store.attempts.withLock { $0 } == 8)
        #expect(await writer.unwritten == 1_200)
        #expect(health.problem?.contains("(1200 waiting)") == true, "\(health.problem ?? "nil")")
    }
}

/// Instants that move only when told to.
final class VirtualNow: Sendable {
    private let current = Mutex(ContinuousClock.now)
    var now: @Sendable () -> ContinuousClock.Instant { { [self] in current.withLock { $0 } } }
    func advance(_ duration: Duration) { current.withLock { $0 = $0.advanced(by: duration) } }
}

/// A transition store that refuses every write and counts the attempts.
final class CountingFailingStore: TransitionStore {
    let location = "/var/lib/forewarn/forewarn.sqlite"
    let attempts = Mutex(0)

    func appendTransitions(_ transitions: [StateTransition]) async throws(StoreError) {
        attempts.withLock { $0 += 1 }
        throw StoreError(location: location, operation: "append state transitions", reason: "disk I/O error")
    }

    func transitions(of subject: Subject?, since: Date) async throws(StoreError) -> [StateTransition] { [] }
}

@Suite struct StoreRetryTests {
    private static let t0 = ContinuousClock.now
    private static func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int64(seconds * 1000)) }

    @Test func backsOffExponentiallyUpToThirtySecondsAndLogsOnceAMinute() {
        var retry = StoreRetry<ContinuousClock.Instant>()
        #expect(retry.mayAttempt(at: Self.at(0)))
        var now = 0.0
        var attempts: [Double] = []
        var logs: [StoreRetry<ContinuousClock.Instant>.Log] = []
        // Tick every 200 ms for five minutes; attempt only when due; every attempt fails.
        while now <= 300 {
            if retry.mayAttempt(at: Self.at(now)) {
                attempts.append(now)
                let log = retry.failed(at: Self.at(now))
                if log != .quiet { logs.append(log) }
            }
            now = (now * 10 + 2).rounded() / 10
        }
        #expect(attempts.prefix(8) == [0, 1, 3, 7, 15, 31, 61, 91])
        #expect(attempts.count == 14)
        #expect(logs.first == .failing(retryIn: .seconds(1)))
        // Then a line a minute at most: at 61, 121, 181, 241 s.
        #expect(logs.count == 5)
        #expect(logs[1] == .stillFailing(attempts: 7, over: .seconds(61), retryIn: .seconds(30)))
        #expect(retry.succeeded(at: Self.at(301)) == .recovered(attempts: 14, over: .seconds(301)))
        #expect(retry.mayAttempt(at: Self.at(301)) && !retry.isFailing)
        #expect(retry.succeeded(at: Self.at(302)) == .quiet)
    }
}

final class NullObservationSink: ObservationSink {
    func submit(_ observation: Observation) {}
}

@Suite struct DegradedHealthTests {
    @Test func healthzSaysWhyTheStoreCannotBeWritten() {
        let health = StoreHealth(location: "/var/lib/forewarn/forewarn.sqlite")
        #expect(HTTPListener.health(stalled: false, storeProblem: health.problem) == nil)
        health.failed("incident changes", waiting: 297,
                      error: StoreError(location: health.location, operation: "record", reason: "database or disk is full"))
        health.failed("heartbeat", error: StoreError(location: health.location, operation: "write heartbeat",
                                                     reason: "database or disk is full"))
        #expect(HTTPListener.health(stalled: false, storeProblem: health.problem)
                == "degraded: store /var/lib/forewarn/forewarn.sqlite cannot be written: heartbeat: database or disk is full; "
                + "incident changes (297 waiting): database or disk is full")
        #expect(HTTPListener.health(stalled: true, storeProblem: health.problem) == "stalled")
        health.wrote("heartbeat")
        health.wrote("incident changes")
        #expect(health.problem == nil)
    }
}
