import Foundation
import ForewarnModel

// What Forewarn keeps across restarts, one protocol per concern, so that each stage depends
// only on what it uses. The embedded SQLite store implements them all; a PostgreSQL store will
// implement the same protocols and pass the same contract test suite (Tests/StoreTests).
// Stores persist what they are given: what a ticket says, what a credit is worth and what a KPI
// counts are decided by the stages (Correlation, Ticketing, Billing, Reports), never here.

/// Every store names where its data lives, for `status` and logs (a path or a connection name).
public protocol StoreLocated: Sendable {
    var location: String { get }
}

/// The daemons' signs of life.
public protocol HeartbeatStore: StoreLocated {
    func writeHeartbeat(_ heartbeat: Heartbeat) async throws(StoreError)
    /// Every instance's latest heartbeat, newest first.
    func heartbeats() async throws(StoreError) -> [Heartbeat]
}

/// Every observed change of an element, port or line, with its evidence.
public protocol TransitionStore: StoreLocated {
    func appendTransitions(_ transitions: [StateTransition]) async throws(StoreError)
    /// Oldest first; all subjects when `subject` is nil.
    func transitions(of subject: Subject?, since: Date) async throws(StoreError) -> [StateTransition]
}

/// Incidents as the correlator decides them: written in batches, recovered after a restart,
/// listed for the CLI.
public protocol IncidentStore: StoreLocated {
    /// Writes what the correlator decided, in one transaction: incident rows, line intervals,
    /// faults, timeline, customer calls, the batch's outbox entries (at most one `open` per
    /// incident and hook, ever) and the operator commands it consumed.
    func record(_ batch: CorrelationBatch) async throws(StoreError)
    /// The open incidents with their open intervals and faults, and the first evidence of the
    /// subjects still bad, to continue after a restart.
    func recoverIncidents() async throws(StoreError) -> IncidentRecovery
    /// Takes `count` incident ids that nobody else will ever be given. Every writer of incidents
    /// (the correlator, the CLI) allocates here: ids never come from `MAX(id) + 1`.
    func reserveIncidentIDs(_ count: Int) async throws(StoreError) -> Range<Int64>
    /// Gives back ids reserved and not used, when nobody has reserved any since (no gap then).
    func releaseIncidentIDs(_ unused: Range<Int64>) async throws(StoreError)
    /// Incidents for `forewarn incidents`, newest first: open ones, or any touching `since`.
    func incidents(openOnly: Bool, since: Date?) async throws(StoreError) -> [IncidentRecord]
    /// One incident with its timeline, oldest entry first; nil when there is no such incident.
    func incident(_ id: IncidentID) async throws(StoreError) -> IncidentDetail?
    /// Incidents entered by hand whose start lies in `[from, to]`, oldest start first (an entry
    /// or import made twice is refused).
    func manualIncidents(startingFrom from: Date, to: Date) async throws(StoreError) -> [IncidentRecord]
}

/// What the CLI asks of the running daemon.
public protocol CommandStore: StoreLocated {
    /// Queues a command for the daemon; returns its id.
    func enqueue(_ command: OperatorCommand, at: Date) async throws(StoreError) -> Int64
    /// Commands not yet processed, oldest first.
    func pendingCommands(limit: Int) async throws(StoreError) -> [QueuedCommand]
    /// What became of a queued command; nil while it waits (or when there is no such command).
    func commandResult(_ id: Int64) async throws(StoreError) -> CommandResult?
    /// Maintenance windows added with `forewarn maintenance add`.
    func maintenanceWindows() async throws(StoreError) -> [MaintenanceWindow]
}

/// The ticket outbox: entries are written with the incident change they announce
/// (`IncidentStore.record`); delivery claims them, and records the outcome and the ticket.
public protocol TicketOutboxStore: StoreLocated {
    /// Up to `limit` entries due at `now`, each the oldest undelivered entry of its incident and
    /// hook (strict order per incident and hook), not dead and not claimed by another worker;
    /// each is claimed until `now + lease`.
    func claimOutbox(limit: Int, now: Date, lease: Duration) async throws(StoreError) -> [OutboxItem]
    /// Delivery's writes, in order, in one transaction: many deliveries' attempts and outcomes
    /// share a commit (group commit), each still durable before its delivery goes on.
    func recordOutbox(_ writes: [OutboxWrite]) async throws(StoreError)
    /// The undelivered entries of one incident and hook, oldest first, and its ticket (one read).
    func outboxQueue(incident: IncidentID, hook: HookID) async throws(StoreError) -> OutboxQueue
    /// Entries by state, oldest first.
    func outbox(_ state: OutboxItem.State, limit: Int) async throws(StoreError) -> [OutboxItem]
    /// Undelivered entries (dead or pending) made due at `at`, not counting an attempt: `forewarn
    /// outbox retry` (now), or an update held back by `update_every`; returns how many.
    func scheduleOutbox(_ ids: [Int64], at: Date) async throws(StoreError) -> Int
    /// Releases every claim (the one delivery worker starting: nothing is in flight).
    func releaseOutboxClaims() async throws(StoreError)
    /// Undelivered entries given up by an operator (`forewarn outbox drop`); returns how many.
    func dropOutbox(_ ids: [Int64], at: Date, reason: String) async throws(StoreError) -> Int
    /// Per hook: entries waiting, the oldest one's age, dead letters.
    func outboxBacklog() async throws(StoreError) -> [OutboxBacklog]
    /// The tickets an incident has, one per hook that opened one.
    func tickets(of incident: IncidentID) async throws(StoreError) -> [Ticket]
}

/// Credits per line and billing period, as the billing stage computed them.
public protocol CreditLedgerStore: StoreLocated {
    func appendLedger(_ entries: [LedgerEntry]) async throws(StoreError)
    /// Every entry of one period (`2026-11`), in the order written.
    func ledger(period: String) async throws(StoreError) -> [LedgerEntry]
    /// Every adjustment, in whichever period it was booked, that corrects `period`, in the order written.
    func ledger(adjusting period: String) async throws(StoreError) -> [LedgerEntry]
    /// Freezes a period: writes its entries and document and marks it closed, in one transaction.
    /// Fails when the period is already closed. Entries of a closed period are never added,
    /// changed or removed (`appendLedger` to a closed period fails).
    func closeCreditPeriod(_ period: ClosedCreditPeriod, entries: [LedgerEntry]) async throws(StoreError)
    /// The closed period, with its frozen document; nil while it is open.
    func closedCreditPeriod(_ period: String) async throws(StoreError) -> ClosedCreditPeriod?
    /// Every closed period's name and when it was closed, oldest period first (without documents).
    func closedCreditPeriods() async throws(StoreError) -> [(period: String, closedAt: Date)]
    /// Per period, the sum of its ledger entries (its credits and the adjustments booked in it)
    /// per currency, in minor units; a period without entries is absent.
    func ledgerTotals(periods: [String]) async throws(StoreError) -> [String: [String: Int64]]
}

/// The reads that credits, KPIs and operations reports are computed from.
public protocol ReportQueries: StoreLocated {
    /// Every line interval overlapping `[from, to)`, with its incident's header, ordered by line
    /// then start. An interval still open has no end.
    func lineIntervals(from: Date, to: Date) async throws(StoreError) -> [IncidentLineInterval]
    /// The same, compact, for a whole billing run; only the lines in `lines` when given.
    func lineOutageIntervals(from: Date, to: Date, lines: Set<LineID>?) async throws(StoreError) -> LineOutageIntervals
    /// The same as flat columns by line, for a whole billing run (every line when `lines` is nil).
    func lineOutageTable(from: Date, to: Date, lines: Set<LineID>?) async throws(StoreError) -> LineOutageTable
    /// Lines with an interval overlapping `[from, to)` in an incident written after `since`
    /// (reclassified, corrected, entered by hand): what may change a closed period's credits.
    func linesChanged(since: Date, from: Date, to: Date) async throws(StoreError) -> Set<LineID>
    /// The headers of every incident detected in `[from, to)`, by id: the incidents a report's
    /// rates count.
    func incidents(detectedFrom from: Date, to: Date) async throws(StoreError) -> [Incident]
    /// Every line interval overlapping `[from, to)` as columns, for a report over every line, in
    /// one or more parts (a large store is read in parts at once): every line wholly in one
    /// part, lines in id order (byte order of their UTF-8) within a part and from one part to
    /// the next, each line's intervals by start; each line's customer as stored with its first
    /// interval; each part with the headers of the incidents its intervals belong to.
    func reportLineTables(from: Date, to: Date) async throws(StoreError) -> [LineOutageTable]
}

extension ReportQueries {
    /// A store without a columnar read gives its compact intervals as columns.
    public func lineOutageTable(from: Date, to: Date, lines: Set<LineID>?) async throws(StoreError) -> LineOutageTable {
        LineOutageTable(try await lineOutageIntervals(from: from, to: to, lines: lines))
    }
}

extension TicketOutboxStore {
    /// The request is about to be sent: until an outcome is recorded, whether it arrived is
    /// uncertain (a crash now leaves the entry `uncertain`, so a create is looked up first).
    public func markAttempt(_ id: Int64, at: Date) async throws(StoreError) {
        try await recordOutbox([.attempt(id: id, at: at)])
    }

    /// Done with these entries; see `OutboxWrite.done`.
    public func markDone(_ ids: [Int64], at: Date, outcome: OutboxItem.Outcome, note: String?,
                         ticket: TicketUpdate?, timeline: TimelineEntry? = nil) async throws(StoreError) {
        try await recordOutbox([.done(ids: ids, at: at, outcome: outcome, note: note, ticket: ticket, timeline: timeline)])
    }

    /// Failed; see `OutboxWrite.failed`.
    public func markFailed(_ id: Int64, at: Date, error: String, retryAt: Date?, uncertain: Bool,
                           timeline: TimelineEntry? = nil) async throws(StoreError) {
        try await recordOutbox([.failed(id: id, at: at, error: error, retryAt: retryAt, uncertain: uncertain,
                                        timeline: timeline)])
    }
}

/// Everything the daemon needs; what `StoreFactory` opens.
public typealias Store = HeartbeatStore & TransitionStore & IncidentStore & CommandStore & TicketOutboxStore
    & CreditLedgerStore & ReportQueries

/// How a store is opened.
public enum StoreAccess: Sendable {
    /// Create it if missing and bring its schema up to date (the daemon).
    case create
    /// Read only, beside a running daemon (`status`, listings).
    case readOnly
    /// An existing store, written beside the daemon (the CLI queueing work): a missing one is
    /// an error, not a new empty store.
    case existing
    /// The one daemon writing this store: as `create`, and the store is checked for damage and
    /// held exclusively while it is open (a second daemon is refused, naming the first).
    case daemon
}

/// A running daemon's sign of life, written every few seconds.
public struct Heartbeat: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Codable, CaseIterable {
        case starting, running, reloading, stopping, stopped
        /// Running, but some of its writes to the store fail (its log and `/healthz` say which).
        case degraded
        /// Stopped on an error (a service could not run); its log says which.
        case failed
    }

    public var instance: String
    public var pid: Int32
    public var hostname: String
    public var version: String
    public var configPath: String
    public var startedAt: Date
    public var beatAt: Date
    public var state: State
    public var elements: Int
    public var lines: Int
    public var customers: Int
    public var contracts: Int
    /// When the configuration in force was loaded (at start, or by the last reload that took).
    public var configLoadedAt: Date?
    /// How often the daemon beats: a heartbeat older than three of these is stale.
    public var interval: Duration?
    /// What the sources saw up to this beat; nil before the first measurement (and from daemons
    /// older than this field).
    public var collection: CollectionHealth?

    public init(instance: String, pid: Int32, hostname: String, version: String, configPath: String,
                startedAt: Date, beatAt: Date, state: State, elements: Int, lines: Int, customers: Int,
                contracts: Int, configLoadedAt: Date? = nil, interval: Duration? = nil,
                collection: CollectionHealth? = nil) {
        (self.instance, self.pid, self.hostname, self.version) = (instance, pid, hostname, version)
        (self.configPath, self.startedAt, self.beatAt, self.state) = (configPath, startedAt, beatAt, state)
        (self.elements, self.lines, self.customers, self.contracts) = (elements, lines, customers, contracts)
        (self.configLoadedAt, self.interval, self.collection) = (configLoadedAt, interval, collection)
    }
}

/// Collection health, published by the daemon with each heartbeat: what its SNMP poller, trap
/// receiver and line prober see of the inventory in force, and how fast they work.
public struct CollectionHealth: Sendable, Hashable, Codable {
    /// Elements whose last poll answered (or that are still being confirmed after one failure).
    public var elementsReachable: Int
    /// Elements declared unreachable (a failed poll and its confirmations).
    public var elementsUnreachable: Int
    /// Elements not polled yet since the start (or since a reload added them).
    public var elementsNotPolled: Int
    public var linesUp: Int
    public var linesDown: Int
    public var linesDegraded: Int
    /// Probed lines without a verdict yet.
    public var linesUnknown: Int
    /// Lines without a probe (`probe: none`, no target, or an engine that could not start).
    public var linesUnprobed: Int
    /// Polls answered or failed, probe rounds, traps received: per second over the last minute.
    public var pollsPerSecond: Double
    public var probesPerSecond: Double
    public var trapsPerSecond: Double
    /// The last trap or inform received (from any source), nil when none since the start.
    public var lastTrapAt: Date?
    /// SNMP polls that timed out since the start.
    public var snmpTimeouts: Int

    public init(elementsReachable: Int = 0, elementsUnreachable: Int = 0, elementsNotPolled: Int = 0, linesUp: Int = 0,
                linesDown: Int = 0, linesDegraded: Int = 0, linesUnknown: Int = 0, linesUnprobed: Int = 0,
                pollsPerSecond: Double = 0, probesPerSecond: Double = 0, trapsPerSecond: Double = 0,
                lastTrapAt: Date? = nil, snmpTimeouts: Int = 0) {
        (self.elementsReachable, self.elementsUnreachable, self.elementsNotPolled) =
            (elementsReachable, elementsUnreachable, elementsNotPolled)
        (self.linesUp, self.linesDown, self.linesDegraded, self.linesUnknown, self.linesUnprobed) =
            (linesUp, linesDown, linesDegraded, linesUnknown, linesUnprobed)
        (self.pollsPerSecond, self.probesPerSecond, self.trapsPerSecond) = (pollsPerSecond, probesPerSecond, trapsPerSecond)
        (self.lastTrapAt, self.snmpTimeouts) = (lastTrapAt, snmpTimeouts)
    }
}

/// A store operation that failed, with the store and the operation named.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var location: String
    public var operation: String
    public var reason: String

    public init(location: String, operation: String, reason: String) {
        (self.location, self.operation, self.reason) = (location, operation, reason)
    }

    public var description: String { "store \(location): \(operation) failed: \(reason)" }
}
