import Foundation
import ForewarnModel
import SNMP
import Testing

/// Stopping never waits for SNMP timeouts: a cancelled caller's request ends at once, whether it
/// is in flight, waiting for an SNMPv3 engine ID, or queued behind the window of outstanding ones.
@Suite("Cancelling SNMP requests", .serialized)
struct CancellationTests {
    /// A port where nothing answers, and a timeout long enough that only cancellation ends the wait.
    static func silentTarget(_ profile: SNMPProfile) -> SNMPTarget {
        var slow = profile
        slow.timeout = .seconds(10)
        slow.retries = 1
        return SNMPTarget(name: "silent", address: .v4(0x7f00_0001), port: TestAgent.freeUDPPort(), profile: slow)
    }

    static func cancelled(_ engine: SNMPEngine, _ targets: [SNMPTarget]) async -> [SNMPError?] {
        let tasks = targets.map { target in
            Task { () -> SNMPError? in
                do throws(SNMPError) { _ = try await engine.get([MIB.sysUpTime], from: target); return nil } catch { return error }
            }
        }
        try? await Task.sleep(for: .milliseconds(200)) // sent (or queued) by now; not an assertion
        for task in tasks { task.cancel() }
        var errors: [SNMPError?] = []
        for task in tasks { errors.append(await task.value) }
        return errors
    }

    @Test func aRequestInFlightEndsWhenItsCallerIsCancelled() async throws {
        let engine = try SNMPEngine()
        let errors = await Self.cancelled(engine, [Self.silentTarget(TestAgent.v2c), Self.silentTarget(TestAgent.v3())])
        #expect(errors.map { $0?.cause } == [.cancelled, .cancelled], "v2c in flight, v3 waiting for its engine ID")
    }

    @Test func queuedRequestsEndToo() async throws {
        let engine = try SNMPEngine(configuration: .init(maxOutstanding: 1))
        let errors = await Self.cancelled(engine, (0..<3).map { _ in Self.silentTarget(TestAgent.v2c) })
        #expect(errors.map { $0?.cause } == [.cancelled, .cancelled, .cancelled])
        // The engine goes on serving afterwards.
        if let reason = TestAgent.skipReason { print("skipped the rest: \(reason)"); return }
        let agent = try TestAgent()
        defer { agent.stop() }
        try await agent.ready(engine)
        #expect(try await engine.get([MIB.sysUpTime], from: agent.target(TestAgent.v2c)).count == 1)
    }
}
