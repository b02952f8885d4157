import Foundation
import ForewarnModel

/// Which engine probes a line: one ICMP engine, one TCP engine, one ARP engine per interface.
public enum ProberKey: Sendable, Hashable, CustomStringConvertible {
    case icmp
    case tcp
    case arp(interface: String)

    public var description: String {
        switch self {
        case .icmp: return "icmp"
        case .tcp: return "tcp"
        case .arp(let interface): return "arp@\(interface)"
        }
    }
}

/// A line as the monitor probes it.
public struct MonitoredLine: Sendable, Hashable {
    public var id: LineID
    public var prober: ProberKey
    public var address: IPAddress
    public var port: UInt16
    /// Index into the plan's profiles.
    public var profile: Int

    public init(id: LineID, prober: ProberKey, address: IPAddress, port: UInt16 = 0, profile: Int) {
        self.id = id
        self.prober = prober
        self.address = address
        self.port = port
        self.profile = profile
    }
}

/// Everything the monitor needs: the lines, the profiles they refer to, the engines.
public struct MonitorPlan: Sendable {
    public var lines: [MonitoredLine]
    public var profiles: [ProbeProfile]

    public init(lines: [MonitoredLine], profiles: [ProbeProfile]) {
        self.lines = lines
        self.profiles = profiles.isEmpty ? [.standard] : profiles
    }

    /// The probe engines the plan's lines need.
    public var proberKeys: Set<ProberKey> { Set(lines.map(\.prober)) }
}

/// A line's change of health, as an observation for the correlator plus the state it left.
public struct LineObservation: Sendable, Hashable {
    public var observation: Observation
    public var previous: Health

    public init(observation: Observation, previous: Health) {
        self.observation = observation
        self.previous = previous
    }

    /// The first verdict of a line since the start: not news, but the correlator's baseline.
    public var isBaseline: Bool { previous == .unknown }

    public var transition: StateTransition {
        guard case .state(let health) = observation.kind else {
            return StateTransition(subject: observation.subject, from: previous, to: .unknown, at: observation.since,
                                   evidence: observation.detail)
        }
        return StateTransition(subject: observation.subject, from: previous, to: health, at: observation.since,
                               evidence: observation.detail)
    }
}

/// Counters of the monitor since it started.
public struct MonitorStatistics: Sendable, Hashable {
    public var rounds = 0
    public var lostRounds = 0
    public var changes = 0

    public init() {}
}

/// Runs every line's rounds on schedule and turns their results into health observations.
/// The async shell around `RoundScheduler` (when) and `LineVerdicts` (what it means): it sleeps on
/// the injected clock, hands due lines to their engines in batches, and feeds results back.
public struct LineMonitor<C: Clock>: Sendable where C.Duration == Duration, C.Instant: Sendable {
    public let plan: MonitorPlan
    public let probers: [ProberKey: any Prober]
    public let clock: C
    /// Batches are cut at most this often, so 17,000 rounds a second travel as ~20 batches.
    public let tick: Duration
    let wallClock: @Sendable () -> Date

    public init(plan: MonitorPlan, probers: [ProberKey: any Prober], clock: C, tick: Duration = .milliseconds(50),
                wallClock: @escaping @Sendable () -> Date = { Date() }) {
        self.plan = plan
        self.probers = probers
        self.clock = clock
        self.tick = tick
        self.wallClock = wallClock
    }

    struct BatchResult: Sendable {
        var lines: [Int]
        var outcomes: [ProbeOutcome]
        var at: Date
    }

    /// Runs until the task is cancelled, calling `deliver` with each group of observations (the
    /// changes one batch of results caused), `progress` after every batch, and `rounds` with
    /// every batch's raw results (indices into the plan's lines, their outcomes, when sent).
    public func run(deliver: @escaping @Sendable ([LineObservation]) async -> Void,
                    progress: @escaping @Sendable (MonitorStatistics) -> Void = { _ in },
                    rounds: (@Sendable ([Int], [ProbeOutcome], Date) -> Void)? = nil) async {
        let (results, resultSink) = AsyncStream.makeStream(of: BatchResult.self)
        let plan = self.plan
        await withDiscardingTaskGroup { group in
            group.addTask {
                var verdicts = LineVerdicts(profiles: plan.profiles, lineProfiles: plan.lines.map(\.profile))
                var statistics = MonitorStatistics()
                for await batch in results {
                    rounds?(batch.lines, batch.outcomes, batch.at)
                    var observations: [LineObservation] = []
                    let observedAt = wallClock()
                    for (line, outcome) in zip(batch.lines, batch.outcomes) {
                        statistics.rounds += 1
                        if !outcome.answered { statistics.lostRounds += 1 }
                        guard let change = verdicts.record(line: line, RoundResult(at: batch.at, outcome: outcome)) else {
                            continue
                        }
                        statistics.changes += 1
                        var detail = change.detail
                        if let failure = outcome.failure { detail += " (\(failure))" }
                        let observation = Observation(subject: .line(plan.lines[line].id), kind: .state(change.to),
                                                      since: change.since, observedAt: observedAt, source: .probe,
                                                      detail: "\(plan.lines[line].prober) \(plan.lines[line].address): \(detail)")
                        observations.append(LineObservation(observation: observation, previous: change.from))
                    }
                    if !observations.isEmpty { await deliver(observations) }
                    progress(statistics)
                }
            }
            var scheduler = RoundScheduler(intervals: plan.lines.map { plan.profiles[$0.profile].interval },
                                           start: clock.now)
            while !Task.isCancelled, let next = scheduler.nextDue {
                let wake = max(next, clock.now.advanced(by: tick))
                do { try await clock.sleep(until: wake, tolerance: tick / 2) } catch { break }
                let due = scheduler.due(now: clock.now)
                guard !due.isEmpty else { continue }
                let at = wallClock()
                var byEngine: [ProberKey: [Int]] = [:]
                for line in due { byEngine[plan.lines[line].prober, default: []].append(line) }
                for (key, lines) in byEngine {
                    guard let prober = probers[key] else { continue }
                    let requests = lines.map { index -> ProbeRequest in
                        let line = plan.lines[index]
                        let profile = plan.profiles[line.profile]
                        return ProbeRequest(address: line.address, port: line.port, count: profile.count,
                                            timeout: profile.timeout, spacing: profile.spacing)
                    }
                    group.addTask {
                        let outcomes = await prober.probe(requests)
                        resultSink.yield(BatchResult(lines: lines, outcomes: outcomes, at: at))
                    }
                }
            }
            resultSink.finish()
        }
    }
}
