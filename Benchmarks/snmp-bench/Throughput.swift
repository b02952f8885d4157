import ForewarnModel
import Foundation
import SNMP

/// (a) Completed polls per second against one snmpd standing in for `elements` elements at
/// distinct loopback addresses; each poll is one GET of sysUpTime.0 and one ifTable row.
enum Throughput {
    static let pollOIDs: [OID] = [MIB.sysUpTime, MIB.ifAdminStatus.appending(1), MIB.ifOperStatus.appending(1),
                                  MIB.ifInErrors.appending(1), MIB.ifOutErrors.appending(1)]

    static func run(elements: Int, seconds: Double, window: Int, v3: Bool) async throws {
        let port = Resources.freeUDPPort()
        let agent = try BenchAgent(port: port)
        defer { agent.stop() }
        let profile = v3
            ? SNMPProfile(id: "bench", version: .v3, credentials: .user(name: "bench", level: .authPriv, auth: .sha256,
                                                                         authKey: "bench-auth-1234", privacy: .aes128,
                                                                         privacyKey: "bench-priv-1234"),
                          timeout: .seconds(2), retries: 1)
            : SNMPProfile(id: "bench", version: .v2c, credentials: .community("public"), timeout: .seconds(2), retries: 1)
        let engine = try SNMPEngine(configuration: .init(maxOutstanding: window))
        let targets = (0..<elements).map {
            SNMPTarget(name: "e\($0)", address: .v4(Resources.loopbackAddress($0)), port: port, profile: profile)
        }
        // Wait for the agent, then warm up: one poll of every element opens its session (v3: discovers its engine).
        for _ in 0..<100 where (try? await engine.get([MIB.sysUpTime], from: targets[0])) == nil {}
        _ = await pollAll(engine, targets, deadline: nil)

        let peerAgentCPU0 = agent.cpuSeconds
        // snmpd's capacity: the best of three fixed windows (a lost datagram shrinks a window until
        // it is refilled, so one window alone can understate what the agent serves).
        var peer = 0.0
        var peerWindow = 0
        for candidate in [16, window, 256] {
            let rate = LoadGenerator.run(port: port, elements: elements, oids: pollOIDs.map(\.components),
                                         window: candidate, seconds: seconds / 3)
            if rate > peer { (peer, peerWindow) = (rate, candidate) }
        }
        let peerAgentCPU = agent.cpuSeconds - peerAgentCPU0

        let cpu0 = Resources.cpuSeconds()
        let agentCPU0 = agent.cpuSeconds
        let start = ContinuousClock.now
        let (answered, failed) = await pollAll(engine, targets, deadline: start + .milliseconds(Int64(seconds * 1000)))
        let elapsed = start.duration(to: .now)
        let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpu = Resources.cpuSeconds() - cpu0
        let ours = Double(answered) / elapsedSeconds
        let name = v3 ? "snmp-throughput-v3" : "snmp-throughput"
        print("""
            \(name): \(elements) elements at distinct 127.1.x.y addresses, one snmpd (udp:\(port)), window \(window)
              peer (raw UDP GETs, same varbinds, v2c, best window \(peerWindow) of 16/\(window)/256): \(String(format: "%.0f", peer)) responses/s, snmpd CPU \(String(format: "%.1f", peerAgentCPU / seconds * 100)) %
              ours (\(v3 ? "v3 authPriv SHA-256/AES" : "v2c")): \(String(format: "%.0f", ours)) polls/s, \(failed) failed, \
            \(String(format: "%.3f", cpu / Double(max(answered, 1)) * 1000)) CPU s per 1,000 polls, \
            snmpd CPU \(String(format: "%.1f", (agent.cpuSeconds - agentCPU0) / elapsedSeconds * 100)) %, peak RSS \(String(format: "%.0f", Resources.peakMB())) MB
              ratio \(String(format: "%.0f", ours / peer * 100)) % (target \(v3 ? 60 : 80) %)
            bench: \(name) ours=\(String(format: "%.0f", ours)) peer=\(String(format: "%.0f", peer)) unit=polls/s
            """)
        engine.shutdown()
    }

    /// Polls every element in turn, `window` at a time through the engine, until the deadline (or once).
    static func pollAll(_ engine: SNMPEngine, _ targets: [SNMPTarget],
                        deadline: ContinuousClock.Instant?) async -> (answered: Int, failed: Int) {
        await withTaskGroup(of: (Int, Int).self) { group in
            // A few hundred workers, each polling its share of the elements round-robin.
            let workers = min(targets.count, 512)
            for worker in 0..<workers {
                group.addTask {
                    var answered = 0
                    var failed = 0
                    var index = worker
                    repeat {
                        do {
                            _ = try await engine.get(pollOIDs, from: targets[index])
                            answered += 1
                        } catch {
                            failed += 1
                        }
                        index += workers
                        if index >= targets.count {
                            if deadline == nil { break }
                            index = worker
                        }
                    } while deadline.map { ContinuousClock.now < $0 } ?? true
                    return (answered, failed)
                }
            }
            var total = (0, 0)
            for await (answered, failed) in group { total.0 += answered; total.1 += failed }
            return total
        }
    }
}
