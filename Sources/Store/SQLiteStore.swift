import Foundation
import ForewarnModel
import GRDB

/// The embedded store: one SQLite file in WAL mode, many readers beside one writer.
public final class SQLiteStore: Store {
    public let location: String
    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String) throws(StoreError) {
        location = path
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        configuration.label = "forewarn.store"
        do {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            pool = try DatabasePool(path: path, configuration: configuration)
            try Schema.migrator.migrate(pool)
        } catch {
            throw StoreError(location: path, operation: "open", reason: Self.describe(error))
        }
    }

    /// Opens an existing store for reading only (`status` and reports against a live daemon's store).
    public init(readingExisting path: String) throws(StoreError) {
        location = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(location: path, operation: "open", reason: "no such file (has the daemon run with this store?)")
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError(location: path, operation: "open", reason: Self.describe(error))
        }
    }

    /// Names of the migrations applied, in order (for diagnostics and tests).
    public func appliedMigrations() throws(StoreError) -> [String] {
        try run("read migrations") { try pool.read { try Schema.migrator.appliedMigrations($0) } }
    }

    // MARK: heartbeat

    public func writeHeartbeat(_ beat: Heartbeat) async throws(StoreError) {
        try await runAsync("write heartbeat") { [pool] in
            try await pool.write { db in
                try db.execute(sql: """
                    INSERT INTO daemon_heartbeat (instance, pid, hostname, version, config_path, started_at, beat_at,
                                                  state, elements, lines, customers, contracts)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (instance) DO UPDATE SET
                        pid = excluded.pid, hostname = excluded.hostname, version = excluded.version,
                        config_path = excluded.config_path, started_at = excluded.started_at,
                        beat_at = excluded.beat_at, state = excluded.state, elements = excluded.elements,
                        lines = excluded.lines, customers = excluded.customers, contracts = excluded.contracts
                    """, arguments: [beat.instance, beat.pid, beat.hostname, beat.version, beat.configPath,
                                     beat.startedAt.unixMilliseconds, beat.beatAt.unixMilliseconds, beat.state.rawValue,
                                     beat.elements, beat.lines, beat.customers, beat.contracts])
            }
        }
    }

    public func heartbeats() async throws(StoreError) -> [Heartbeat] {
        try await runAsync("read heartbeats") { [pool] in
            try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM daemon_heartbeat ORDER BY beat_at DESC").map { row in
                    Heartbeat(instance: row["instance"], pid: row["pid"], hostname: row["hostname"],
                              version: row["version"], configPath: row["config_path"],
                              startedAt: Date(unixMilliseconds: row["started_at"]),
                              beatAt: Date(unixMilliseconds: row["beat_at"]),
                              state: Heartbeat.State(rawValue: row["state"]) ?? .stopped,
                              elements: row["elements"], lines: row["lines"], customers: row["customers"],
                              contracts: row["contracts"])
                }
            }
        }
    }

    // MARK: state transitions

    public func appendTransitions(_ transitions: [StateTransition]) async throws(StoreError) {
        guard !transitions.isEmpty else { return }
        try await runAsync("append \(transitions.count) state transitions") { [pool] in
            try await pool.write { db in
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO state_transition (subject_type, subject_id, from_state, to_state, at, evidence)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """)
                for transition in transitions {
                    try statement.execute(arguments: [transition.subject.kind, transition.subject.identifier,
                                                      transition.from.rawValue, transition.to.rawValue,
                                                      transition.at.unixMilliseconds, transition.evidence])
                }
            }
        }
    }

    public func transitions(of subject: Subject?, since: Date) async throws(StoreError) -> [StateTransition] {
        try await runAsync("read state transitions") { [pool] in
            try await pool.read { db in
                var sql = "SELECT * FROM state_transition WHERE at >= ?"
                var arguments: StatementArguments = [since.unixMilliseconds]
                if let subject {
                    sql += " AND subject_type = ? AND subject_id = ?"
                    arguments += [subject.kind, subject.identifier]
                }
                return try Row.fetchAll(db, sql: sql + " ORDER BY at, id", arguments: arguments).compactMap { row in
                    guard let subject = Self.subject(type: row["subject_type"], id: row["subject_id"]) else { return nil }
                    return StateTransition(subject: subject, from: Health(rawValue: row["from_state"]) ?? .unknown,
                                           to: Health(rawValue: row["to_state"]) ?? .unknown,
                                           at: Date(unixMilliseconds: row["at"]), evidence: row["evidence"])
                }
            }
        }
    }

    static func subject(type: String, id: String) -> Subject? {
        switch type {
        case "element": return .element(ElementID(id))
        case "line": return .line(LineID(id))
        case "port":
            guard let slash = id.firstIndex(of: "/"), let port = PortReference(id[id.index(after: slash)...]) else {
                return nil
            }
            return .port(ElementID(String(id[..<slash])), port)
        default: return nil
        }
    }

    // MARK: errors

    func run<T>(_ operation: String, _ body: () throws -> T) throws(StoreError) -> T {
        do { return try body() } catch {
            throw StoreError(location: location, operation: operation, reason: Self.describe(error))
        }
    }

    func runAsync<T: Sendable>(_ operation: String,
                                       _ body: @Sendable () async throws -> T) async throws(StoreError) -> T {
        do { return try await body() } catch {
            throw StoreError(location: location, operation: operation, reason: Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let databaseError = error as? DatabaseError {
            return databaseError.message ?? databaseError.description
        }
        return String(describing: error)
    }
}
