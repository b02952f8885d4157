import ForewarnConfig
@testable import ForewarnDaemon
import ForewarnModel
import Foundation
import Logging
import Persistence
import ServiceLifecycle
import Stores
import Testing

/// kill -9 during a hold-down, against a real store: the line's down transition was written,
/// no incident yet. The restarted daemon's prober sees the line down again; the incident's
/// interval starts at the recorded transition, not at the new verdict.
@Suite struct RestartEvidenceServiceTests {
    @Test func aFaultSeenAgainAfterARestartStartsAtItsRecordedTransition() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-evidence-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try StoreFactory.open(folder + "/forewarn.sqlite", access: .create)
        let now = Date()
        let firstFailure = Date(unixMilliseconds: now.addingTimeInterval(-8).unixMilliseconds)
        try await store.appendTransitions([StateTransition(subject: .line("L3"), from: .up, to: .down, at: firstFailure,
                                                           evidence: "3 of 3 probes lost")])

        var timing = CorrelatorTiming()
        timing.tick = .milliseconds(20)
        timing.commandPoll = .milliseconds(20)
        let service = CorrelatorService(store: store, current: CurrentConfiguration(CorrelatorServiceTests.configuration()),
                                        timing: timing, logger: Logger(label: "test"))
        let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        service.submit(Observation(subject: .line("L3"), kind: .state(.down), since: now, observedAt: now, source: .probe,
                                   detail: "3 of 3 probes lost"))
        #expect(try await CorrelatorServiceTests().eventually {
            try await !store.incidents(openOnly: true, since: nil).isEmpty
        })
        await group.triggerGracefulShutdown()
        try await running.value

        let incident = try #require(try await store.incidents(openOnly: true, since: nil).first)
        #expect(incident.lines.map(\.start) == [firstFailure])
        #expect(incident.incident.startedAt == firstFailure)
    }
}
