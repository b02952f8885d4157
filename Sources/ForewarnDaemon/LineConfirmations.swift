import Foundation
import ForewarnModel
import Logging
import Probes
import Synchronization

/// Answers the correlator's "probe this line now" (a customer's call, lines cut off by an element
/// that stopped answering SNMP) with one round of the line's own probe, outside its schedule.
///
/// A line that answers while its verdict is up is reported up since that verdict began: for the
/// correlator it was never cut off (an element whose SNMP agent died but still forwards keeps its
/// lines out of the outage). A line whose verdict is down but that answers now (its element came
/// back) is reported up from now, so its outage ends when it really does. A line that does not
/// answer is left to its verdict machine, which needs K lost rounds before it calls it down.
final class LineConfirmations: ConfirmationRequester {
    private let requests: AsyncStream<LineID>
    private let continuation: AsyncStream<LineID>.Continuation
    /// Each line's current verdict and since when, as the monitor reported it.
    private let verdicts = Mutex<[LineID: (health: Health, since: Date)]>([:])

    init() {
        (requests, continuation) = AsyncStream.makeStream(of: LineID.self, bufferingPolicy: .bufferingNewest(100_000))
    }

    func requestConfirmation(_ request: ConfirmationRequest) {
        if case .probeLine(let line) = request { continuation.yield(line) }
    }

    /// Records what the line monitor concluded; called with every delivered batch.
    func record(_ observations: [LineObservation]) {
        verdicts.withLock { verdicts in
            for item in observations {
                guard case .state(let health) = item.observation.kind, case .line(let id) = item.observation.subject
                else { continue }
                verdicts[id] = (health, item.observation.since)
            }
        }
    }

    /// Serves requests until cancelled, up to `concurrency` rounds at a time.
    func serve(plan: MonitorPlan, probers: [ProberKey: any Prober], deliver: @escaping @Sendable ([LineObservation]) async -> Void,
               concurrency: Int = 256, logger: Logger) async {
        let lines = Dictionary(plan.lines.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await id in requests {
                guard let line = lines[id], let prober = probers[line.prober] else { continue }
                if running >= concurrency {
                    await group.next()
                    running -= 1
                }
                running += 1
                let profile = plan.profiles[line.profile]
                group.addTask { [self] in
                    let request = ProbeRequest(address: line.address, port: line.port, count: profile.count,
                                               timeout: profile.timeout, spacing: profile.spacing)
                    guard let outcome = await prober.probe([request]).first, outcome.answered else {
                        logger.debug("confirmation probe unanswered", metadata: ["line.id": "\(id)"])
                        return
                    }
                    let verdict = verdicts.withLock { $0[id] }
                    if verdict?.health == .degraded { return }
                    let now = Date()
                    let rtt = (outcome.rttAverageNanoseconds ?? 0) / 1_000
                    // Up all along (its verdict is up): since that verdict began. Down by its
                    // verdict but answering now: up from now (its next rounds will agree).
                    let since = verdict?.health == .down ? now : (verdict?.since ?? now)
                    let observation = Observation(
                        subject: .line(id), kind: .state(.up), since: since, observedAt: now,
                        source: .probe,
                        detail: "\(line.prober) \(line.address): confirmation probe answered (\(outcome.received)/\(outcome.sent), \(rtt) µs)")
                    await deliver([LineObservation(observation: observation, previous: .up)])
                }
            }
        }
    }
}
