import Foundation
import ForewarnModel

/// `forewarn probe`: one round over lines (by id, with their configured method and profile) or
/// bare addresses, printed per target like fping, with a summary.
public enum ProbeRun {
    public struct Target: Sendable, Hashable {
        public var text: String
        public var line: LineID?
        public var method: ProbeMethod
        public var address: IPAddress
        public var interface: String?
        public var count: Int
        public var timeout: Duration
        public var spacing: Duration

        public var proberKey: ProberKey? {
            switch method {
            case .icmp: return .icmp
            case .tcp: return .tcp
            case .arp: return interface.map { .arp(interface: $0) }
            case .none: return nil
            }
        }

        var port: UInt16 {
            if case .tcp(let port) = method { return port }
            return 0
        }
    }

    public struct Options: Sendable {
        public var count: Int?
        public var timeout: Duration?
        /// For bare addresses: how to probe them (lines use their configured method).
        public var method: ProbeMethod
        public var interface: String?
        public var rate: Int?
        public var capturePath: String?

        public init(count: Int? = nil, timeout: Duration? = nil, method: ProbeMethod = .icmp, interface: String? = nil,
                    rate: Int? = nil, capturePath: String? = nil) {
            self.count = count
            self.timeout = timeout
            self.method = method
            self.interface = interface
            self.rate = rate
            self.capturePath = capturePath
        }
    }

    /// Why a target given on the command line cannot be probed.
    public struct TargetProblem: Error, Sendable, CustomStringConvertible {
        public var target: String
        public var reason: String
        public var description: String { "\(target): \(reason)" }
    }

    /// A configured line as `forewarn probe` needs it: with its profile and ARP interface resolved.
    public struct ConfiguredLine: Sendable {
        public var line: Line
        public var profile: ProbeProfile
        public var arpInterface: String?

        public init(line: Line, profile: ProbeProfile, arpInterface: String?) {
            self.line = line
            self.profile = profile
            self.arpInterface = arpInterface
        }
    }

    /// What the configuration says about probing, when one could be read.
    public struct Inventory: Sendable {
        public var lines: [LineID: ConfiguredLine]
        public var arpInterface: String?

        public init(lines: [ConfiguredLine], arpInterface: String?) {
            self.lines = Dictionary(lines.map { ($0.line.id, $0) }, uniquingKeysWith: { first, _ in first })
            self.arpInterface = arpInterface
        }
    }

    /// Turns command-line targets into probe targets: a configured line id, else an IP address.
    public static func resolve(_ texts: [String], inventory: Inventory?, options: Options)
        -> (targets: [Target], problems: [TargetProblem])
    {
        var targets: [Target] = []
        var problems: [TargetProblem] = []
        for text in texts {
            if let configured = inventory?.lines[LineID(text)] {
                let line = configured.line
                guard let address = line.target, line.probe != .none else {
                    problems.append(TargetProblem(target: text, reason: "line \(text) is not probed (probe: none or no target)"))
                    continue
                }
                let profile = configured.profile
                let interface = options.interface ?? configured.arpInterface
                    ?? (line.probe == .arp ? InterfaceLookup.interface(for: address) : nil)
                if line.probe == .arp && interface == nil {
                    problems.append(TargetProblem(target: text, reason: "ARP needs an interface: \(address) is on no connected subnet (--interface)"))
                    continue
                }
                targets.append(Target(text: text, line: line.id, method: line.probe, address: address, interface: interface,
                                      count: options.count ?? profile.count, timeout: options.timeout ?? profile.timeout,
                                      spacing: profile.spacing))
            } else if let address = IPAddress(text) {
                if options.method == .arp && address.isIPv6 {
                    problems.append(TargetProblem(target: text, reason: "ARP needs an IPv4 address"))
                    continue
                }
                let interface = options.interface ?? inventory?.arpInterface
                    ?? (options.method == .arp ? InterfaceLookup.interface(for: address) : nil)
                if options.method == .arp && interface == nil {
                    problems.append(TargetProblem(target: text, reason: "ARP needs an interface: \(address) is on no connected subnet (--interface)"))
                    continue
                }
                targets.append(Target(text: text, line: nil, method: options.method, address: address, interface: interface,
                                      count: options.count ?? 3, timeout: options.timeout ?? .seconds(1),
                                      spacing: .milliseconds(100)))
            } else {
                problems.append(TargetProblem(target: text,
                                              reason: "neither a configured line id nor an IP address (host names are not looked up)"))
            }
        }
        return (targets, problems)
    }

    public struct Result: Sendable {
        public var target: Target
        public var outcome: ProbeOutcome
    }

    /// Probes every target once (`count` probes each), all kinds at the same time.
    public static func execute(_ targets: [Target], options: Options, probing: ProbingSettings) async throws(ProbeError) -> [Result] {
        let capture = try options.capturePath.map { path throws(ProbeError) in try PacketCapture(path: path) }
        defer { capture?.close() }
        let rate = options.rate ?? probing.rate
        var probers: [ProberKey: any Prober] = [:]
        defer { probers.values.forEach { $0.shutdown() } }
        for key in Set(targets.compactMap(\.proberKey)) {
            probers[key] = try ProberFactory.make(key, probing: probing, rate: rate, capture: capture)
        }
        var byKey: [ProberKey: [Int]] = [:]
        for (index, target) in targets.enumerated() {
            if let key = target.proberKey { byKey[key, default: []].append(index) }
        }
        var outcomes = Array(repeating: ProbeOutcome(failure: "not probed"), count: targets.count)
        await withTaskGroup(of: ([Int], [ProbeOutcome]).self) { group in
            for (key, indices) in byKey {
                let prober = probers[key]!
                let requests = indices.map { index in
                    let target = targets[index]
                    return ProbeRequest(address: target.address, port: target.port, count: target.count,
                                        timeout: target.timeout, spacing: target.spacing)
                }
                group.addTask { (indices, await prober.probe(requests)) }
            }
            for await (indices, results) in group {
                for (index, outcome) in zip(indices, results) { outcomes[index] = outcome }
            }
        }
        return zip(targets, outcomes).map { Result(target: $0, outcome: $1) }
    }

    // MARK: output

    static func milliseconds(_ nanoseconds: Int64) -> String { String(format: "%.3f", Double(nanoseconds) / 1e6) }

    /// fping's `-c` layout: `TARGET : xmt/rcv/%loss = 3/3/0%, min/avg/max = 0.02/0.03/0.04`, then a summary.
    public static func text(_ results: [Result]) -> String {
        let width = max(15, results.map { $0.target.text.count }.max() ?? 0)
        var lines: [String] = []
        var sent = 0
        var received = 0
        var minimum = Int64.max
        var maximum: Int64 = 0
        var sum: Int64 = 0
        for result in results {
            let outcome = result.outcome
            sent += outcome.sent
            received += outcome.received
            var line = result.target.text.padding(toLength: width, withPad: " ", startingAt: 0)
                + " : xmt/rcv/%loss = \(outcome.sent)/\(outcome.received)/\(lossPercent(outcome))%"
            if outcome.received > 0 {
                minimum = min(minimum, outcome.rttMinNanoseconds)
                maximum = max(maximum, outcome.rttMaxNanoseconds)
                sum += outcome.rttSumNanoseconds
                line += ", min/avg/max = \(milliseconds(outcome.rttMinNanoseconds))/"
                    + "\(milliseconds(outcome.rttAverageNanoseconds!))/\(milliseconds(outcome.rttMaxNanoseconds)) ms"
            }
            var notes = ["\(result.target.method)"]
            if let line = result.target.line, line.rawValue != result.target.text { notes.insert("line \(line)", at: 0) }
            if result.target.line != nil && result.target.text != result.target.address.description {
                notes.insert("\(result.target.address)", at: 0)
            }
            if case .arp = result.target.method, let interface = result.target.interface { notes.append("on \(interface)") }
            if let failure = outcome.failure { notes.append(failure) }
            lines.append(line + "  (" + notes.joined(separator: ", ") + ")")
        }
        let alive = results.filter { $0.outcome.answered }.count
        var summary = "\(results.count) targets, \(alive) alive, \(results.count - alive) unreachable; "
            + "\(sent) sent, \(received) received, \(sent == 0 ? 0 : (sent - received) * 100 / sent)% loss"
        if received > 0 {
            summary += "; min/avg/max = \(milliseconds(minimum))/\(milliseconds(sum / Int64(received)))/\(milliseconds(maximum)) ms"
        }
        lines.append(summary)
        return lines.joined(separator: "\n")
    }

    static func lossPercent(_ outcome: ProbeOutcome) -> Int {
        outcome.sent == 0 ? 100 : (outcome.sent - outcome.received) * 100 / outcome.sent
    }

    struct JSONReport: Encodable {
        struct Entry: Encodable {
            var target: String
            var line: String?
            var address: String
            var method: String
            var sent: Int
            var received: Int
            var duplicates: Int
            var lossPercent: Int
            var rttMinMs: Double?
            var rttAvgMs: Double?
            var rttMaxMs: Double?
            var failure: String?

            enum CodingKeys: String, CodingKey {
                case target, line, address, method, sent, received, duplicates, failure
                case lossPercent = "loss_percent", rttMinMs = "rtt_min_ms", rttAvgMs = "rtt_avg_ms", rttMaxMs = "rtt_max_ms"
            }
        }

        struct Summary: Encodable {
            var targets: Int
            var alive: Int
            var sent: Int
            var received: Int
        }

        var targets: [Entry]
        var summary: Summary
    }

    public static func json(_ results: [Result]) -> String {
        let entries = results.map { result -> JSONReport.Entry in
            let outcome = result.outcome
            func ms(_ value: Int64) -> Double { (Double(value) / 1000).rounded() / 1000 }
            return JSONReport.Entry(target: result.target.text, line: result.target.line?.rawValue,
                                    address: result.target.address.description, method: result.target.method.description,
                                    sent: outcome.sent, received: outcome.received, duplicates: outcome.duplicates,
                                    lossPercent: lossPercent(outcome),
                                    rttMinMs: outcome.answered ? ms(outcome.rttMinNanoseconds) : nil,
                                    rttAvgMs: outcome.rttAverageNanoseconds.map(ms),
                                    rttMaxMs: outcome.answered ? ms(outcome.rttMaxNanoseconds) : nil,
                                    failure: outcome.failure)
        }
        let report = JSONReport(targets: entries, summary: .init(targets: results.count,
                                                                  alive: results.filter { $0.outcome.answered }.count,
                                                                  sent: results.reduce(0) { $0 + $1.outcome.sent },
                                                                  received: results.reduce(0) { $0 + $1.outcome.received }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self)
    }
}
