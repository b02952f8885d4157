import Correlation
import ForewarnConfig
import ForewarnModel
import Foundation
import Logging
import Persistence
import ServiceLifecycle
import Ticketing

/// The async shell around the correlator: one task owns the state machine, fed through one
/// stream by the sources (`submit`), a ticker and the operator-command poller. Every action is
/// persisted — incident change and the outbox entries the ticketing stage makes of it, in one
/// store transaction — before the batch is dropped; confirmation requests go to the requesters
/// at once.
///
/// Decisions run on the injected clock `C` (the daemon's `ContinuousClock`, a manual clock in
/// tests); `wallClock` dates what is written.
public final class CorrelatorService<C: Clock>: Service, ObservationSink
where C.Duration == Duration, C.Instant: Sendable {
    /// Each input with the instant it entered the queue. Decisions are taken as of then: inputs
    /// are handled in queue order, so a tick queued after a burst of evidence is handled after
    /// all of it, and a backlog (a burst on a loaded machine) never lets a hold-down expire
    /// before the evidence queued ahead of the tick was seen — a core's failure queued behind
    /// its 200,000 lines still makes one incident, not 200,000 merged one by one.
    enum Input: Sendable {
        case event(CorrelatorEvent, at: C.Instant)
        case tick(at: C.Instant)
        case commands([QueuedCommand], at: C.Instant)
    }

    public typealias Timing = CorrelatorTiming

    typealias Machine = Correlator<C.Instant>

    /// Decisions not yet written, and how many of its changes the ticketing stage has seen.
    struct Pending {
        var batch: CorrelationBatch
        var announced = 0
        /// Why the last attempt to write it failed.
        var failure: String?
        /// When to try again after a failure (backing off, so a failing store is not retried
        /// at every tick with the whole batch).
        var retry = StoreRetry<C.Instant>()
    }

    private let store: any IncidentStore & CommandStore
    private let current: CurrentConfiguration
    private let requesters: [any ConfirmationRequester]
    private let timing: Timing
    private let clock: C
    private let wallClock: @Sendable () -> Date
    private let outboxWritten: @Sendable () -> Void
    private let storeHealth: StoreHealth?
    private let logger: Logger
    private let inputs: AsyncStream<Input>
    private let continuation: AsyncStream<Input>.Continuation

    /// Follows `current`: after a reload (SIGHUP) the correlator is rebuilt on the new
    /// inventory from the store's open incidents, carrying over the faults still held.
    public init(store: any IncidentStore & CommandStore, current: CurrentConfiguration,
                requesters: [any ConfirmationRequester] = [], timing: Timing = Timing(), clock: C,
                wallClock: @escaping @Sendable () -> Date = { Date() },
                outboxWritten: @escaping @Sendable () -> Void = {}, storeHealth: StoreHealth? = nil, logger: Logger) {
        self.store = store
        self.current = current
        self.requesters = requesters
        self.timing = timing
        self.clock = clock
        self.wallClock = wallClock
        self.outboxWritten = outboxWritten
        self.storeHealth = storeHealth
        self.logger = logger
        (inputs, continuation) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)
    }

    /// Never blocks; safe from any thread.
    public func submit(_ observation: Observation) { continuation.yield(.event(.observation(observation), at: clock.now)) }

    public func submit(_ event: CorrelatorEvent) { continuation.yield(.event(event, at: clock.now)) }

    public func run() async throws {
        var generation = current.generation
        var configuration = current.configuration
        var pending = Pending(batch: CorrelationBatch(at: wallClock()))
        var announcer = TicketAnnouncer()
        var correlator = try await start(configuration, carrying: [], ids: [], announcer: &announcer, into: &pending)
        var lastCommand: Int64 = 0
        await write(&pending, announcer: &announcer, hooks: configuration.hooks)
        // As of when the input being handled was queued; never backwards.
        var decidedAt = clock.now

        await withTaskGroup(of: Void.self) { group in
            group.addTask { [continuation, timing, clock] in
                while !Task.isCancelled {
                    try? await clock.sleep(for: timing.tick)
                    continuation.yield(.tick(at: clock.now))
                }
            }
            group.addTask { [continuation, timing, store, logger, clock] in
                var lastFailure: String?
                while !Task.isCancelled {
                    do {
                        let commands = try await store.pendingCommands(limit: 500)
                        if !commands.isEmpty { continuation.yield(.commands(commands, at: clock.now)) }
                        lastFailure = nil
                    } catch {
                        let text = String(describing: error)
                        if lastFailure != text {
                            logger.error("cannot read operator commands", metadata: ["error": "\(text)"])
                        }
                        lastFailure = text
                    }
                    try? await clock.sleep(for: timing.commandPoll)
                }
            }

            // On SIGTERM the stream ends, the loop finishes what it holds and writes it.
            group.addTask { [continuation] in
                try? await gracefulShutdown()
                continuation.finish()
            }
            for await input in inputs {
                // A reload took effect: rebuild before the next decision (once the last batch on
                // the old inventory is written).
                if current.generation != generation {
                    await write(&pending, announcer: &announcer, hooks: configuration.hooks)
                    if pending.batch.isEmpty {
                        generation = current.generation
                        configuration = current.configuration
                        do {
                            correlator = try await start(configuration, carrying: correlator.heldObservations,
                                                         ids: correlator.unusedIncidentIDs, announcer: &announcer,
                                                         into: &pending)
                            decidedAt = max(decidedAt, clock.now)  // the new correlator's epoch
                        } catch {
                            logger.error("cannot rebuild the correlator, keeping the old inventory",
                                         metadata: ["error": "\(error)"])
                        }
                    }
                }
                await supplyIncidentIDs(to: &correlator)
                switch input {
                case .event(let event, let at):
                    decidedAt = max(decidedAt, at)
                    collect(correlator.handle(event, now: decidedAt), into: &pending)
                    if pending.batch.changes.count >= timing.batchLimit {
                        await write(&pending, announcer: &announcer, hooks: configuration.hooks)
                    }
                case .tick(let at):
                    decidedAt = max(decidedAt, at)
                    collect(correlator.tick(now: decidedAt), into: &pending)
                    await write(&pending, announcer: &announcer, hooks: configuration.hooks)
                case .commands(let commands, let at):
                    decidedAt = max(decidedAt, at)
                    for queued in commands where queued.id > lastCommand {
                        lastCommand = queued.id
                        await supplyIncidentIDs(to: &correlator)
                        let result = apply(queued, to: &correlator, into: &pending, now: decidedAt)
                        pending.batch.processedCommands.append((queued.id, result))
                    }
                    await write(&pending, announcer: &announcer, hooks: configuration.hooks)
                }
            }
            group.cancelAll()
        }
        // Graceful shutdown: what was decided is written before the process goes, and the ids
        // reserved and not used go back (no gap in the numbering after a clean restart).
        await supplyIncidentIDs(to: &correlator)
        collect(correlator.tick(now: clock.now), into: &pending)
        await write(&pending, announcer: &announcer, hooks: configuration.hooks, now: true)
        // A store that cannot be written now gets a few more chances before the process goes.
        for _ in 0..<Self.attemptsAtStop where !pending.batch.isEmpty {
            try? await Task.sleep(for: .milliseconds(500))
            await write(&pending, announcer: &announcer, hooks: configuration.hooks, now: true)
        }
        if pending.batch.isEmpty {
            for unused in correlator.unusedIncidentIDs.reversed() { try? await store.releaseIncidentIDs(unused) }
        } else {
            // Not silently lost: the exit is non-zero, and a restart rebuilds the open incidents
            // from the store's and the sources' evidence.
            logger.critical("stopped with incident changes not written", metadata: [
                "changes": "\(pending.batch.changes.count)", "commands": "\(pending.batch.processedCommands.count)",
                "calls": "\(pending.batch.reports.count)", "store.path": "\(store.location)",
            ])
            throw UnwrittenAtStop(what: "incident changes", count: pending.batch.changes.count, store: store.location)
        }
        logger.info("correlator stopped", metadata: ["incidents.open": "\(correlator.openIncidents.count)"])
    }

    /// Without a daemon: the correlator started as the daemon starts it (the store's open
    /// incidents, maintenance windows), every pending operator command applied and written as
    /// the daemon writes them (each command with what it changed, in one transaction), the ids
    /// it reserved and did not use given back. For the CLI holding the
    /// daemon's lock (`StoreFactory.openUnlessDaemonRuns`), so that what an operator enters is
    /// in the store when the command returns. Returns what came of each command.
    public func applyPendingCommands() async throws -> [(id: Int64, result: String)] {
        let configuration = current.configuration
        var pending = Pending(batch: CorrelationBatch(at: wallClock()))
        var announcer = TicketAnnouncer()
        var correlator = try await start(configuration, carrying: [], ids: [], announcer: &announcer, into: &pending)
        var results: [(id: Int64, result: String)] = []
        var taken: Set<Int64> = []
        while true {
            let fresh = try await store.pendingCommands(limit: 500).filter { !taken.contains($0.id) }
            if fresh.isEmpty { break }
            for queued in fresh {
                taken.insert(queued.id)
                await supplyIncidentIDs(to: &correlator)
                let result = apply(queued, to: &correlator, into: &pending, now: clock.now)
                pending.batch.processedCommands.append((queued.id, result))
                results.append((queued.id, result))
            }
            await write(&pending, announcer: &announcer, hooks: configuration.hooks)
            if let failure = pending.failure { throw UnwrittenCommands(reason: failure, store: store.location) }
        }
        await write(&pending, announcer: &announcer, hooks: configuration.hooks)
        if let failure = pending.failure { throw UnwrittenCommands(reason: failure, store: store.location) }
        for unused in correlator.unusedIncidentIDs.reversed() { try? await store.releaseIncidentIDs(unused) }
        return results
    }

    /// Further attempts, half a second apart, to write what is still pending at a stop.
    static var attemptsAtStop: Int { 4 }

    /// A correlator on this configuration's inventory, continuing the store's open incidents.
    private func start(_ configuration: Configuration, carrying held: [Observation], ids: [Range<Int64>],
                       announcer: inout TicketAnnouncer, into pending: inout Pending) async throws -> Machine {
        var correlator = Correlator(topology: Topology(elements: configuration.elements, lines: configuration.lines),
                                    settings: configuration.correlation, epoch: clock.now, epochDate: wallClock())
        for block in ids { correlator.supplyIncidentIDs(block) }
        let recovery = try await store.recoverIncidents()
        announcer = TicketAnnouncer(inventory: TicketInventory(elements: configuration.elements,
                                                               customers: configuration.customers,
                                                               publicURL: configuration.daemon.publicURL),
                                    recovered: recovery.scopes)
        await supplyIncidentIDs(to: &correlator)
        collect(correlator.recover(recovery.open, recentlyResolved: recovery.recentlyResolved, now: clock.now),
                into: &pending)
        correlator.restoreFirstEvidence(recovery.firstEvidence)
        var windows = configuration.maintenance
        windows += (try? await store.maintenanceWindows()) ?? []
        for window in windows {
            collect(correlator.handle(.maintenance(window), now: clock.now), into: &pending)
        }
        for observation in held {
            await supplyIncidentIDs(to: &correlator)
            collect(correlator.handle(.observation(observation), now: clock.now), into: &pending)
        }
        logger.info("correlator started", metadata: [
            "incidents.open": "\(recovery.open.count)", "topology.elements": "\(correlator.topology.elementCount)",
            "topology.lines": "\(correlator.topology.lineCount)", "faults.held": "\(held.count)",
            "hold_down": "\(DurationText.format(configuration.correlation.holdDown))",
        ])
        return correlator
    }

    /// Reserves incident ids in the store before a decision that may need them: the store is the
    /// one allocator, shared with the CLI (and, on PostgreSQL, with other instances).
    private func supplyIncidentIDs(to correlator: inout Machine) async {
        let needed = correlator.incidentIDsNeededAtMost
        guard correlator.incidentIDsAvailable < needed else { return }
        let count = max(timing.idBlock, needed - correlator.incidentIDsAvailable)
        do {
            correlator.supplyIncidentIDs(try await store.reserveIncidentIDs(count))
        } catch {
            logger.error("cannot reserve incident ids", metadata: ["error": "\(error)"])
        }
    }

    private func apply(_ queued: QueuedCommand, to correlator: inout Machine, into pending: inout Pending,
                       now: C.Instant) -> String {
        guard let command = queued.command else { return "refused: \(queued.problem ?? "unreadable")" }
        let event: CorrelatorEvent
        switch command {
        case .reportCall(let report): event = .customerReport(report)
        case .action(let action): event = .operatorAction(action)
        case .maintenanceAdd(let window): event = .maintenance(window)
        case .maintenanceEnd(let id, let at): event = .maintenanceEnded(id, at: at)
        case .addIncidents(let incidents): event = .manualIncidents(incidents)
        case .editIncident(let edit): event = .incidentEdit(edit)
        }
        let actions = correlator.handle(event, now: now)
        let refusals = actions.compactMap { action -> String? in
            if case .rejected(let reason) = action { return reason }
            return nil
        }
        collect(actions, into: &pending)
        return refusals.isEmpty ? "ok" : "refused: " + refusals.joined(separator: "; ")
    }

    private func collect(_ actions: [CorrelatorAction], into pending: inout Pending) {
        for action in actions {
            switch action {
            case .incident(let change):
                pending.batch.changes.append(change)
                log(change)
            case .customerReportFiled(let report, let incident):
                pending.batch.reports.append((report, incident))
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

    /// Hands the changes not yet announced to the ticketing stage, then writes the batch; on
    /// failure keeps it whole for the next attempt (decisions are never dropped, and the outbox
    /// stays in step with the incidents). After a failure the next attempts back off (1 s, 2 s,
    /// … 30 s) unless `now` (at a stop).
    private func write(_ pending: inout Pending, announcer: inout TicketAnnouncer, hooks: [Hook], now: Bool = false) async {
        if pending.announced < pending.batch.changes.count {
            let told = announcer.announcements(Array(pending.batch.changes[pending.announced...]), hooks: hooks)
            pending.batch.outbox += told.outbox
            pending.batch.tickets += told.tickets
            pending.announced = pending.batch.changes.count
        }
        guard !pending.batch.isEmpty, now || pending.retry.mayAttempt(at: clock.now) else { return }
        pending.batch.at = wallClock()
        let waiting: Logger.Metadata = ["changes": "\(pending.batch.changes.count)", "commands": "\(pending.batch.processedCommands.count)",
                                        "store.path": "\(store.location)"]
        do {
            try await store.record(pending.batch)
            if !pending.batch.outbox.isEmpty { outboxWritten() }
            if case .recovered(let attempts, let over) = pending.retry.succeeded(at: clock.now) {
                logger.notice("incident changes written again", metadata: waiting.merging(
                    ["attempts.failed": "\(attempts)", "seconds": "\(over.wholeSeconds)"]) { $1 })
            }
            pending = Pending(batch: CorrelationBatch(at: wallClock()))
            storeHealth?.wrote("incident changes")
        } catch {
            storeHealth?.failed("incident changes", waiting: pending.batch.changes.count, error: error)
            pending.failure = error.description
            switch pending.retry.failed(at: clock.now) {
            case .failing(let retryIn):
                logger.error("cannot write incident changes, keeping them for the next attempt",
                             metadata: waiting.merging(["error": "\(error)", "retry.seconds": "\(retryIn.wholeSeconds)"]) { $1 })
            case .stillFailing(let attempts, let over, let retryIn):
                logger.error("still cannot write incident changes", metadata: waiting.merging([
                    "error": "\(error)", "attempts.failed": "\(attempts)", "seconds": "\(over.wholeSeconds)",
                    "retry.seconds": "\(retryIn.wholeSeconds)",
                ]) { $1 })
            case .quiet, .recovered:
                break
            }
        }
    }
}

extension CorrelatorService where C == ContinuousClock {
    /// The daemon's correlator service, on the monotonic clock.
    public convenience init(store: any IncidentStore & CommandStore, current: CurrentConfiguration,
                            requesters: [any ConfirmationRequester] = [], timing: Timing = Timing(),
                            outboxWritten: @escaping @Sendable () -> Void = {}, storeHealth: StoreHealth? = nil,
                            logger: Logger) {
        self.init(store: store, current: current, requesters: requesters, timing: timing, clock: ContinuousClock(),
                  outboxWritten: outboxWritten, storeHealth: storeHealth, logger: logger)
    }
}

/// How often `CorrelatorService` ticks, polls commands and writes, and how it reserves ids.
public struct CorrelatorTiming: Sendable {
    /// How often hold-downs are checked and the batch written.
    public var tick: Duration = .milliseconds(200)
    /// How often the store is asked for operator commands.
    public var commandPoll: Duration = .seconds(1)
    /// A batch this large is written without waiting for the tick.
    public var batchLimit = 20_000
    /// Incident ids are reserved in the store in blocks of at least this many.
    public var idBlock = 64
    public init() {}
}

/// Operator commands applied without a daemon whose result could not be written.
public struct UnwrittenCommands: Error, CustomStringConvertible {
    public var reason: String
    public var store: String
    public var description: String { "store \(store): cannot write what the commands changed: \(reason)" }
}
