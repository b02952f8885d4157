import ForewarnModel
import Foundation

/// `forewarn poll`: one poll of each target with the engine's full concurrency, for NOC staff
/// and scripts. Every port is listed (walks of the IF-MIB columns), not only monitored ones.
public enum OneShotPoll {
    public struct Port: Sendable, Codable, Hashable {
        public var ifIndex: Int
        public var ifName: String?
        public var adminStatus: String
        public var operStatus: String
        public var inErrors: UInt32?
        public var outErrors: UInt32?
    }

    public struct Result: Sendable, Codable {
        public var target: String
        public var address: String
        public var answered: Bool
        public var timedOut: Bool
        public var sysUpTime: UInt32?
        public var sysName: String?
        public var ports: [Port]
        public var error: String?
        public var milliseconds: Int
    }

    public struct Summary: Sendable, Codable {
        public var targets: Int
        public var answered: Int
        public var timedOut: Int
        public var failed: Int
        public var elapsedSeconds: Double
    }

    public static func run(_ targets: [SNMPTarget], engine: SNMPEngine) async -> (results: [Result], summary: Summary) {
        var results: [Result] = []
        var iterator = targets.makeIterator()
        let summary = await stream(&iterator, engine: engine, window: max(1, targets.count)) { results.append($0) }
        return (results, summary)
    }

    /// Polls targets as `targets` yields them, at most `window` at a time, and hands each result
    /// to `emit` in the order the targets came. Memory is bounded by the window, not by the
    /// number of targets (a list of a million elements is read as it is polled).
    public static func stream<Targets: IteratorProtocol>(_ targets: inout Targets, engine: SNMPEngine, window: Int,
                                                         emit: (Result) -> Void) async -> Summary
    where Targets.Element == SNMPTarget {
        let start = ContinuousClock.now
        var summary = Summary(targets: 0, answered: 0, timedOut: 0, failed: 0, elapsedSeconds: 0)
        await withTaskGroup(of: (Int, Result).self) { group in
            var started = 0
            var emitted = 0
            var exhausted = false
            // Results that finished before an earlier target's: at most `window` wait here.
            var finished: [Int: Result] = [:]
            while true {
                while !exhausted && started - emitted < max(1, window) {
                    guard let target = targets.next() else {
                        exhausted = true
                        break
                    }
                    let index = started
                    started += 1
                    group.addTask { (index, await poll(target, engine: engine)) }
                }
                guard let (index, result) = await group.next() else { break }
                finished[index] = result
                while let ready = finished.removeValue(forKey: emitted) {
                    emitted += 1
                    summary.targets += 1
                    if ready.answered { summary.answered += 1 } else if ready.timedOut { summary.timedOut += 1 } else { summary.failed += 1 }
                    emit(ready)
                }
            }
        }
        let elapsed = start.duration(to: .now)
        summary.elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return summary
    }

    static func poll(_ target: SNMPTarget, engine: SNMPEngine) async -> Result {
        let start = ContinuousClock.now
        var result = Result(target: target.name, address: target.endpointText, answered: false, timedOut: false,
                            sysUpTime: nil, sysName: nil, ports: [], error: nil, milliseconds: 0)
        do {
            let system = try await engine.get([MIB.sysUpTime, MIB.sysName], from: target)
            result.answered = true
            if case .timeTicks(let ticks) = system[0].value { result.sysUpTime = ticks }
            result.sysName = system[1].value.text
            result.milliseconds = milliseconds(since: start)
            var columns: [OID: [Int: SNMPValue]] = [:]
            for column in [MIB.ifAdminStatus, MIB.ifOperStatus, MIB.ifInErrors, MIB.ifOutErrors, MIB.ifName, MIB.ifDescr] {
                // ifName lives in ifXTable, absent on old agents: a missing column is not an error.
                let rows = (try? await engine.walk(column, from: target)) ?? []
                for row in rows {
                    guard let index = row.oid.suffix(after: column)?.first else { continue }
                    columns[column, default: [:]][Int(index)] = row.value
                }
            }
            let indices = Set((columns[MIB.ifAdminStatus] ?? [:]).keys).sorted()
            result.ports = indices.map { index in
                func counter(_ column: OID) -> UInt32? {
                    if case .counter32(let value)? = columns[column]?[index] { return value }
                    return nil
                }
                return Port(ifIndex: index, ifName: columns[MIB.ifName]?[index]?.text ?? columns[MIB.ifDescr]?[index]?.text,
                            adminStatus: statusName(columns[MIB.ifAdminStatus]?[index]?.integerValue),
                            operStatus: statusName(columns[MIB.ifOperStatus]?[index]?.integerValue),
                            inErrors: counter(MIB.ifInErrors), outErrors: counter(MIB.ifOutErrors))
            }
        } catch {
            if case .timeout = error.cause { result.timedOut = true }
            result.error = error.description
            result.milliseconds = milliseconds(since: start)
        }
        return result
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        let elapsed = start.duration(to: .now)
        return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
    }

    /// IF-MIB status names (RFC 2863).
    static func statusName(_ value: Int64?) -> String {
        guard let value else { return "-" }
        let names = [1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"]
        return names[Int(value)] ?? String(value)
    }

    /// `3d 04:05:06` from hundredths of a second.
    public static func uptimeText(_ ticks: UInt32) -> String {
        let seconds = Int(ticks / 100)
        let days = seconds / 86_400
        let clock = String(format: "%02d:%02d:%02d", seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60)
        return days > 0 ? "\(days)d \(clock)" : clock
    }

    public static func text(_ results: [Result], _ summary: Summary) -> String {
        (results.map(text) + [text(summary)]).joined(separator: "\n")
    }

    /// One target's lines: whether it answered, then its ports.
    public static func text(_ result: Result) -> String {
        var lines: [String] = []
        let name = result.target == result.address || result.address.hasPrefix(result.target + ":")
            ? result.address : "\(result.target) (\(result.address))"
        guard result.answered else { return "\(name): NO ANSWER: \(result.error ?? "unknown error")" }
        lines.append("\(name): answered in \(result.milliseconds) ms, sysUpTime \(result.sysUpTime.map(uptimeText) ?? "-"), sysName \(result.sysName ?? "-")")
        guard !result.ports.isEmpty else { return lines[0] }
        let nameWidth = max(6, result.ports.map { ($0.ifName ?? "-").count }.max() ?? 6)
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
        lines.append("  " + pad("ifIndex", 8) + pad("ifName", nameWidth + 2) + pad("admin", 8) + pad("oper", 16) + pad("inErrors", 12) + "outErrors")
        for port in result.ports {
            lines.append("  " + pad(String(port.ifIndex), 8) + pad(port.ifName ?? "-", nameWidth + 2) + pad(port.adminStatus, 8)
                         + pad(port.operStatus, 16) + pad(port.inErrors.map(String.init) ?? "-", 12) + (port.outErrors.map(String.init) ?? "-"))
        }
        return lines.joined(separator: "\n")
    }

    /// The closing line.
    public static func text(_ summary: Summary) -> String {
        String(format: "summary: %d answered, %d timed out, %d failed, %d targets in %.2f s",
               summary.answered, summary.timedOut, summary.failed, summary.targets, summary.elapsedSeconds)
    }

    public static func json(_ results: [Result], _ summary: Summary) -> String {
        var writer = JSONStream()
        var text = writer.opening
        for result in results { text += writer.element(result) }
        return text + writer.closing(summary)
    }

    /// The JSON document written a result at a time: `{"results": [...], "summary": {...}}`,
    /// byte for byte what encoding the whole document at once gives.
    public struct JSONStream {
        private var count = 0
        private let encoder: JSONEncoder

        public init() {
            encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
        }

        public var opening: String { "{\n  \"results\" : [\n" }

        public mutating func element(_ result: Result) -> String {
            count += 1
            return (count > 1 ? ",\n" : "") + indented(result, by: "    ")
        }

        public func closing(_ summary: Summary) -> String {
            "\n  ],\n  \"summary\" : " + indented(summary, by: "  ").dropFirst(2) + "\n}"
        }

        private func indented(_ value: some Encodable, by prefix: String) -> String {
            let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "" : prefix + $0 }.joined(separator: "\n")
        }
    }
}
