import ForewarnModel
import Foundation
import Logging
import SNMP
import Synchronization

/// (b) Scale under real latency: `elements` elements, each polled by the real PollScheduler
/// (sysUpTime.0 + sysName.0, then one ifTable row: two requests), through a relay that delays
/// every datagram by `delayMilliseconds` each way, within one cycle of `cycleSeconds`.
enum Scale {
    final class Counting: SNMPObservationSink {
        let state = Mutex<(elements: Int, ports: Int, lastAt: ContinuousClock.Instant?)>((0, 0, nil))
        func deliver(_ observations: [Observation]) async {
            state.withLock { state in
                for observation in observations where observation.kind == .state(.up) {
                    if case .element = observation.subject { state.elements += 1 } else { state.ports += 1 }
                    state.lastAt = .now
                }
            }
        }
    }

    static func run(elements: Int, delayMilliseconds: Int, cycleSeconds: Double) async throws {
        let agentPort = Resources.freeUDPPort()
        let relayPort = Resources.freeUDPPort()
        let agent = try BenchAgent(port: agentPort)
        defer { agent.stop() }
        // The relay is a child process, so its CPU is not counted as ours.
        let relay = Process()
        relay.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        relay.arguments = ["relay", "--listen-port", "\(relayPort)", "--agent-port", "\(agentPort)", "--delay-ms", "\(delayMilliseconds)"]
        try relay.run()
        defer { kill(relay.processIdentifier, SIGKILL) }
        try await Task.sleep(for: .milliseconds(300))

        let interval = Duration.milliseconds(Int64(cycleSeconds * 1000))
        let profile = SNMPProfile(id: "scale", version: .v2c, credentials: .community("public"), timeout: .seconds(2), retries: 1)
        let monitored = (0..<elements).map { index in
            MonitoredElement(element: Element(id: ElementID("e\(index)"), name: "e\(index)", address: .v4(Resources.loopbackAddress(index)),
                                              snmpPort: relayPort, kind: .access, pollInterval: interval),
                             profile: profile, ports: [.ifIndex(1)])
        }
        let engine = try SNMPEngine(configuration: .init(maxOutstanding: 8_000))
        var logger = Logger(label: "scale")
        logger.logLevel = .warning
        let sink = Counting()
        let scheduler = PollScheduler(engine: engine, elements: monitored, sink: sink, logger: logger)
        let cpu0 = Resources.cpuSeconds()
        let start = ContinuousClock.now
        let service = Task { try await scheduler.run() }
        // One cycle plus the round trips of the last polls.
        var peakRSS = 0.0
        let end = start + interval + .milliseconds(Int64(4 * delayMilliseconds) + 1500)
        while ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(500))
            peakRSS = max(peakRSS, Resources.currentMB())
        }
        let elapsed = start.duration(to: .now)
        let cpu = Resources.cpuSeconds() - cpu0
        service.cancel()
        let counts = sink.state.withLock { $0 }
        let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let lastSeconds = counts.lastAt.map { at -> Double in
            let span = start.duration(to: at)
            return Double(span.components.seconds) + Double(span.components.attoseconds) / 1e18
        } ?? 0
        print("""
            snmp-scale: \(elements) elements, 2 requests each, relay delay \(delayMilliseconds) ms each way, cycle \(Int(cycleSeconds)) s
              polled (sysUpTime answered): \(counts.elements) elements, ports read: \(counts.ports); last answer at \(String(format: "%.1f", lastSeconds)) s
              CPU \(String(format: "%.1f", cpu)) s over \(String(format: "%.1f", elapsedSeconds)) s = \(String(format: "%.2f", cpu / elapsedSeconds)) cores (target < 1); \
            peak RSS \(String(format: "%.0f", max(peakRSS, Resources.peakMB()))) MB (target < 500)
            bench: snmp-scale ours=\(counts.elements) peer=- unit=elements-polled-in-\(Int(cycleSeconds))s-cycle
            """)
        engine.shutdown()
    }
}
