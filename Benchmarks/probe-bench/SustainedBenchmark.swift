import Foundation
import ForewarnModel
import Probes
import Synchronization

/// Sustained probing: N lines every 60 s (1,000,000 → ~16,700 echoes a second, paced) through the
/// daemon's own monitor (scheduler, ICMP engine, verdicts) for a fixed time, against fping
/// keeping the same packet rate over a smaller target set (`-p 1000` per target).
enum SustainedBenchmark {
    static func run(lines count: Int, seconds duration: Int, peerTargets: Int) async {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/fping") else { fail("fping is not installed (scripts/install-deps)") }
        let interval = Duration.seconds(60)
        let rate = Int((Double(count) / 60).rounded(.up))
        let targets = loopbackTargets(count, base: 0x7f10_0000)
        let profile = ProbeProfile(id: "bench", interval: interval, timeout: .seconds(1), count: 1)
        let plan = MonitorPlan(lines: targets.enumerated().map {
            MonitoredLine(id: LineID("L\($0.offset)"), prober: .icmp, address: $0.element, profile: 0)
        }, profiles: [profile])
        let prober: ICMPProber
        do { prober = try ICMPProber(rate: rate + rate / 5) } catch { fail("\(error)") }
        let monitor = LineMonitor(plan: plan, probers: [.icmp: prober], clock: ContinuousClock())
        let latest = Mutex(MonitorStatistics())
        let observations = Mutex(0)

        let cpuBefore = Spawn.selfCPU()
        let start = ContinuousClock.now
        let task = Task {
            await monitor.run(deliver: { batch in observations.withLock { $0 += batch.count } },
                              progress: { statistics in latest.withLock { $0 = statistics } })
        }
        try? await Task.sleep(for: .seconds(duration))
        let cpu = Spawn.selfCPU() - cpuBefore
        let wall = (ContinuousClock.now - start)
        task.cancel()
        let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) * 1e-18
        let statistics = latest.withLock { $0 }
        let engine = prober.statistics
        prober.shutdown()
        _ = await task.value
        let oursPercent = cpu / wallSeconds * 100

        // fping cannot keep 16,700 echoes/s: it holds each sequence number for 10 s and has 65,535,
        // so it stops ("not enough sequence numbers") above ~6,500/s. It runs at 6,000 echoes/s
        // (1,000 targets, 6 a second each) and the two are compared per echo.
        let peerRate = 6_000
        let peerCount = min(peerTargets, 1_000)
        let perTarget = peerRate / peerCount
        let peerFile = NSTemporaryDirectory() + "probe-bench-sustained-\(getpid())"
        try? loopbackTargets(peerCount, base: 0x7f20_0000).map(\.description).joined(separator: "\n").appending("\n")
            .write(toFile: peerFile, atomically: true, encoding: .utf8)
        defer { unlink(peerFile) }
        let gap = String(format: "%.4f", 1000 / Double(peerRate))
        let period = 1000 / perTarget
        let peer = Spawn.run(["fping", "-q", "-c", "\(duration * perTarget)", "-p", "\(period)", "-i", gap, "-r", "0",
                              "-t", "500", "-f", peerFile])
        let peerAnswered = RoundBenchmark.fpingAnsweredTargets(peer.output).count
        if peerAnswered == 0 { print("fping said: \(peer.output.suffix(400))") }
        let peerEchoes = peerCount * duration * perTarget
        let peerPercent = peer.cpuSeconds / max(peer.wallSeconds, 0.001) * 100
        let oursPerEcho = cpu / Double(max(1, engine.sent)) * 1e6
        let peerPerEcho = peer.cpuSeconds / Double(max(1, peerEchoes)) * 1e6

        print("probe-sustained: \(count) lines every 60 s (\(rate) echoes/s paced) for \(duration) s on loopback")
        print(row("", "echoes/s", "CPU", "peak RSS", "CPU % of one core   CPU per echo"))
        print(row("forewarn", "\(Int(Double(engine.sent) / wallSeconds))", String(format: "%.2f s", cpu),
                  megabytes(Spawn.selfPeakKilobytes()), String(format: "%5.1f %%             %.1f µs", oursPercent, oursPerEcho)))
        print(row("fping", "\(Int(Double(peerEchoes) / peer.wallSeconds))", String(format: "%.2f s", peer.cpuSeconds),
                  megabytes(peer.peakKilobytes), String(format: "%5.1f %%             %.1f µs", peerPercent, peerPerEcho)))
        print("forewarn: \(engine.sent) echoes sent, \(engine.answered) answered, \(engine.timedOut) timed out; "
              + "\(statistics.rounds) rounds judged, \(statistics.lostRounds) lost, "
              + "\(observations.withLock { $0 }) observations (the first 'up' of each line)")
        print("fping: \(peerCount) targets x \(duration * perTarget) echoes (-p \(period) -i \(gap)), \(peerAnswered) targets answered; "
              + "fping cannot sustain \(rate)/s (65,535 sequence numbers held 10 s each)")
        print(String(format: "bench: probe-sustained ours=%.1f peer=%.1f unit=us-cpu-per-echo", oursPerEcho, peerPerEcho))
    }
}
