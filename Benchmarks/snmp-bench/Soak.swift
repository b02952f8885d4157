import ForewarnModel
import Foundation
import SNMP

/// Leak check: minutes of continuous polling with session churn (more elements than sessions
/// allowed), timeouts (a share of elements point at a port nobody answers) and SNMPv3, with the
/// resident set sampled. A leak of sessions or PDUs shows as steady growth after warm-up.
enum Soak {
    static func run(minutes: Double, elements: Int) async throws {
        let port = Resources.freeUDPPort()
        let deadPort = Resources.freeUDPPort()
        let agent = try BenchAgent(port: port)
        defer { agent.stop() }
        let v2 = SNMPProfile(id: "v2", version: .v2c, credentials: .community("public"), timeout: .milliseconds(300), retries: 1)
        let v3 = SNMPProfile(id: "v3", version: .v3, credentials: .user(name: "bench", level: .authPriv, auth: .sha256,
                                                                        authKey: "bench-auth-1234", privacy: .aes128,
                                                                        privacyKey: "bench-priv-1234"),
                             timeout: .milliseconds(300), retries: 1)
        let targets = (0..<elements).map { index in
            SNMPTarget(name: "e\(index)", address: .v4(Resources.loopbackAddress(index)),
                       port: index % 10 == 9 ? deadPort : port, profile: index % 4 == 0 ? v3 : v2)
        }
        let engine = try SNMPEngine(configuration: .init(maxOutstanding: 256, maxOpenSessions: elements / 4))
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        let end = start + .milliseconds(Int64(minutes * 60_000))
        let sampler = Task {
            var samples: [Double] = []
            while !Task.isCancelled {
                samples.append(Resources.currentMB())
                let seconds = start.duration(to: .now).components.seconds
                print("  t=\(seconds) s RSS \(String(format: "%.1f", samples.last!)) MB")
                try? await Task.sleep(for: .seconds(15))
            }
            return samples
        }
        let (answered, failed) = await Throughput.pollAll(engine, targets, deadline: end)
        sampler.cancel()
        let samples = await sampler.value
        // Growth from the first sample after warm-up (one minute) to the last.
        let warm = samples.count > 5 ? samples[4] : samples.first ?? 0
        let growth = (samples.last ?? 0) - warm
        print("""
            snmp-soak: \(elements) elements (1 in 10 silent, 1 in 4 SNMPv3), \(elements / 4) sessions allowed, \(minutes) min
              \(answered) answered, \(failed) failed (timeouts by design), RSS after warm-up \(String(format: "%.1f", warm)) MB, \
            at end \(String(format: "%.1f", samples.last ?? 0)) MB
            bench: snmp-soak ours=\(String(format: "%.1f", growth)) peer=- unit=MB-RSS-growth-after-warm-up
            """)
        engine.shutdown()
    }
}
