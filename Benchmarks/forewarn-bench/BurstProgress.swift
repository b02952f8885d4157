import ForewarnModel
import Foundation
import GRDB
import Logging
import Persistence
import PostgresNIO
import StorePostgres
import Stores

/// A look at a store while a burst is written into it, on a connection of its own: the line rows
/// of the one open incident (nil while there is not exactly one). The same two statements on
/// either store, each in its own placeholder syntax.
enum BurstProgress {
    case sqlite(DatabaseQueue)
    case postgres(PostgresClient, running: Task<Void, Never>)

    static func on(_ location: String) throws -> BurstProgress {
        guard StoreFactory.isPostgres(location) else { return .sqlite(try DatabaseQueue(path: location)) }
        let client = try PostgresClientFactory.client(PostgresLocation(url: location), maximumConnections: 1)
        return .postgres(client, running: Task { await client.run() })
    }

    func linesOfTheOneOpenIncident() async throws -> Int? {
        switch self {
        case .sqlite(let queue):
            return try await queue.read { db in
                let open = try Int64.fetchAll(db, sql: "SELECT id FROM incident WHERE state = 'open' LIMIT 2")
                guard open.count == 1 else { return nil }
                return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM incident_line WHERE incident_id = ?",
                                        arguments: [open[0]])
            }
        case .postgres(let client, _):
            let open = try await client.query("SELECT id FROM incident WHERE state = 'open' LIMIT 2").collect()
            guard open.count == 1 else { return nil }
            let id = try open[0].decode(Int64.self)
            let count = try await client.query("SELECT COUNT(*) FROM incident_line WHERE incident_id = \(id)").collect()
            return try count.first.map { Int(try $0.decode(Int64.self)) }
        }
    }

    func close() {
        if case .postgres(_, let running) = self { running.cancel() }
    }
}

/// The store as the correlator service sees it, saying when a batch has been written: the
/// store is looked at then, and only then (a look every few milliseconds would compete with
/// the writer for the server, and on PostgreSQL finds its way past every incident merged away).
struct BatchesWritten: IncidentStore, CommandStore {
    let store: any Store
    /// An element after each batch written (one for any number written since the last was taken).
    let written: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    init(_ store: any Store) {
        self.store = store
        (written, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Ends `written`.
    func finish() { signal.finish() }

    var location: String { store.location }

    func record(_ batch: CorrelationBatch) async throws(StoreError) {
        try await store.record(batch)
        signal.yield()
    }

    func recoverIncidents() async throws(StoreError) -> IncidentRecovery { try await store.recoverIncidents() }
    func reserveIncidentIDs(_ count: Int) async throws(StoreError) -> Range<Int64> {
        try await store.reserveIncidentIDs(count)
    }
    func releaseIncidentIDs(_ unused: Range<Int64>) async throws(StoreError) { try await store.releaseIncidentIDs(unused) }
    func incidents(openOnly: Bool, since: Date?) async throws(StoreError) -> [IncidentRecord] {
        try await store.incidents(openOnly: openOnly, since: since)
    }
    func incident(_ id: IncidentID) async throws(StoreError) -> IncidentDetail? { try await store.incident(id) }
    func manualIncidents(startingFrom from: Date, to: Date) async throws(StoreError) -> [IncidentRecord] {
        try await store.manualIncidents(startingFrom: from, to: to)
    }
    func enqueue(_ command: OperatorCommand, at: Date) async throws(StoreError) -> Int64 {
        try await store.enqueue(command, at: at)
    }
    func pendingCommands(limit: Int) async throws(StoreError) -> [QueuedCommand] { try await store.pendingCommands(limit: limit) }
    func commandResult(_ id: Int64) async throws(StoreError) -> CommandResult? { try await store.commandResult(id) }
    func maintenanceWindows() async throws(StoreError) -> [MaintenanceWindow] { try await store.maintenanceWindows() }
}
