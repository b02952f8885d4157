import ForewarnConfig
import ForewarnModel
import Foundation
import Persistence
import Synchronization

/// What the sources tell as they work (each element's and line's last state, polls, probe
/// rounds, traps, SNMP timeouts), kept for the heartbeat, which publishes it in the store as
/// collection health. Cheap to update from any task; read once per beat.
final class CollectionStatistics: Sendable {
    /// Running totals since the daemon started.
    struct Counters: Sendable, Hashable {
        var polls = 0
        var probeRounds = 0
        var traps = 0
        var snmpTimeouts = 0
    }

    struct Snapshot: Sendable, Hashable {
        var counters = Counters()
        var elements: [ElementID: Health] = [:]
        var lines: [LineID: Health] = [:]
        /// The lines the prober took on (engine started); nil until it has started.
        var probed: Set<LineID>?
        var lastTrapAt: Date?
    }

    private let state = Mutex(Snapshot())

    init() {}

    var snapshot: Snapshot { state.withLock { $0 } }

    /// States of elements and lines, as the poller and the prober deliver them.
    func observed(_ observations: [Observation]) {
        state.withLock { state in
            for observation in observations {
                guard case .state(let health) = observation.kind else { continue }
                switch observation.subject {
                case .element(let id): state.elements[id] = health
                case .line(let id): state.lines[id] = health
                case .port: continue
                }
            }
        }
    }

    /// A line's verdict now: `unknown` while the prober has it without a verdict, nil when the
    /// prober does not have it (or has not started).
    func lineHealth(_ line: LineID) -> Health? {
        state.withLock { state in state.lines[line] ?? (state.probed?.contains(line) == true ? .unknown : nil) }
    }

    func probing(_ lines: Set<LineID>) { state.withLock { $0.probed = lines } }

    /// The prober's rounds since it started (a running total).
    func probeRounds(total: Int) { state.withLock { $0.counters.probeRounds = total } }

    func trapReceived(at: Date) {
        state.withLock {
            $0.counters.traps += 1
            $0.lastTrapAt = at
        }
    }

    func pollFinished(timedOut: Bool) {
        state.withLock {
            $0.counters.polls += 1
            if timedOut { $0.counters.snmpTimeouts += 1 }
        }
    }
}

/// Collection health from the statistics and the configuration in force. Pure: the heartbeat
/// passes what it read and when.
enum CollectionMeasure {
    /// The counters and instant of the previous measurement, to compute rates from.
    struct Mark: Sendable, Hashable {
        var counters: CollectionStatistics.Counters
        var at: Date
    }

    /// Rates are averaged over this long (or since the start, before it has passed).
    static let rateWindow: TimeInterval = 60

    /// The marks to keep: the newest one at least `rateWindow` old (what rates are measured
    /// from) and every later one.
    static func window(_ marks: [Mark], now: Date) -> [Mark] {
        var kept = marks
        while kept.count > 1 && now.timeIntervalSince(kept[1].at) >= rateWindow { kept.removeFirst() }
        return kept
    }

    /// `since` is the previous mark (or the daemon's start with zero counters, for the first beat).
    static func measure(elements: [ElementID], lines: [Line], snapshot: CollectionStatistics.Snapshot, since: Mark,
                        now: Date) -> CollectionHealth {
        var health = CollectionHealth()
        for element in elements {
            switch snapshot.elements[element] {
            case nil, .unknown?: health.elementsNotPolled += 1
            case .down?: health.elementsUnreachable += 1
            case .up?, .degraded?: health.elementsReachable += 1
            }
        }
        for line in lines {
            let probed = snapshot.probed.map { $0.contains(line.id) } ?? (line.probe != .none && line.target != nil)
            guard probed else {
                health.linesUnprobed += 1
                continue
            }
            switch snapshot.lines[line.id] {
            case nil, .unknown?: health.linesUnknown += 1
            case .up?: health.linesUp += 1
            case .down?: health.linesDown += 1
            case .degraded?: health.linesDegraded += 1
            }
        }
        let seconds = now.timeIntervalSince(since.at)
        func rate(_ current: Int, _ previous: Int) -> Double {
            guard seconds > 0 else { return 0 }
            return (Double(max(0, current - previous)) / seconds * 10).rounded() / 10
        }
        let counters = snapshot.counters
        health.pollsPerSecond = rate(counters.polls, since.counters.polls)
        health.probesPerSecond = rate(counters.probeRounds, since.counters.probeRounds)
        health.trapsPerSecond = rate(counters.traps, since.counters.traps)
        health.lastTrapAt = snapshot.lastTrapAt
        health.snmpTimeouts = counters.snmpTimeouts
        return health
    }
}
