import Foundation
import ForewarnModel

/// One batch of correlator output, written in one transaction.
public struct CorrelationBatch: Sendable {
    public var changes: [IncidentChange]
    public var reports: [(report: CustomerReport, incident: IncidentID)]
    /// Operator commands consumed, with what came of each ("ok" or the reason it was refused).
    public var processedCommands: [(id: Int64, result: String)]
    /// Hooks by the events they subscribe to: where announced changes get outbox rows.
    public var hooks: [Hook]
    public var at: Date

    public init(changes: [IncidentChange] = [], reports: [(report: CustomerReport, incident: IncidentID)] = [],
                processedCommands: [(id: Int64, result: String)] = [], hooks: [Hook] = [], at: Date) {
        self.changes = changes
        self.reports = reports
        self.processedCommands = processedCommands
        self.hooks = hooks
        self.at = at
    }

    public var isEmpty: Bool { changes.isEmpty && reports.isEmpty && processedCommands.isEmpty }
}

/// What the correlator continues from after a restart.
public struct IncidentRecovery: Sendable {
    public var open: [IncidentSnapshot]
    public var recentlyResolved: [Incident]
    /// One more than the highest incident id ever stored.
    public var nextIncidentID: Int64

    public init(open: [IncidentSnapshot], recentlyResolved: [Incident], nextIncidentID: Int64) {
        self.open = open
        self.recentlyResolved = recentlyResolved
        self.nextIncidentID = nextIncidentID
    }
}

/// An incident as `forewarn incidents` shows it.
public struct IncidentRecord: Sendable, Hashable {
    public var incident: Incident
    /// Every interval, open or ended, sorted by line then start.
    public var lines: [LineInterval]
    public var ticketID: String?
    public var ticketState: String?
    public var ticketedAt: Date?

    public init(incident: Incident, lines: [LineInterval], ticketID: String? = nil, ticketState: String? = nil,
                ticketedAt: Date? = nil) {
        self.incident = incident
        self.lines = lines
        self.ticketID = ticketID
        self.ticketState = ticketState
        self.ticketedAt = ticketedAt
    }

    public var customers: [CustomerID] { Array(Set(lines.map(\.customer))).sorted() }
}

/// What the CLI asks of the running daemon through the store.
public enum OperatorCommand: Sendable, Hashable {
    case reportCall(CustomerReport)
    case action(OperatorAction)
    case maintenanceAdd(MaintenanceWindow)
    case maintenanceEnd(MaintenanceID, at: Date)
}

public struct QueuedCommand: Sendable, Hashable {
    public var id: Int64
    public var createdAt: Date
    /// nil when the payload could not be read (written by a newer version): marked refused.
    public var command: OperatorCommand?
    public var problem: String?

    public init(id: Int64, createdAt: Date, command: OperatorCommand?, problem: String? = nil) {
        self.id = id
        self.createdAt = createdAt
        self.command = command
        self.problem = problem
    }
}
