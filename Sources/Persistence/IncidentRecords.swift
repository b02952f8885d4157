import Foundation
import ForewarnModel

/// One batch of correlator output, written in one transaction.
public struct CorrelationBatch: Sendable {
    public var changes: [IncidentChange]
    public var reports: [(report: CustomerReport, incident: IncidentID)]
    /// Operator commands consumed, with what came of each ("ok" or the reason it was refused).
    public var processedCommands: [(id: Int64, result: String)]
    /// What the ticketing stage made of the changes: one entry per hook and announced event.
    public var outbox: [OutboxEntry]
    /// Tickets that already existed for incidents entered by hand (no `open` is sent for them);
    /// one per incident and hook, never replacing a ticket the store already has.
    public var tickets: [Ticket]
    public var at: Date

    public init(changes: [IncidentChange] = [], reports: [(report: CustomerReport, incident: IncidentID)] = [],
                processedCommands: [(id: Int64, result: String)] = [], outbox: [OutboxEntry] = [],
                tickets: [Ticket] = [], at: Date) {
        (self.changes, self.reports, self.processedCommands) = (changes, reports, processedCommands)
        (self.outbox, self.tickets, self.at) = (outbox, tickets, at)
    }

    public var isEmpty: Bool {
        changes.isEmpty && reports.isEmpty && processedCommands.isEmpty && outbox.isEmpty && tickets.isEmpty
    }
}

/// What the correlator and the ticketing stage continue from after a restart.
public struct IncidentRecovery: Sendable {
    public var open: [IncidentSnapshot]
    public var recentlyResolved: [Incident]
    /// The scope of every open and recently resolved incident, for what tickets say.
    public var scopes: [IncidentID: IncidentScope]
    /// For every subject whose last transition of the past `firstEvidenceWindow` is not to `up`:
    /// its transitions since its last `up`, oldest first. A fault in its hold-down when the
    /// daemon went keeps this first evidence when the sources see it again.
    public var firstEvidence: [StateTransition]

    public static let firstEvidenceWindow: TimeInterval = 24 * 3_600

    public init(open: [IncidentSnapshot], recentlyResolved: [Incident], scopes: [IncidentID: IncidentScope] = [:],
                firstEvidence: [StateTransition] = []) {
        (self.open, self.recentlyResolved, self.scopes) = (open, recentlyResolved, scopes)
        self.firstEvidence = firstEvidence
    }
}

/// Every line an incident has had in scope (ended intervals too), the incidents merged into it,
/// and the hooks an `open` was written for.
public struct IncidentScope: Sendable, Hashable {
    public var lines: [LineID: CustomerID]
    public var merged: [IncidentID]
    public var opened: Set<HookID>

    public init(lines: [LineID: CustomerID] = [:], merged: [IncidentID] = [], opened: Set<HookID> = []) {
        (self.lines, self.merged, self.opened) = (lines, merged, opened)
    }
}

/// An incident as `forewarn incidents` shows it.
public struct IncidentRecord: Sendable, Hashable {
    public var incident: Incident
    /// Every interval, open or ended, sorted by line then start.
    public var lines: [LineInterval]
    /// One per hook that opened a ticket, oldest first.
    public var tickets: [Ticket]

    public init(incident: Incident, lines: [LineInterval], tickets: [Ticket] = []) {
        (self.incident, self.lines, self.tickets) = (incident, lines, tickets)
    }

    public var customers: [CustomerID] { Array(Set(lines.map(\.customer))).sorted() }
    /// The first ticket opened for the incident, which `forewarn incidents` shows.
    public var ticket: Ticket? { tickets.first }
}

/// `forewarn incident show`: the incident and its timeline, oldest entry first.
public struct IncidentDetail: Sendable, Hashable {
    public var record: IncidentRecord
    public var timeline: [TimelineEntry]

    public init(record: IncidentRecord, timeline: [TimelineEntry]) {
        self.record = record
        self.timeline = timeline
    }
}

/// One line's interval in an incident's scope, with the incident's header (credits, KPIs).
public struct IncidentLineInterval: Sendable, Hashable {
    public var incident: Incident
    public var interval: LineInterval

    public init(incident: Incident, interval: LineInterval) {
        self.incident = incident
        self.interval = interval
    }
}

/// What the CLI asks of the running daemon through the store.
public enum OperatorCommand: Sendable, Hashable {
    case reportCall(CustomerReport)
    case action(OperatorAction)
    case maintenanceAdd(MaintenanceWindow)
    case maintenanceEnd(MaintenanceID, at: Date)
    /// Incidents entered by hand, applied together or not at all (one `incident add`, or a
    /// whole `incident import` file).
    case addIncidents([ManualIncident])
    case editIncident(IncidentEdit)
}

/// What became of a queued command once the daemon (or the CLI, when no daemon runs) took it.
public struct CommandResult: Sendable, Hashable {
    public var processedAt: Date
    /// `ok`, or `refused: REASON`.
    public var result: String

    public init(processedAt: Date, result: String) {
        self.processedAt = processedAt
        self.result = result
    }

    public var refused: Bool { result != "ok" }
}

public struct QueuedCommand: Sendable, Hashable {
    public var id: Int64
    public var createdAt: Date
    /// nil when the payload could not be read (written by a newer version): marked refused.
    public var command: OperatorCommand?
    public var problem: String?

    public init(id: Int64, createdAt: Date, command: OperatorCommand?, problem: String? = nil) {
        (self.id, self.createdAt, self.command, self.problem) = (id, createdAt, command, problem)
    }
}
