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
        let writer = TransitionWriter(store: store, health: StoreHealth(location: store.location), logger: Logger(label: "test"))
        let sink = TransitionSink(store: writer, correlator: NullObservationSink(), logger: Logger(label: "test"))
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        await sink.deliver([Observation(subject: .element("acc1"), kind: .state(.down), since: at, observedAt: at,
                                        source: .poll, detail: "3 polls timed out")])
        store.failing.withLock { $0 = false }
        await sink.deliver([Observation(subject: .element("acc2"), kind: .state(.up), since: at, observedAt: at,
                                        source: .poll, detail: "answers")])
        #expect(store.written.withLock { $0 }.map(\.subject) == [.element("acc1"), .element("acc2")])
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
