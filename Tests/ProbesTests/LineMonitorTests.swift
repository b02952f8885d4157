import Foundation
import ForewarnModel
import Synchronization
import Testing
@testable import Probes

/// A prober whose answers the test scripts: per address, which rounds are answered.
final class ScriptedProber: Prober {
    let kind = "scripted"
    /// Round numbers (0-based, per address) that go unanswered.
    let silentRounds: [IPAddress: Set<Int>]
    let rounds = Mutex<[IPAddress: Int]>([:])

    init(silentRounds: [IPAddress: Set<Int>]) { self.silentRounds = silentRounds }

    func probe(_ requests: [ProbeRequest]) async -> [ProbeOutcome] {
        requests.map { request in
            let round = rounds.withLock { rounds -> Int in
                defer { rounds[request.address, default: 0] += 1 }
                return rounds[request.address, default: 0]
            }
            var outcome = ProbeOutcome(sent: request.count)
            if !(silentRounds[request.address]?.contains(round) ?? false) {
                for _ in 0..<request.count { outcome.addAnswer(rttNanoseconds: 1_000_000) }
            }
            return outcome
        }
    }

    func shutdown() {}
}

/// Collects what the monitor delivers and lets the test wait for a condition.
final class Collected: Sendable {
    let items = Mutex<[LineObservation]>([])
    func add(_ new: [LineObservation]) { items.withLock { $0 += new } }
    var all: [LineObservation] { items.withLock { $0 } }
}

@Suite("Line monitor")
struct LineMonitorTests {
    /// Runs the monitor until `done` holds for what was delivered (or a generous safety limit,
    /// which only keeps a broken build from hanging; nothing is asserted about time).
    static func run(_ monitor: LineMonitor<ContinuousClock>, until done: @escaping @Sendable ([LineObservation]) -> Bool) async -> [LineObservation] {
        let collected = Collected()
        let task = Task { await monitor.run(deliver: { collected.add($0) }) }
        for _ in 0..<600 where !done(collected.all) {
            try? await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        await task.value
        return collected.all
    }

    /// Rounds every 20 ms so the test takes a fraction of a second (configuration allows 1 s at least).
    static let quick = ProbeProfile(id: "quick", interval: .milliseconds(20), timeout: .milliseconds(5), count: 1,
                                    downAfter: 3, upAfter: 2)

    @Test("only the line that stops answering goes down, after K rounds, dated at its first lost round")
    func oneLineDown() async {
        let a = IPAddress("127.0.0.1")!
        let b = IPAddress("127.0.0.2")!
        // B answers its first two rounds, then no more.
        let prober = ScriptedProber(silentRounds: [b: Set(2...10_000)])
        let plan = MonitorPlan(lines: [MonitoredLine(id: "L-A", prober: .icmp, address: a, profile: 0),
                                       MonitoredLine(id: "L-B", prober: .icmp, address: b, profile: 0)], profiles: [Self.quick])
        let monitor = LineMonitor(plan: plan, probers: [.icmp: prober], clock: ContinuousClock(), tick: .milliseconds(2))
        let observations = await Self.run(monitor) { items in
            items.contains { $0.observation.subject == .line("L-B") && $0.observation.kind == .state(.down) }
        }
        let down = observations.filter { $0.observation.kind == .state(.down) }
        #expect(down.map(\.observation.subject) == [.line("L-B")])
        #expect(down.first?.previous == .up)
        #expect(down.first?.observation.detail.contains("3 rounds in a row") == true)
        #expect(down.first.map { $0.observation.since < $0.observation.observedAt } == true,
                "the outage is dated at its first lost round, before it was confirmed")
        #expect(down.first?.observation.source == .probe)
        #expect(observations.filter { $0.observation.subject == .line("L-A") }.map(\.observation.kind) == [.state(.up)])
        #expect(prober.rounds.withLock { $0[b] ?? 0 } >= 5, "two answered rounds, then K = 3 lost ones")
    }

    @Test("a line that answers again after the outage comes back up")
    func recovery() async {
        let b = IPAddress("127.0.0.2")!
        let prober = ScriptedProber(silentRounds: [b: Set(1...4)])
        let plan = MonitorPlan(lines: [MonitoredLine(id: "L-B", prober: .icmp, address: b, profile: 0)], profiles: [Self.quick])
        let monitor = LineMonitor(plan: plan, probers: [.icmp: prober], clock: ContinuousClock(), tick: .milliseconds(2))
        let observations = await Self.run(monitor) { $0.count >= 3 }
        #expect(observations.map(\.observation.kind) == [.state(.up), .state(.down), .state(.up)])
        #expect(observations.map(\.previous) == [.unknown, .up, .down])
    }
}
