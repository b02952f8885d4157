import Foundation
import ForewarnModel
import Probes

// Probe benchmarks against fping, the standard fast prober, on loopback only.
//
//   swift run -c release probe-bench probe-round [--targets 10000] [--runs 3] [--quick]
//   swift run -c release probe-bench probe-sustained [--lines 1000000] [--seconds 30]
//
// Each prints our figures beside fping's from the same run and ends with one line
// `bench: NAME ours=X peer=Y unit=U`.

let arguments = Array(CommandLine.arguments.dropFirst())

func option(_ name: String, default fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count,
          let value = Int(arguments[index + 1].replacingOccurrences(of: "_", with: "")) else { return fallback }
    return value
}

/// 127.A.B.C addresses from `base`, skipping .0 and .255 host bytes.
func loopbackTargets(_ count: Int, base: UInt32) -> [IPAddress] {
    var targets: [IPAddress] = []
    targets.reserveCapacity(count)
    var value = base
    while targets.count < count {
        value += 1
        let last = value & 0xff
        if last == 0 || last == 255 { continue }
        targets.append(.v4(value))
    }
    return targets
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("probe-bench: \(message)\n".utf8))
    exit(1)
}

switch arguments.first {
case "probe-round":
    await RoundBenchmark.run(targets: option("--targets", default: 10_000), runs: option("--runs", default: 3),
                             slowPeer: !arguments.contains("--quick"))
case "probe-sustained":
    await SustainedBenchmark.run(lines: option("--lines", default: 1_000_000), seconds: option("--seconds", default: 30),
                                 peerTargets: option("--peer-targets", default: 17_000))
case "round-child":
    // The measured child of probe-round: one round over the targets in a file, answered ones to stdout.
    guard arguments.count >= 2 else { fail("round-child FILE") }
    await RoundBenchmark.child(file: arguments[1])
default:
    fail("usage: probe-bench probe-round [--targets N] [--runs N] [--quick] | probe-sustained [--lines N] [--seconds N]")
}
