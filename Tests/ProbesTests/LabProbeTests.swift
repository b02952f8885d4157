import Foundation
import ForewarnConfig
import ForewarnModel
import Synchronization
import Testing
@testable import Probes

/// End-to-end checks against the network lab (scripts/lab): real CPEs behind real routers, faults
/// injected with the lab's own commands, probes sent from the lab's noc namespace. Runs only with
/// FOREWARN_LAB=1 and a lab that is up:
///
///     sudo scripts/lab up
///     sudo FOREWARN_LAB=1 swift test --skip-build --filter LabProbeTests
///     sudo scripts/lab down
///
/// FOREWARN_LAB_SCRIPT names another scripts/lab. Each test restores what it broke.
@Suite("Line probes in the network lab", .serialized, .enabled(if: LabEnvironment.isUp, "set FOREWARN_LAB=1 with the lab up (scripts/lab up)"))
struct LabProbeTests {
    static var script: String { LabEnvironment.script }

    static func lab(_ arguments: String) -> String {
        let result = shell("\(script) \(arguments)")
        if result.status != 0 { Issue.record("scripts/lab \(arguments) failed: \(result.output)") }
        return result.output
    }

    static func address(_ line: String) -> IPAddress {
        IPAddress(lab("addr \(line)").trimmingCharacters(in: .whitespacesAndNewlines))!
    }

    /// The time a fault command printed as its first word.
    static func faultTime(_ output: String) -> Date? {
        output.split(whereSeparator: \.isWhitespace).lazy.compactMap { RFC3339.parse(String($0)) }.first
    }

    /// Runs the monitor until `done` holds; the wait is bounded so a broken lab cannot hang the suite.
    static func watch(_ monitor: LineMonitor<ContinuousClock>, collected: Collected, rounds limit: Int,
                      until done: @escaping @Sendable ([LineObservation]) -> Bool) async {
        for _ in 0..<(limit * 10) where !done(collected.all) {
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test("line-down L makes exactly line L down after K rounds, dated at the first lost round; line-up brings it back")
    func lineDown() async throws {
        let ids = ["agg2-l01", "agg2-l02", "agg2-l03", "agg2-l04", "agg2-l06", "agg2-l07", "agg2-l08", "agg2-l09"]
        let victim = "agg2-l06"
        let profile = ProbeProfile(id: "lab", interval: .seconds(1), timeout: .milliseconds(300), count: 1, downAfter: 3, upAfter: 2)
        let plan = MonitorPlan(lines: ids.map { MonitoredLine(id: LineID($0), prober: .icmp, address: Self.address($0), profile: 0) },
                               profiles: [profile])
        let prober = try NetworkNamespace.with("fwl-noc") { () throws(ProbeError) in try ICMPProber(rate: 1000) }
        defer { prober.shutdown() }
        let monitor = LineMonitor(plan: plan, probers: [.icmp: prober], clock: ContinuousClock())
        let collected = Collected()
        let task = Task { await monitor.run(deliver: { collected.add($0) }) }
        defer { task.cancel() }

        await Self.watch(monitor, collected: collected, rounds: 10) { $0.filter { $0.observation.kind == .state(.up) }.count == ids.count }
        #expect(collected.all.count == ids.count, "every line up first: \(collected.all.map(\.observation.detail))")

        let fault = Self.lab("line-down \(victim)")
        defer { _ = Self.lab("line-up \(victim)") }
        let faultAt = try #require(Self.faultTime(fault))
        await Self.watch(monitor, collected: collected, rounds: 15) { items in
            items.contains { $0.observation.subject == .line(LineID(victim)) && $0.observation.kind == .state(.down) }
        }
        // Two more rounds: nothing else goes down.
        try await Task.sleep(for: .seconds(2))
        let down = collected.all.filter { $0.observation.kind == .state(.down) }
        #expect(down.map(\.observation.subject) == [.line(LineID(victim))])
        if let since = down.first?.observation.since {
            // The first lost round is the first one sent after the fault (or one in flight at it).
            #expect(since >= faultAt.addingTimeInterval(-0.3) && since <= faultAt.addingTimeInterval(1.0),
                    "outage dated \(RFC3339.format(since)), fault at \(RFC3339.format(faultAt))")
            #expect(down.first!.observation.observedAt.timeIntervalSince(since) >= 2, "confirmed only after K = 3 rounds")
        }

        _ = Self.lab("line-up \(victim)")
        await Self.watch(monitor, collected: collected, rounds: 15) { items in
            items.last { $0.observation.subject == .line(LineID(victim)) }?.observation.kind == .state(.up)
        }
        #expect(collected.all.last { $0.observation.subject == .line(LineID(victim)) }?.observation.kind == .state(.up))
    }

    @Test("30 % loss on a line makes it degraded, not down")
    func lossIsDegraded() async throws {
        let line = "agg3-l02"
        let profile = ProbeProfile(id: "lab-loss", interval: .seconds(1), timeout: .milliseconds(300), count: 10,
                                   spacing: .milliseconds(30), downAfter: 3, upAfter: 2, window: 5,
                                   degradedLoss: Percentage(decimal: "15")!)
        let plan = MonitorPlan(lines: [MonitoredLine(id: LineID(line), prober: .icmp, address: Self.address(line), profile: 0)],
                               profiles: [profile])
        let prober = try NetworkNamespace.with("fwl-noc") { () throws(ProbeError) in try ICMPProber(rate: 1000) }
        defer { prober.shutdown() }
        let monitor = LineMonitor(plan: plan, probers: [.icmp: prober], clock: ContinuousClock())
        let collected = Collected()
        let task = Task { await monitor.run(deliver: { collected.add($0) }) }
        defer { task.cancel() }
        await Self.watch(monitor, collected: collected, rounds: 10) { !$0.isEmpty }

        _ = Self.lab("loss \(line) 30")
        defer { _ = Self.lab("loss \(line) 0") }
        await Self.watch(monitor, collected: collected, rounds: 30) { $0.contains { $0.observation.kind == .state(.degraded) } }
        // Ten more rounds under loss.
        try await Task.sleep(for: .seconds(10))
        let kinds = collected.all.map(\.observation.kind)
        #expect(kinds.contains(.state(.degraded)), "\(collected.all.map(\.observation.detail))")
        #expect(!kinds.contains(.state(.down)), "30 % loss is degradation, not an outage")
    }

    @Test("ARP on the access LAN sees its CPEs and misses the one taken down")
    func arpSegment() async throws {
        let ids = ["agg1-l01", "agg1-l02", "agg1-l03", "agg1-l04"]
        let addresses = ids.map(Self.address)
        let prober = try NetworkNamespace.with("fwl-noc") { () throws(ProbeError) in try ARPProber(interface: "lan-agg1", rate: 100) }
        defer { prober.shutdown() }
        let requests = addresses.map { ProbeRequest(address: $0, count: 2, timeout: .milliseconds(500)) }
        let before = await prober.probe(requests)
        #expect(before.allSatisfy { $0.received == 2 }, "\(before)")

        _ = Self.lab("line-down agg1-l03")
        defer { _ = Self.lab("line-up agg1-l03") }
        let after = await prober.probe(requests)
        #expect(after[0].received == 2 && after[1].received == 2 && after[3].received == 2)
        #expect(after[2].sent == 2 && after[2].received == 0, "the CPE taken down is missed")
    }
}

/// Where scripts/lab is and whether the lab suite may run.
enum LabEnvironment {
    static let script: String = {
        if let path = ProcessInfo.processInfo.environment["FOREWARN_LAB_SCRIPT"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("scripts/lab").path
    }()

    static var isUp: Bool {
        guard ProcessInfo.processInfo.environment["FOREWARN_LAB"] == "1" else { return false }
        guard FileManager.default.isExecutableFile(atPath: script) else {
            print("skipping lab tests: \(script) not found")
            return false
        }
        let status = shell("\(script) status >/dev/null 2>&1").status
        if status != 0 { print("skipping lab tests: the lab is not up (\(script) up)") }
        return status == 0
    }

}
