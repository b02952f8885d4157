import Correlation
import ForewarnConfig
import ForewarnModel
import Foundation
import Logging
import ServiceLifecycle
import Store

/// The async shell around the correlator: one task owns the state machine, fed through one
/// stream by the sources (`submit`), a ticker and the operator-command poller. Every action is
/// persisted — incident change and outbox row in one store transaction — before the batch is
/// dropped; confirmation requests go to the requesters at once.
///
/// Sources (the SNMP engine, the prober) hold the service as their `ObservationSink`.
public final class CorrelatorService: Service, ObservationSink {
    enum Input: Sendable {
        case event(CorrelatorEvent)
        case tick
        case commands([QueuedCommand])
    }

    public struct Timing: Sendable {
        /// How often hold-downs are checked and the batch written.
        public var tick: Duration = .milliseconds(200)
        /// How often the store is asked for operator commands.
        public var commandPoll: Duration = .seconds(1)
        /// A batch this large is written without waiting for the tick.
        public var batchLimit = 20_000
        public init() {}
    }

    private let store: any Store
    private let current: CurrentConfiguration
    private let requesters: [any ConfirmationRequester]
    private let timing: Timing
    private let logger: Logger
    private let inputs: AsyncStream<Input>
    private let continuation: AsyncStream<Input>.Continuation

    /// Follows `current`: after a reload (SIGHUP) the correlator is rebuilt on the new
    /// inventory from the store's open incidents, carrying over the faults still held.
    public init(store: any Store, current: CurrentConfiguration, requesters: [any ConfirmationRequester] = [],
                timing: Timing = Timing(), logger: Logger) {
        self.store = store
        self.current = current
        self.requesters = requesters
        self.timing = timing
        self.logger = logger
        (inputs, continuation) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)
    }

    /// Never blocks; safe from any thread.
    public func submit(_ observation: Observation) { continuation.yield(.event(.observation(observation))) }

    public func submit(_ event: CorrelatorEvent) { continuation.yield(.event(event)) }

    public func run() async throws {
        let clock = ContinuousClock()
        var generation = current.generation
        var configuration = current.configuration
        var pending = CorrelationBatch(hooks: configuration.hooks, at: Date())
        var correlator = try await start(configuration, carrying: [], clock: clock, into: &pending)
        var lastCommand: Int64 = 0
        await write(&pending)

        await withTaskGroup(of: Void.self) { group in
            group.addTask { [continuation, timing] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: timing.tick)
                    continuation.yield(.tick)
                }
            }
            group.addTask { [continuation, timing, store, logger] in
                var lastFailure: String?
                while !Task.isCancelled {
                    do {
                        let commands = try await store.pendingCommands(limit: 500)
                        if !commands.isEmpty { continuation.yield(.commands(commands)) }
                        lastFailure = nil
                    } catch {
                        let text = String(describing: error)
                        if lastFailure != text {
                            logger.error("cannot read operator commands", metadata: ["error": "\(text)"])
                        }
                        lastFailure = text
                    }
                    try? await Task.sleep(for: timing.commandPoll)
                }
            }

            // On SIGTERM the stream ends, the loop finishes what it holds and writes it.
            group.addTask { [continuation] in
                try? await gracefulShutdown()
                continuation.finish()
            }
            do {
                for await input in inputs {
                    // A reload took effect: rebuild before the next decision (once the last
                    // batch on the old inventory is written).
                    if current.generation != generation {
                        await write(&pending)
                        if pending.isEmpty {
                            generation = current.generation
                            configuration = current.configuration
                            let held = correlator.heldObservations
                            pending.hooks = configuration.hooks
                            do {
                                correlator = try await start(configuration, carrying: held, clock: clock,
                                                             into: &pending)
                            } catch {
                                logger.error("cannot rebuild the correlator, keeping the old inventory",
                                             metadata: ["error": "\(error)"])
                            }
                        }
                    }
                    switch input {
                    case .event(let event):
                        collect(correlator.handle(event, now: clock.now), into: &pending)
                        if pending.changes.count >= timing.batchLimit { await write(&pending) }
                    case .tick:
                        collect(correlator.tick(now: clock.now), into: &pending)
                        await write(&pending)
                    case .commands(let commands):
                        for queued in commands where queued.id > lastCommand {
                            lastCommand = queued.id
                            let result = apply(queued, to: &correlator, now: clock.now, into: &pending)
                            pending.processedCommands.append((queued.id, result))
                        }
                        await write(&pending)
                    }
                }
            }
            group.cancelAll()
        }
        // Graceful shutdown: what was decided is written before the process goes.
        collect(correlator.tick(now: clock.now), into: &pending)
        await write(&pending)
        logger.info("correlator stopped", metadata: ["incidents.open": "\(correlator.openIncidents.count)"])
    }

    /// A correlator on this configuration's inventory, continuing the store's open incidents.
    private func start(_ configuration: Configuration, carrying held: [Observation], clock: ContinuousClock,
                       into pending: inout CorrelationBatch) async throws -> Correlator<ContinuousClock.Instant> {
        var correlator = Correlator(topology: Topology(elements: configuration.elements, lines: configuration.lines),
                                    settings: configuration.correlation, epoch: clock.now, epochDate: Date())
        let recovery = try await store.recoverIncidents()
        collect(correlator.recover(recovery.open, recentlyResolved: recovery.recentlyResolved,
                                   nextIncidentID: recovery.nextIncidentID, now: clock.now), into: &pending)
        var windows = configuration.maintenance
        windows += (try? await store.maintenanceWindows()) ?? []
        for window in windows {
            collect(correlator.handle(.maintenance(window), now: clock.now), into: &pending)
        }
        for observation in held {
            collect(correlator.handle(.observation(observation), now: clock.now), into: &pending)
        }
        logger.info("correlator started", metadata: [
            "incidents.open": "\(recovery.open.count)", "topology.elements": "\(correlator.topology.elementCount)",
            "topology.lines": "\(correlator.topology.lineCount)", "faults.held": "\(held.count)",
            "hold_down": "\(DurationText.format(configuration.correlation.holdDown))",
        ])
        return correlator
    }

    private func apply(_ queued: QueuedCommand, to correlator: inout Correlator<ContinuousClock.Instant>,
                       now: ContinuousClock.Instant, into batch: inout CorrelationBatch) -> String {
        guard let command = queued.command else { return "refused: \(queued.problem ?? "unreadable")" }
        let event: CorrelatorEvent
        switch command {
        case .reportCall(let report): event = .customerReport(report)
        case .action(let action): event = .operatorAction(action)
        case .maintenanceAdd(let window): event = .maintenance(window)
        case .maintenanceEnd(let id, let at): event = .maintenanceEnded(id, at: at)
        }
        let actions = correlator.handle(event, now: now)
        let refusals = actions.compactMap { action -> String? in
            if case .rejected(let reason) = action { return reason }
            return nil
        }
        collect(actions, into: &batch)
        return refusals.isEmpty ? "ok" : "refused: " + refusals.joined(separator: "; ")
    }

    private func collect(_ actions: [CorrelatorAction], into batch: inout CorrelationBatch) {
        for action in actions {
            switch action {
            case .incident(let change):
                batch.changes.append(change)
                log(change)
            case .customerReportFiled(let report, let incident):
                batch.reports.append((report, incident))
            case .confirm(let request):
                logger.debug("confirmation requested", metadata: ["request": "\(request)"])
                for requester in requesters { requester.requestConfirmation(request) }
            case .rejected(let reason):
                logger.warning("correlator refused an event", metadata: ["reason": "\(reason)"])
            }
        }
    }

    private func log(_ change: IncidentChange) {
        let incident = change.incident
        let metadata: Logger.Metadata = [
            "incident.id": "\(incident.id.rawValue)", "incident.root": "\(incident.root)",
            "incident.severity": "\(incident.severity.rawValue)", "incident.planned": "\(incident.planned)",
        ]
        switch change.kind {
        case .open: logger.notice("incident opened", metadata: metadata)
        case .reroot: logger.notice("incident re-rooted", metadata: metadata)
        case .merge: logger.notice("incidents merged", metadata: metadata)
        case .absorbed:
            logger.info("incident merged into another", metadata: metadata.merging(
                ["incident.merged_into": "\(incident.mergedInto?.rawValue ?? 0)"]) { $1 })
        case .resolve: logger.notice("incident resolved", metadata: metadata)
        case .grow, .shrink, .update: logger.debug("incident updated", metadata: metadata)
        }
    }

    /// Writes the batch; on failure keeps it whole for the next attempt (decisions are never
    /// dropped, and the outbox stays in step with the incidents).
    private func write(_ batch: inout CorrelationBatch) async {
        guard !batch.isEmpty else { return }
        batch.at = Date()
        do {
            try await store.record(batch)
            batch = CorrelationBatch(hooks: batch.hooks, at: Date())
        } catch {
            logger.error("cannot write incident changes, keeping them for the next attempt",
                         metadata: ["error": "\(error)", "changes": "\(batch.changes.count)"])
        }
    }
}
