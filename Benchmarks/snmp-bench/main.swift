import Foundation
import SNMP

// snmp-bench throughput [--v3] [--elements N] [--seconds S] [--window W]
// snmp-bench scale [--elements N] [--delay-ms D] [--cycle S]
// snmp-bench soak [--minutes M] [--elements N]
// snmp-bench relay --listen-port P --agent-port A [--delay-ms D] [--record FILE]   (started by scale, scripts/bench-cluster)
let arguments = Array(CommandLine.arguments.dropFirst())
let mode = arguments.first ?? "throughput"
@MainActor func option(_ name: String, _ fallback: Double) -> Double {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count,
          let value = Double(arguments[index + 1]) else { return fallback }
    return value
}
NetSNMPLibrary.initialise()
switch mode {
case "throughput":
    try await Throughput.run(elements: Int(option("--elements", 5000)), seconds: option("--seconds", 10),
                             window: Int(option("--window", 64)), v3: arguments.contains("--v3"))
case "scale":
    try await Scale.run(elements: Int(option("--elements", 100_000)), delayMilliseconds: Int(option("--delay-ms", 200)),
                        cycleSeconds: option("--cycle", 60))
case "soak":
    try await Soak.run(minutes: option("--minutes", 5), elements: Int(option("--elements", 4000)))
case "relay":
    Relay.run(listenPort: UInt16(option("--listen-port", 0)), agentPort: UInt16(option("--agent-port", 0)),
              delayMilliseconds: Int(option("--delay-ms", 200)),
              record: arguments.firstIndex(of: "--record").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil })
default:
    FileHandle.standardError.write(Data("usage: snmp-bench throughput|scale [options]\n".utf8))
    exit(2)
}
