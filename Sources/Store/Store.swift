import Foundation
import ForewarnModel

/// What the daemon keeps across restarts. The embedded SQLite store implements it; a PostgreSQL
/// store for several daemon instances will implement the same narrow interface.
public protocol Store: Sendable {
    /// Where the data lives, for `status` and logs (a path or a connection name).
    var location: String { get }

    func writeHeartbeat(_ heartbeat: Heartbeat) async throws(StoreError)
    /// Every instance's latest heartbeat, newest first.
    func heartbeats() async throws(StoreError) -> [Heartbeat]

    func appendTransitions(_ transitions: [StateTransition]) async throws(StoreError)
    func transitions(of subject: Subject?, since: Date) async throws(StoreError) -> [StateTransition]

    // MARK: incidents

    /// Writes what the correlator decided, in one transaction: incident rows, line intervals,
    /// faults, timeline, customer calls, an outbox row per hook and announced event (at most
    /// one `open` per incident and hook, ever), and the operator commands it consumed.
    func record(_ batch: CorrelationBatch) async throws(StoreError)
    /// The open incidents with their open intervals and faults, to continue after a restart.
    func recoverIncidents() async throws(StoreError) -> IncidentRecovery
    /// Incidents for `forewarn incidents`, newest first: open ones, or any touching `since`.
    func incidents(openOnly: Bool, since: Date?) async throws(StoreError) -> [IncidentRecord]
    /// One incident with its timeline, oldest entry first; nil when there is no such incident.
    func incident(_ id: IncidentID) async throws(StoreError) -> (record: IncidentRecord, timeline: [TimelineEntry])?

    // MARK: operator commands

    /// Queues a command for the daemon; returns its id.
    func enqueue(_ command: OperatorCommand, at: Date) async throws(StoreError) -> Int64
    /// Commands not yet processed, oldest first.
    func pendingCommands(limit: Int) async throws(StoreError) -> [QueuedCommand]
    /// Maintenance windows added with `forewarn maintenance add`.
    func maintenanceWindows() async throws(StoreError) -> [MaintenanceWindow]
}

/// A running daemon's sign of life, written every few seconds.
public struct Heartbeat: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Codable {
        case starting, running, reloading, stopping, stopped
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

    public init(instance: String, pid: Int32, hostname: String, version: String, configPath: String,
                startedAt: Date, beatAt: Date, state: State, elements: Int, lines: Int, customers: Int,
                contracts: Int) {
        self.instance = instance
        self.pid = pid
        self.hostname = hostname
        self.version = version
        self.configPath = configPath
        self.startedAt = startedAt
        self.beatAt = beatAt
        self.state = state
        self.elements = elements
        self.lines = lines
        self.customers = customers
        self.contracts = contracts
    }
}

/// A store operation that failed, with the store and the operation named.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var location: String
    public var operation: String
    public var reason: String

    public init(location: String, operation: String, reason: String) {
        self.location = location
        self.operation = operation
        self.reason = reason
    }

    public var description: String { "store \(location): \(operation) failed: \(reason)" }
}
