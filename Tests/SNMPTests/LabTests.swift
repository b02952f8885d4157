import Foundation
import ForewarnModel
import Logging
import SNMP
import Synchronization
import Testing

/// End-to-end checks in the network lab (`scripts/lab`): real routers, real link-change traps.
/// Run with the lab up, as root:
///
///     scripts/lab up
///     FOREWARN_LAB=1 swift test --skip-build --filter LabTests
///
/// Without FOREWARN_LAB=1, or with the lab down, they print why and pass. They inject faults on
/// agg1, agg2 and line agg2-l05 and undo them; they do not build or tear down the lab. The
/// engine runs in the lab's `noc` namespace (traps arrive at 198.18.1.10:162 there).
@Suite("Lab: traps, reboots and silence in the network lab", .serialized)
struct LabTests {
    static let script: String = ProcessInfo.processInfo.environment["FOREWARN_LAB_SCRIPT"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/lab").path

    static var skipReason: String? {
        guard ProcessInfo.processInfo.environment["FOREWARN_LAB"] == "1" else { return "set FOREWARN_LAB=1 to run the lab checks" }
        guard FileManager.default.isExecutableFile(atPath: script) else { return "no lab script at \(script)" }
        guard (try? lab(["status"]).status) == 0 else { return "the lab is down (scripts/lab up)" }
        return nil
    }

    @discardableResult
    static func lab(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("fw-lab-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let status = try TestAgent.runShell("\(script) \(arguments.joined(separator: " ")) > \(output.path) 2>&1")
        return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    static func address(_ name: String) throws -> IPAddress {
        let text = try lab(["addr", name]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let address = IPAddress(text) else { throw LabError(message: "scripts/lab addr \(name) printed '\(text)'") }
        return address
    }

    struct LabError: Error { var message: String }

    final class Collected: Sendable {
        let observations = Mutex<[Observation]>([])
        func first(within seconds: Int, _ match: @escaping (Observation) -> Bool) async -> Observation? {
            for _ in 0..<(seconds * 20) {
                if let found = observations.withLock({ $0.first(where: match) }) { return found }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return observations.withLock { $0.first(where: match) }
        }
    }

    struct Sink: SNMPObservationSink {
        let collected: Collected
        func deliver(_ observations: [Observation]) async { collected.observations.withLock { $0 += observations } }
    }

    @Test func lineDownRebootAndSilence() async throws {
        if let reason = Self.skipReason { print("skipped: \(reason)"); return }
        let v2 = SNMPProfile(id: "lab-v2", version: .v2c, credentials: .community("fwlab"), timeout: .seconds(1), retries: 1)
        let v3 = SNMPProfile(id: "lab-v3", version: .v3,
                             credentials: .user(name: "forewarn", level: .authPriv, auth: .sha256, authKey: "fwlab-auth-key",
                                                privacy: .aes128, privacyKey: "fwlab-priv-key"),
                             timeout: .seconds(1), retries: 1)
        func element(_ id: String, _ profile: SNMPProfile, ports: [PortReference]) throws -> MonitoredElement {
            MonitoredElement(element: Element(id: ElementID(id), name: id, address: try Self.address(id), kind: .aggregation,
                                              pollInterval: .seconds(30)),
                             profile: profile, ports: ports)
        }
        let elements = [try element("core", v3, ports: []),
                        try element("agg1", v2, ports: [.ifName("sub01")]),
                        try element("agg2", v2, ports: [.ifName("sub05")])]
        let engine = try SNMPEngine(configuration: .init(networkNamespace: "fwl-noc"))
        var logger = Logger(label: "lab")
        logger.logLevel = .error
        let collected = Collected()
        let scheduler = PollScheduler(engine: engine, elements: elements,
                                      settings: .init(confirmInterval: .seconds(2), confirmations: 3),
                                      sink: Sink(collected: collected), logger: logger)
        let receiver = TrapReceiver(engine: engine,
                                    settings: .init(listen: SocketEndpoint("198.18.1.10:162")!, v3Profiles: [v3]),
                                    scheduler: scheduler, logger: logger)
        let services = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { try? await scheduler.run() }
                group.addTask { try? await receiver.run() }
            }
        }
        defer {
            services.cancel()
            _ = try? Self.lab(["line-up", "agg2-l05"])
            _ = try? Self.lab(["unsilence", "agg1"])
        }

        // Baseline: every element answers (core over SNMPv3), both ports up (found by ifName).
        for id in ["core", "agg1", "agg2"] {
            #expect(await collected.first(within: 40) { $0.subject == .element(ElementID(id)) && $0.kind == .state(.up) } != nil,
                    "\(id) never answered")
        }
        #expect(await collected.first(within: 40) { $0.subject == .port("agg2", .ifName("sub05")) && $0.kind == .state(.up) } != nil)

        // Line down: the router's linkDown trap makes Forewarn poll at once; the poll confirms it.
        let cut = Date()
        try Self.lab(["line-down", "agg2-l05"])
        let down = await collected.first(within: 10) { $0.subject == .port("agg2", .ifName("sub05")) && $0.kind == .state(.down) }
        #expect(down?.source == .trap, "line down seen by \(String(describing: down))")
        if let down {
            let latency = down.observedAt.timeIntervalSince(cut)
            print("lab: line-down agg2-l05 seen after \(String(format: "%.2f", latency)) s: \(down.detail)")
            #expect(latency < 2.0, "line-down took \(latency) s to be seen")
        }
        try Self.lab(["line-up", "agg2-l05"])
        #expect(await collected.first(within: 10) {
            $0.subject == .port("agg2", .ifName("sub05")) && $0.kind == .state(.up) && $0.observedAt > cut
        } != nil)

        // Reboot: the agent restarts (sysUpTime resets, coldStart trap): seen as a reboot.
        let reboot = Date()
        try Self.lab(["reboot", "agg1"])
        let rebooted = await collected.first(within: 20) { $0.subject == .element("agg1") && $0.kind == .rebooted }
        #expect(rebooted != nil)
        if let rebooted { print("lab: reboot of agg1 seen after \(String(format: "%.2f", rebooted.observedAt.timeIntervalSince(reboot))) s (\(rebooted.source.rawValue))") }

        // Silence: SNMP times out; unreachable only after the confirmation polls, since the first failure.
        let silence = Date()
        try Self.lab(["silence", "agg1"])
        try? await Task.sleep(for: .milliseconds(200))
        scheduler.requestPoll("agg1", reason: "lab check")
        let unreachable = await collected.first(within: 30) { $0.subject == .element("agg1") && $0.kind == .state(.down) }
        #expect(unreachable?.detail.contains("4 polls of sysUpTime.0 failed") == true, "\(String(describing: unreachable))")
        if let unreachable {
            #expect(unreachable.since >= silence && unreachable.since < unreachable.observedAt)
            print("lab: silence of agg1 declared after \(String(format: "%.2f", unreachable.observedAt.timeIntervalSince(silence))) s, since +\(String(format: "%.2f", unreachable.since.timeIntervalSince(silence))) s")
        }
        try Self.lab(["unsilence", "agg1"])
        scheduler.requestPoll("agg1", reason: "lab check")
        #expect(await collected.first(within: 20) { $0.subject == .element("agg1") && $0.kind == .state(.up) && $0.observedAt > silence } != nil)
    }
}
