import Foundation
import ForewarnModel
import Logging
import SNMP
import Synchronization
import Testing

/// The poll scheduler and trap receiver against a real snmpd, as a timeline. Waits are bounded
/// guards against a hang, not assertions on time.
@Suite("Poll scheduler and trap receiver against a real snmpd", .serialized)
struct SchedulerTests {
    final class Collected: Sendable {
        let observations = Mutex<[Observation]>([])
        func add(_ new: [Observation]) { observations.withLock { $0 += new } }
        var all: [Observation] { observations.withLock { $0 } }
        func wait(until condition: ([Observation]) -> Bool) async -> Bool {
            for _ in 0..<750 {
                if condition(all) { return true }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return condition(all)
        }
    }

    struct Sink: SNMPObservationSink {
        let collected: Collected
        func deliver(_ observations: [Observation]) async { collected.add(observations) }
    }

    static let writable = """
        override -rw .1.3.6.1.2.1.2.2.1.8.1 integer 1
        """

    @Test func timelineOfLineDownRebootAndSilence() async throws {
        if let reason = TestAgent.skipReason { print("skipped: \(reason)"); return }
        var agent = try TestAgent(extraConfig: Self.writable)
        let engine = try SNMPEngine()
        try await agent.ready(engine)
        let element = Element(id: "agg1", name: "agg1", address: .v4(0x7f00_0001), snmpPort: agent.port, kind: .aggregation,
                              pollInterval: .seconds(1))
        let monitored = MonitoredElement(element: element, profile: TestAgent.v2c, ports: [.ifIndex(1), .ifName("lo")],
                                         errorRateThreshold: 0.01)
        let collected = Collected()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let scheduler = PollScheduler(engine: engine, elements: [monitored],
                                      settings: .init(confirmInterval: .milliseconds(200), confirmations: 3),
                                      sink: Sink(collected: collected), logger: logger)
        let trapPort = TestAgent.freeUDPPort()
        let receiver = TrapReceiver(engine: engine, settings: .init(listen: SocketEndpoint("127.0.0.1:\(trapPort)")!),
                                    scheduler: scheduler, logger: logger)
        let services = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { try? await scheduler.run() }
                group.addTask { try? await receiver.run() }
            }
        }
        defer { services.cancel(); agent.stop() }

        // t=0: the element answers; both port references (ifIndex 1 and ifName lo) are up.
        #expect(await collected.wait { $0.contains { $0.subject == .element("agg1") && $0.kind == .state(.up) } })
        #expect(await collected.wait { $0.filter { if case .port = $0.subject { $0.kind == .state(.up) } else { false } }.count == 2 })

        // The error counter moves between polls: over 0.01/s however far apart a loaded machine
        // polls, so degraded. The SET is one datagram and snmpd refreshes its interface counters
        // from the kernel now and then, so it is sent again, higher each time, until seen.
        func degraded(_ observations: [Observation]) -> Bool {
            observations.contains { $0.subject == .port("agg1", .ifIndex(1)) && $0.kind == .state(.degraded) }
        }
        for errors: UInt32 in [5, 16, 27, 38] where !degraded(collected.all) {
            agent.setInErrors(errors)
            _ = await collected.wait(until: degraded)
        }
        #expect(degraded(collected.all))

        // Line down: oper-status goes down and the agent sends linkDown; the trap's poll confirms it.
        #expect(try TestAgent.run("snmpset", ["-v", "2c", "-c", TestAgent.writeCommunity, agent.endpoint,
                                              ".1.3.6.1.2.1.2.2.1.8.1", "i", "2"]) == 0)
        #expect(try TestAgent.run("snmptrap", ["-v", "2c", "-c", "public", "127.0.0.1:\(trapPort)", "", "1.3.6.1.6.3.1.1.5.3",
                                               "1.3.6.1.2.1.2.2.1.1.1", "i", "1"]) == 0)
        #expect(await collected.wait { $0.contains { $0.subject == .port("agg1", .ifIndex(1)) && $0.kind == .state(.down) } })
        let down = collected.all.first { $0.subject == .port("agg1", .ifIndex(1)) && $0.kind == .state(.down) }
        #expect(down?.detail.contains("linkDown trap") == true || down?.source == .poll)
        // The trap's poll also says the element answered (it was up all along): the correlator
        // waiting on it need not wait out its hold-down.
        #expect(await collected.wait { $0.contains { $0.subject == .element("agg1") && $0.kind == .state(.up) && $0.source == .trap } })

        // Silence: the agent stops; after the confirmation polls the element is unreachable.
        agent.stop()
        #expect(await collected.wait { $0.contains { $0.subject == .element("agg1") && $0.kind == .state(.down) } })
        let unreachable = collected.all.first { $0.subject == .element("agg1") && $0.kind == .state(.down) }!
        #expect(unreachable.detail.contains("4 polls of sysUpTime.0 failed"))
        #expect(unreachable.since < unreachable.observedAt)

        // Reboot: a new agent on the same port starts from sysUpTime 0.
        agent = try TestAgent(extraConfig: Self.writable, port: element.snmpPort)
        #expect(await collected.wait { $0.contains { $0.subject == .element("agg1") && $0.kind == .rebooted } })
        #expect(await collected.wait { $0.contains { $0.subject == .element("agg1") && $0.kind == .state(.up)
                                                      && $0.observedAt > unreachable.observedAt } })
    }

    @Test func aReloadAddsAndRemovesElementsAndKeepsWhatIsKnown() async throws {
        if let reason = TestAgent.skipReason { print("skipped: \(reason)"); return }
        let agent = try TestAgent()
        defer { agent.stop() }
        let engine = try SNMPEngine()
        try await agent.ready(engine)
        func monitored(_ id: ElementID, ports: [PortReference], threshold: Double = 1) -> MonitoredElement {
            MonitoredElement(element: Element(id: id, name: id.rawValue, address: .v4(0x7f00_0001), snmpPort: agent.port,
                                              kind: .access, pollInterval: .seconds(1)),
                             profile: TestAgent.v2c, ports: ports, errorRateThreshold: threshold)
        }
        let collected = Collected()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let scheduler = PollScheduler(engine: engine, elements: [monitored("acc1", ports: [.ifIndex(1)])],
                                      sink: Sink(collected: collected), logger: logger)
        let service = Task { try? await scheduler.run() }
        defer { service.cancel() }
        #expect(await collected.wait { $0.contains { $0.subject == .element("acc1") && $0.kind == .state(.up) } })
        #expect(scheduler.element(at: .v4(0x7f00_0001)) == "acc1")

        // acc1 only changes its threshold (kept: no new "up"); acc2 arrives at the same address.
        scheduler.reconfigure([monitored("acc1", ports: [.ifIndex(1)], threshold: 5), monitored("acc2", ports: [])])
        #expect(await collected.wait { $0.contains { $0.subject == .element("acc2") && $0.kind == .state(.up) } })
        #expect(collected.all.filter { $0.subject == .element("acc1") }.count == 1)

        // acc1 removed: no longer polled or mapped.
        scheduler.reconfigure([monitored("acc2", ports: [])])
        #expect(scheduler.element(at: .v4(0x7f00_0001)) == "acc2")
        scheduler.requestPoll("acc1")
    }
}
