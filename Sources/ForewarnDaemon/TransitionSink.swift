import ForewarnModel
import Logging
import Persistence
import Probes
import SNMP
import Synchronization

/// Where every source's observations go: each is handed to the correlator and logged, and each
/// change of a subject's state is recorded in the store's transitions. SNMP sources deliver bare
/// observations (the previous state is remembered here); the line monitor delivers each
/// verdict with the state it left.
final class TransitionSink: SNMPObservationSink, LineObservationSink {
    let store: any TransitionStore
    let correlator: any ObservationSink
    let logger: Logger
    /// Told every state seen, for the heartbeat's collection health.
    let collection: CollectionStatistics?
    private let last = Mutex<[Subject: Health]>([:])

    init(store: any TransitionStore, correlator: any ObservationSink, logger: Logger,
         collection: CollectionStatistics? = nil) {
        self.store = store
        self.correlator = correlator
        self.logger = logger
        self.collection = collection
    }

    func deliver(_ observations: [Observation]) async {
        collection?.observed(observations)
        let changes = last.withLock { last in
            observations.map { observation -> (Observation, Health) in
                guard case .state(let health) = observation.kind else { return (observation, .unknown) }
                defer { last[observation.subject] = health }
                return (observation, last[observation.subject] ?? .unknown)
            }
        }
        // An element's or port's first state is worth a row; there are few of them.
        await record(changes, storeBaseline: true, what: "SNMP state transitions")
    }

    func deliver(_ observations: [LineObservation]) async {
        collection?.observed(observations.map(\.observation))
        // A line's first verdict after start is the correlator's baseline, not news: with
        // hundreds of thousands of lines it is neither logged above debug nor stored.
        await record(observations.map { ($0.observation, $0.previous) }, storeBaseline: false, what: "line transitions")
    }

    private func record(_ changes: [(observation: Observation, previous: Health)], storeBaseline: Bool,
                        what: String) async {
        var transitions: [StateTransition] = []
        for (observation, previous) in changes {
            correlator.submit(observation)
            let metadata: Logger.Metadata = [
                "subject": "\(observation.subject)", "since": "\(RFC3339.format(observation.since))",
                "source": "\(observation.source.rawValue)", "evidence": "\(observation.detail)",
            ]
            switch observation.kind {
            case .rebooted:
                logger.notice("element rebooted", metadata: metadata)
            case .state(let health):
                let baseline = previous == .unknown
                // A first "up", or "up" again (a confirmation poll that answers), is not news.
                if health == .up && (baseline || previous == .up) {
                    logger.debug("\(observation.subject.kind) up", metadata: metadata)
                    if baseline && !storeBaseline { continue }
                } else {
                    logger.notice("\(observation.subject.kind) \(health.rawValue)", metadata: metadata)
                }
                if previous != health {
                    transitions.append(StateTransition(subject: observation.subject, from: previous, to: health,
                                                       at: observation.since, evidence: observation.detail))
                }
            }
        }
        guard !transitions.isEmpty else { return }
        do {
            try await store.appendTransitions(transitions)
        } catch {
            logger.error("cannot record \(what)", metadata: ["error": "\(error)", "transitions": "\(transitions.count)"])
        }
    }
}
