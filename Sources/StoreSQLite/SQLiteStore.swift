import Foundation
import ForewarnModel
import GRDB
import Persistence

/// The embedded store: one SQLite file in WAL mode, many readers beside one writer. Only
/// `StoreFactory` names this type; everything else holds the protocols it implements.
public final class SQLiteStore: HeartbeatStore, TransitionStore, IncidentStore, CommandStore, TicketOutboxStore,
    CreditLedgerStore, ReportQueries
{
    public let location: String
    let pool: DatabasePool
    /// Held while a daemon has the store open (`StoreAccess.daemon`).
    private let daemonLock: DaemonLock?
    /// The file opened, to notice it deleted or replaced under a running daemon.
    private let file: StorePath.Identity?
    /// From this many interval rows on, a report's lines are read in two halves at once.
    let reportSplitRows: Int64

    /// `reportSplitRows`: below it one pass is as quick as two (tests lower it).
    public convenience init(path: String, access: StoreAccess, reportSplitRows: Int64 = 1_000_000) throws(StoreError) {
        if let problem = StorePath.problem(path) {
            throw StoreError(location: path, operation: "open", reason: problem)
        }
        if (access == .readOnly || access == .existing) && !FileManager.default.fileExists(atPath: path) {
            throw StoreError(location: path, operation: "open", reason: "no such file (has the daemon run with this store?)")
        }
        try self.init(path: path, access: access, lock: access == .daemon ? try Self.lockForDaemon(path) : nil,
                      reportSplitRows: reportSplitRows)
    }

    /// An existing store held as a daemon holds it (its lock), for the CLI to apply its own
    /// commands while no daemon runs; nil when a daemon holds the lock (or it cannot be taken:
    /// then the commands wait for the daemon). Not checked for damage: that is the daemon's start.
    public static func openUnlessDaemonRuns(path: String) throws(StoreError) -> SQLiteStore? {
        if let problem = StorePath.problem(path) {
            throw StoreError(location: path, operation: "open", reason: problem)
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(location: path, operation: "open", reason: "no such file (has the daemon run with this store?)")
        }
        let lock: DaemonLock
        do {
            lock = try DaemonLock(beside: path)
        } catch {
            return nil
        }
        return try SQLiteStore(path: path, access: .existing, lock: lock)
    }

    private init(path: String, access: StoreAccess, lock: DaemonLock?, reportSplitRows: Int64 = 1_000_000) throws(StoreError) {
        location = path
        daemonLock = lock
        self.reportSplitRows = reportSplitRows
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        configuration.label = "forewarn.store"
        configuration.readonly = access == .readOnly
        do {
            if access != .readOnly {
                let folder = (path as NSString).deletingLastPathComponent
                if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            if try pool.read({ try Schema.migrator.hasBeenSuperseded($0) }) {
                throw StoredValueError(table: "grdb_migrations", key: "the schema",
                                       problem: "written by a newer version of Forewarn; use that version")
            }
            if access == .daemon { try Self.checkIntegrity(pool) }
            if access != .readOnly { try Schema.migrator.migrate(pool) }
            file = StorePath.identity(path)
        } catch let damage as StoreDamage {
            throw StoreError(location: path, operation: "open", reason: damage.description)
        } catch let error as DatabaseError where StoreDamage.isDamage(error) {
            throw StoreError(location: path, operation: "open",
                             reason: StoreDamage(findings: [error.message ?? error.description]).description)
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
        try await write("write heartbeat") { db in
            let health = beat.collection
            let interval = beat.interval.map { $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000 }
            let values: [(String, (any DatabaseValueConvertible)?)] = [
                ("instance", beat.instance), ("pid", beat.pid), ("hostname", beat.hostname), ("version", beat.version),
                ("config_path", beat.configPath), ("started_at", beat.startedAt.unixMilliseconds),
                ("beat_at", beat.beatAt.unixMilliseconds), ("state", beat.state.rawValue), ("elements", beat.elements),
                ("lines", beat.lines), ("customers", beat.customers), ("contracts", beat.contracts),
                ("config_loaded_at", beat.configLoadedAt?.unixMilliseconds), ("interval_ms", interval),
                ("elements_reachable", health?.elementsReachable), ("elements_unreachable", health?.elementsUnreachable),
                ("elements_not_polled", health?.elementsNotPolled), ("lines_up", health?.linesUp),
                ("lines_down", health?.linesDown), ("lines_degraded", health?.linesDegraded),
                ("lines_unknown", health?.linesUnknown), ("lines_unprobed", health?.linesUnprobed),
                ("polls_per_second", health?.pollsPerSecond), ("probes_per_second", health?.probesPerSecond),
                ("traps_per_second", health?.trapsPerSecond), ("last_trap_at", health?.lastTrapAt?.unixMilliseconds),
                ("snmp_timeouts", health?.snmpTimeouts),
            ]
            let columns = values.map(\.0)
            try db.execute(sql: """
                INSERT INTO daemon_heartbeat (\(columns.joined(separator: ", ")))
                VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))
                ON CONFLICT (instance) DO UPDATE SET
                    \(columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
                """, arguments: StatementArguments(values.map(\.1)))
        }
    }

    public func heartbeats() async throws(StoreError) -> [Heartbeat] {
        try await read("read heartbeats", Self.heartbeatRows)
    }

    static func heartbeatRows(_ db: Database) throws -> [Heartbeat] {
        try Row.fetchAll(db, sql: "SELECT * FROM daemon_heartbeat ORDER BY beat_at DESC").map { row in
            let reader = RowReader("daemon_heartbeat", row, key: "instance \(row["instance"] ?? "?")")
            // A store not yet migrated (read only beside an older daemon) has no such columns.
            let measured = row.hasColumn("elements_reachable")
            var collection: CollectionHealth?
            if measured, let reachable: Int = try reader.optional("elements_reachable") {
                collection = CollectionHealth(
                    elementsReachable: reachable, elementsUnreachable: try reader.value("elements_unreachable"),
                    elementsNotPolled: try reader.value("elements_not_polled"), linesUp: try reader.value("lines_up"),
                    linesDown: try reader.value("lines_down"), linesDegraded: try reader.value("lines_degraded"),
                    linesUnknown: try reader.value("lines_unknown"), linesUnprobed: try reader.value("lines_unprobed"),
                    pollsPerSecond: try reader.value("polls_per_second"), probesPerSecond: try reader.value("probes_per_second"),
                    trapsPerSecond: try reader.value("traps_per_second"), lastTrapAt: try reader.optionalDate("last_trap_at"),
                    snmpTimeouts: try reader.value("snmp_timeouts"))
            }
            let interval: Int64? = measured ? try reader.optional("interval_ms") : nil
            return Heartbeat(instance: try reader.value("instance"), pid: try reader.value("pid"),
                             hostname: try reader.value("hostname"), version: try reader.value("version"),
                             configPath: try reader.value("config_path"), startedAt: try reader.date("started_at"),
                             beatAt: try reader.date("beat_at"), state: try reader.choice("state", Heartbeat.State.self),
                             elements: try reader.value("elements"), lines: try reader.value("lines"),
                             customers: try reader.value("customers"), contracts: try reader.value("contracts"),
                             configLoadedAt: measured ? try reader.optionalDate("config_loaded_at") : nil,
                             interval: interval.map { .milliseconds($0) }, collection: collection)
        }
    }

    // MARK: state transitions

    public func appendTransitions(_ transitions: [StateTransition]) async throws(StoreError) {
        guard !transitions.isEmpty else { return }
        try await write("append \(transitions.count) state transitions") { db in
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

    public func transitions(of subject: Subject?, since: Date) async throws(StoreError) -> [StateTransition] {
        try await read("read state transitions") { db in
            var sql = "SELECT * FROM state_transition WHERE at >= ?"
            var arguments: StatementArguments = [since.unixMilliseconds]
            if let subject {
                sql += " AND subject_type = ? AND subject_id = ?"
                arguments += [subject.kind, subject.identifier]
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY at, id", arguments: arguments).map {
                try StoredRows.transition(RowReader("state_transition", $0))
            }
        }
    }

    // MARK: running statements

    func run<T>(_ operation: String, _ body: () throws -> T) throws(StoreError) -> T {
        do { return try body() } catch {
            throw StoreError(location: location, operation: operation, reason: Self.describe(error))
        }
    }

    func read<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do { return try await pool.read(body) } catch {
            throw StoreError(location: location, operation: operation, reason: Self.describe(error))
        }
    }

    /// Every write first checks that the file opened is still the one at the path: SQLite goes on
    /// writing into a file deleted (or moved away) under it, where nothing will ever read what it
    /// writes; the write fails instead, so the writers keep what they have and the daemon says it
    /// is degraded.
    func write<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        if let file, let problem = StorePath.problem(replacing: file, at: location) {
            throw StoreError(location: location, operation: operation, reason: problem)
        }
        do { return try await pool.write(body) } catch {
            throw StoreError(location: location, operation: operation, reason: Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let databaseError = error as? DatabaseError {
            return databaseError.message ?? databaseError.description
        }
        // Foundation's file errors: the system's reason, not the NSError dump.
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code))).lowercased()
        }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))).lowercased() }
        if nsError.domain == NSCocoaErrorDomain { return nsError.localizedDescription }
        return String(describing: error)
    }
}
