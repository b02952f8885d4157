import Foundation
import ForewarnModel
import Probes

/// One round over N loopback addresses: Forewarn (as a child process, like fping, so start-up,
/// CPU and memory are counted the same way) against `fping -c1 -q -i 0 -r 0 -t 500`.
enum RoundBenchmark {
    static func run(targets count: Int, runs: Int, slowPeer: Bool) async {
        let targets = loopbackTargets(count, base: 0x7f01_0000)
        let file = NSTemporaryDirectory() + "probe-bench-targets-\(getpid())"
        try? targets.map(\.description).joined(separator: "\n").appending("\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/fping") else { fail("fping is not installed (scripts/install-deps)") }

        var ours: [Measured] = []
        var fast: [Measured] = []
        for _ in 0..<max(1, runs) {
            fast.append(Spawn.run(["fping", "-c1", "-q", "-i", "0", "-r", "0", "-t", "500", "-f", file]))
            ours.append(Spawn.run([me, "round-child", file]))
        }
        let paced = slowPeer ? Spawn.run(["fping", "-c1", "-q", "-i", "1", "-r", "0", "-t", "500", "-f", file]) : nil

        for run in ours where run.status != 0 { fail("forewarn round failed: \(run.output.prefix(500))") }
        let oursAnswered = Set(ours.last!.output.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init))
        let fpingAnswered = fpingAnsweredTargets(fast.last!.output)
        let all = Set(targets.map(\.description))
        let agreeing = all.filter { oursAnswered.contains($0) == fpingAnswered.contains($0) }.count

        let oursMedian = median(ours)
        let fastMedian = median(fast)
        print("probe-round: \(count) loopback targets, one echo each, timeout 500 ms; median of \(ours.count) runs, each a fresh process")
        print(row("", "wall", "CPU", "peak RSS", "answered"))
        print(row("forewarn", seconds(oursMedian.wall), seconds(oursMedian.cpu), megabytes(oursMedian.peak), "\(oursAnswered.count)"))
        print(row("fping -i 0", seconds(fastMedian.wall), seconds(fastMedian.cpu), megabytes(fastMedian.peak), "\(fpingAnswered.count)"))
        if let paced {
            print(row("fping -i 1", seconds(paced.wallSeconds), seconds(paced.cpuSeconds), megabytes(paced.peakKilobytes),
                      "\(fpingAnsweredTargets(paced.output).count)"))
        }
        print("runs (wall s, ours / fping -i 0): " + zip(ours, fast).map { String(format: "%.3f/%.3f", $0.wallSeconds, $1.wallSeconds) }.joined(separator: " "))
        print("agreement: \(agreeing)/\(count) targets with the same verdict (answered or not)")
        if let line = ours.last!.output.split(separator: "\n").first(where: { $0.hasPrefix("#") }) { print("forewarn engine: \(line.dropFirst(2))") }
        print(String(format: "bench: probe-round ours=%.3f peer=%.3f unit=s", oursMedian.wall, fastMedian.wall))
    }

    /// The child: one round, the answered targets on stdout, a `#` line of engine counters.
    static func child(file: String) async {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { fail("cannot read \(file)") }
        let targets = text.split(separator: "\n").compactMap { IPAddress($0) }
        let prober: ICMPProber
        do { prober = try ICMPProber(rate: 0) } catch { fail("\(error)") }
        let outcomes = await prober.probe(targets.map { ProbeRequest(address: $0, count: 1, timeout: .milliseconds(500)) })
        var output = ""
        output.reserveCapacity(targets.count * 14)
        for (target, outcome) in zip(targets, outcomes) where outcome.answered { output += "\(target)\n" }
        let statistics = prober.statistics
        output += "# \(prober.socketMode) socket, sent \(statistics.sent), answered \(statistics.answered), "
            + "timed out \(statistics.timedOut), strays \(statistics.strays), duplicates \(statistics.duplicates)\n"
        prober.shutdown()
        FileHandle.standardOutput.write(Data(output.utf8))
    }

    /// fping -q -c1 prints `ADDR : xmt/rcv/%loss = 1/1/0%, …` per target.
    static func fpingAnsweredTargets(_ output: String) -> Set<String> {
        var answered: Set<String> = []
        for line in output.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":"), let equals = line.range(of: "= ") else { continue }
            let counts = line[equals.upperBound...].split(separator: "/")
            if counts.count >= 2, let received = Int(counts[1]), received > 0 {
                answered.insert(line[..<colon].trimmingCharacters(in: .whitespaces))
            }
        }
        return answered
    }

    static func median(_ runs: [Measured]) -> (wall: Double, cpu: Double, peak: Int) {
        func middle<T: Comparable>(_ values: [T]) -> T { values.sorted()[values.count / 2] }
        return (middle(runs.map(\.wallSeconds)), middle(runs.map(\.cpuSeconds)), middle(runs.map(\.peakKilobytes)))
    }
}

func row(_ name: String, _ a: String, _ b: String, _ c: String, _ d: String) -> String {
    name.padding(toLength: 12, withPad: " ", startingAt: 0) + a.padding(toLength: 10, withPad: " ", startingAt: 0)
        + b.padding(toLength: 10, withPad: " ", startingAt: 0) + c.padding(toLength: 11, withPad: " ", startingAt: 0) + d
}

func seconds(_ value: Double) -> String { String(format: "%.3f s", value) }
func megabytes(_ kilobytes: Int) -> String { String(format: "%.1f MB", Double(kilobytes) / 1024) }
