import Foundation
import ForewarnModel
import Logging
import NIOPosix
import NIOSSL
import Persistence
import PostgresNIO
import Synchronization

/// The shared store: one PostgreSQL database, the same protocols and contract as the embedded
/// SQLite store, for installations that run their store on the replicated PostgreSQL a NOC
/// already keeps. Connections are pooled; the schema is brought up to date (or checked) before
/// the first operation, and an error then is every operation's error, naming the store.
public final class PostgresStore: HeartbeatStore, TransitionStore, IncidentStore, CommandStore, TicketOutboxStore,
    CreditLedgerStore, ReportQueries
{
    public let location: String
    let client: PostgresClient
    /// How long an operation may wait for the server (`operation_timeout`), and a bulk one.
    let deadline: Duration
    let bulkDeadline: Duration
    let logger: Logger
    /// The client's connection pool, running for as long as the store is held.
    private let running: Task<Void, Never>
    /// The schema checked (and migrated, unless read only): every operation waits for it first.
    let ready: Task<Void, any Error>
    /// One connection's settings, for the session locks' own connections.
    let connectionConfiguration: PostgresConnection.Configuration
    /// The correlator's lock, when this store was opened holding it (`openUnlessDaemonRuns`).
    private let heldLock = Mutex<(any SessionLock)?>(nil)

    /// The advisory lock key that serialises migrations between instances starting together.
    static let migrationLockKey: Int64 = 0x666F_7265_7761_726F

    public convenience init(url: String, access: StoreAccess) throws(StoreError) {
        try self.init(PostgresLocation(url: url), access: access)
    }

    public convenience init(_ target: PostgresLocation, access: StoreAccess, maximumConnections: Int = 8) throws(StoreError) {
        try self.init(target, opening: Opening(access), maximumConnections: maximumConnections)
    }

    /// An existing store holding the correlator's lock, for the CLI to apply its own commands
    /// while no instance runs the correlator; nil when one does (its commands are its to apply).
    public static func openUnlessDaemonRuns(url: String) async throws(StoreError) -> PostgresStore? {
        let store = try PostgresStore(PostgresLocation(url: url), opening: Opening(migrate: false, readOnly: false),
                                      maximumConnections: 4)
        do {
            try await store.ready.value
        } catch {
            throw StoreError(location: store.location, operation: "open", reason: Self.describe(error))
        }
        let lock = store.sessionLock(ClusterLockName.correlator)
        guard await lock.acquire() else { return nil }
        store.heldLock.withLock { $0 = lock }
        return store
    }

    /// What opening does: bring the schema up to date (or check it is there), refuse writes.
    struct Opening {
        var migrate: Bool
        var readOnly: Bool

        init(migrate: Bool, readOnly: Bool) {
            (self.migrate, self.readOnly) = (migrate, readOnly)
        }

        /// A daemon does not hold a PostgreSQL store alone: several instances share it, and the
        /// one running the correlator holds the correlator's lock (`ClusterStore.sessionLock`).
        init(_ access: StoreAccess) {
            switch access {
            case .create, .daemon: self.init(migrate: true, readOnly: false)
            case .readOnly: self.init(migrate: false, readOnly: true)
            case .existing: self.init(migrate: false, readOnly: false)
            }
        }
    }

    init(_ target: PostgresLocation, opening: Opening, maximumConnections: Int) throws(StoreError) {
        location = target.display
        deadline = target.operationTimeout ?? Self.operationDeadline
        bulkDeadline = max(deadline, Self.bulkDeadline)
        // The driver's own log stays out of the daemon's (its errors reach the caller as StoreError);
        // a handler of its own, as the daemon's handlers share one level.
        let logger = Logger(label: "forewarn.store.postgresql") { _ in SwiftLogNoOpLogHandler() }
        self.logger = logger
        let client = try PostgresClientFactory.client(target, maximumConnections: maximumConnections,
                                                      readOnly: opening.readOnly, logger: logger)
        self.client = client
        running = Task { await client.run() }
        let first = try PostgresClientFactory.connection(target, readOnly: opening.readOnly)
        let prepared = Task { [logger] in
            let connection = try await PostgresConnection.connect(on: PostgresClientFactory.eventLoops.next(),
                                                                  configuration: first, id: 0, logger: logger)
            do {
                try await Self.prepare(connection, migrate: opening.migrate, logger: logger)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        }
        connectionConfiguration = first
        ready = prepared
    }

    deinit {
        running.cancel()
        if let lock = heldLock.withLock({ $0 }) { Task { await lock.release() } }
    }

    /// The schema: migrated (serialised between instances by an advisory lock), or for a read
    /// only or existing store checked to be there and not newer than this version.
    static func prepare(_ connection: PostgresConnection, migrate: Bool, logger: Logger) async throws {
        let known = Set(PostgresSchema.migrations.map(\.name))
        if !migrate {
            let exists = try await connection.query("SELECT to_regclass('forewarn_migration') IS NOT NULL", logger: logger)
                .collect().first?.decode(Bool.self) ?? false
            guard exists else { throw PostgresStoreProblem("no Forewarn schema in this database (has the daemon run with this store?)") }
            try checkNotNewer(try await connection.query("SELECT name FROM forewarn_migration", logger: logger).collect(), known)
            return
        }
        try await connection.withTransaction(logger: logger) { connection in
            // One migrator at a time, whichever instance starts first.
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS forewarn_migration (
                    name text COLLATE "C" PRIMARY KEY, applied_at bigint NOT NULL)
                """, logger: logger)
            let applied = try await connection.query("SELECT name FROM forewarn_migration", logger: logger).collect()
            try checkNotNewer(applied, known)
            let done = Set(try applied.map { try $0.decode(String.self) })
            for migration in PostgresSchema.migrations where !done.contains(migration.name) {
                for statement in statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let now = Date().unixMilliseconds
                try await connection.query("INSERT INTO forewarn_migration (name, applied_at) VALUES (\(migration.name), \(now))",
                                           logger: logger)
            }
        }
    }

    private static func checkNotNewer(_ rows: [PostgresRow], _ known: Set<String>) throws {
        let unknown = try rows.map { try $0.decode(String.self) }.filter { !known.contains($0) }
        if !unknown.isEmpty {
            throw PostgresStoreProblem("the schema was written by a newer version of Forewarn (migration "
                                       + "\(unknown.sorted().joined(separator: ", "))); use that version")
        }
    }

    /// A migration's statements, one per `;` that ends a line (none of them holds one elsewhere).
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            current += line + "\n"
            if line.hasSuffix(";") {
                statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }

    /// Names of the migrations applied, in order.
    public func appliedMigrations() async throws(StoreError) -> [String] {
        try await read("read migrations") { connection in
            try await connection.query("SELECT name FROM forewarn_migration ORDER BY name", logger: self.logger)
                .collect().map { try $0.decode(String.self) }
        }
    }

    // MARK: running statements

    /// How long an operation may wait for the server (a connection, then its statements) before
    /// it fails, by default: the pool goes on reconnecting behind it, the caller keeps what it
    /// wanted to write.
    static let operationDeadline: Duration = .seconds(30)
    /// The same for the reads of a whole billing run or report, and a correlator batch.
    static let bulkDeadline: Duration = .seconds(600)

    /// `body` on a pooled connection, in autocommit.
    func read<T: Sendable>(_ operation: String, bulk: Bool = false,
                           _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws(StoreError) -> T {
        do {
            return try await Self.within(bulk ? bulkDeadline : deadline) {
                try await self.ready.value
                return try await self.client.withConnection { connection in try await body(connection) }
            }
        } catch {
            throw StoreError(location: location, operation: operation, reason: Self.describe(error))
        }
    }

    /// `body` in one transaction: committed when it returns, rolled back when it throws.
    @discardableResult
    func write<T: Sendable>(_ operation: String, bulk: Bool = false,
                            _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws(StoreError) -> T {
        do {
            return try await Self.within(bulk ? bulkDeadline : deadline) {
                try await self.ready.value
                return try await self.client.withTransaction(logger: self.logger) { connection in try await body(connection) }
            }
        } catch {
            throw StoreError(location: location, operation: operation, reason: Self.describe(error))
        }
    }

    /// `body`, or an error when it has not finished within `deadline`: it is cancelled then, and
    /// not waited for (a connection whose peer vanished may not notice the cancellation soon).
    static func within<T: Sendable>(_ deadline: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation, deadline: deadline, body)
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// `read`, with its failure as a value: `async let` does not keep a typed error.
    func readOutcome<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async
        -> Result<T, StoreError>
    {
        do {
            return .success(try await read(operation, body))
        } catch {
            return .failure(error)
        }
    }

    /// A failure as an operator reads it: the server's message, not the driver's wrapping.
    public static func describe(_ error: any Error) -> String {
        if let transaction = error as? PostgresTransactionError {
            if let cause = transaction.closureError ?? transaction.beginError ?? transaction.commitError {
                return describe(cause)
            }
        }
        if let problem = error as? PostgresStoreProblem { return problem.text }
        if let stored = error as? StoredValueError { return stored.description }
        if let store = error as? StoreError { return store.reason }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
                return message + detail
            }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        return String(describing: error)
    }

    // MARK: heartbeat

    public func writeHeartbeat(_ beat: Heartbeat) async throws(StoreError) {
        let health = beat.collection
        let interval = beat.interval.map { $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000 }
        try await write("write heartbeat") { connection in
            try await connection.query("""
                INSERT INTO daemon_heartbeat (instance, pid, hostname, version, config_path, started_at, beat_at, state,
                    elements, lines, customers, contracts, config_loaded_at, interval_ms, elements_reachable,
                    elements_unreachable, elements_not_polled, lines_up, lines_down, lines_degraded, lines_unknown,
                    lines_unprobed, polls_per_second, probes_per_second, traps_per_second, last_trap_at, snmp_timeouts)
                VALUES (\(beat.instance), \(Int64(beat.pid)), \(beat.hostname), \(beat.version), \(beat.configPath),
                    \(beat.startedAt.unixMilliseconds), \(beat.beatAt.unixMilliseconds), \(beat.state.rawValue),
                    \(Int64(beat.elements)), \(Int64(beat.lines)), \(Int64(beat.customers)), \(Int64(beat.contracts)),
                    \(beat.configLoadedAt?.unixMilliseconds), \(interval), \(health.map { Int64($0.elementsReachable) }),
                    \(health.map { Int64($0.elementsUnreachable) }), \(health.map { Int64($0.elementsNotPolled) }),
                    \(health.map { Int64($0.linesUp) }), \(health.map { Int64($0.linesDown) }),
                    \(health.map { Int64($0.linesDegraded) }), \(health.map { Int64($0.linesUnknown) }),
                    \(health.map { Int64($0.linesUnprobed) }), \(health?.pollsPerSecond), \(health?.probesPerSecond),
                    \(health?.trapsPerSecond), \(health?.lastTrapAt?.unixMilliseconds), \(health.map { Int64($0.snmpTimeouts) }))
                ON CONFLICT (instance) DO UPDATE SET
                    pid = excluded.pid, hostname = excluded.hostname, version = excluded.version,
                    config_path = excluded.config_path, started_at = excluded.started_at, beat_at = excluded.beat_at,
                    state = excluded.state, elements = excluded.elements, lines = excluded.lines,
                    customers = excluded.customers, contracts = excluded.contracts,
                    config_loaded_at = excluded.config_loaded_at, interval_ms = excluded.interval_ms,
                    elements_reachable = excluded.elements_reachable, elements_unreachable = excluded.elements_unreachable,
                    elements_not_polled = excluded.elements_not_polled, lines_up = excluded.lines_up,
                    lines_down = excluded.lines_down, lines_degraded = excluded.lines_degraded,
                    lines_unknown = excluded.lines_unknown, lines_unprobed = excluded.lines_unprobed,
                    polls_per_second = excluded.polls_per_second, probes_per_second = excluded.probes_per_second,
                    traps_per_second = excluded.traps_per_second, last_trap_at = excluded.last_trap_at,
                    snmp_timeouts = excluded.snmp_timeouts
                """, logger: self.logger)
        }
    }

    public func heartbeats() async throws(StoreError) -> [Heartbeat] {
        try await read("read heartbeats") { connection in
            try await self.rows(connection, "SELECT * FROM daemon_heartbeat ORDER BY beat_at DESC", table: "daemon_heartbeat")
                .map { reader in
                    var collection: CollectionHealth?
                    if let reachable: Int64 = try reader.optional("elements_reachable") {
                        collection = CollectionHealth(
                            elementsReachable: Int(reachable), elementsUnreachable: try reader.int("elements_unreachable"),
                            elementsNotPolled: try reader.int("elements_not_polled"), linesUp: try reader.int("lines_up"),
                            linesDown: try reader.int("lines_down"), linesDegraded: try reader.int("lines_degraded"),
                            linesUnknown: try reader.int("lines_unknown"), linesUnprobed: try reader.int("lines_unprobed"),
                            pollsPerSecond: try reader.value("polls_per_second"),
                            probesPerSecond: try reader.value("probes_per_second"),
                            trapsPerSecond: try reader.value("traps_per_second"),
                            lastTrapAt: try reader.optionalDate("last_trap_at"), snmpTimeouts: try reader.int("snmp_timeouts"))
                    }
                    let interval: Int64? = try reader.optional("interval_ms")
                    return Heartbeat(instance: try reader.value("instance"), pid: Int32(truncatingIfNeeded: try reader.value("pid") as Int64),
                                     hostname: try reader.value("hostname"), version: try reader.value("version"),
                                     configPath: try reader.value("config_path"), startedAt: try reader.date("started_at"),
                                     beatAt: try reader.date("beat_at"), state: try reader.choice("state", Heartbeat.State.self),
                                     elements: try reader.int("elements"), lines: try reader.int("lines"),
                                     customers: try reader.int("customers"), contracts: try reader.int("contracts"),
                                     configLoadedAt: try reader.optionalDate("config_loaded_at"),
                                     interval: interval.map { .milliseconds($0) }, collection: collection)
                }
        }
    }

    // MARK: state transitions

    public func appendTransitions(_ transitions: [StateTransition]) async throws(StoreError) {
        guard !transitions.isEmpty else { return }
        try await write("append \(transitions.count) state transitions") { connection in
            for chunk in transitions.chunked(5_000) {
                try await connection.query("""
                    INSERT INTO state_transition (subject_type, subject_id, from_state, to_state, at, evidence)
                    SELECT a, b, c, d, e, f FROM unnest(\(chunk.map(\.subject.kind)), \(chunk.map(\.subject.identifier)),
                                         \(chunk.map(\.from.rawValue)), \(chunk.map(\.to.rawValue)),
                                         \(chunk.map(\.at.unixMilliseconds)), \(chunk.map(\.evidence)))
                        WITH ORDINALITY AS t(a, b, c, d, e, f, n) ORDER BY n
                    """, logger: self.logger)
            }
        }
    }

    public func transitions(of subject: Subject?, since: Date) async throws(StoreError) -> [StateTransition] {
        try await read("read state transitions") { connection in
            let query: PostgresQuery
            if let subject {
                query = """
                    SELECT * FROM state_transition WHERE at >= \(since.unixMilliseconds)
                    AND subject_type = \(subject.kind) AND subject_id = \(subject.identifier) ORDER BY at, id
                    """
            } else {
                query = "SELECT * FROM state_transition WHERE at >= \(since.unixMilliseconds) ORDER BY at, id"
            }
            return try await self.rows(connection, query, table: "state_transition").map(StoredRows.transition)
        }
    }

    /// Every row of `query`, each with a strict reader naming `table`.
    func rows(_ connection: PostgresConnection, _ query: PostgresQuery, table: String) async throws -> [PostgresRowReader] {
        try await connection.query(query, logger: logger).collect().map { PostgresRowReader(table, $0.makeRandomAccess()) }
    }
}

/// Why a store could not be used, said as it is (no driver wording around it).
struct PostgresStoreProblem: Error {
    var text: String
    /// The daemon's lock is held by another daemon.
    var held = false
    init(_ text: String, held: Bool = false) { (self.text, self.held) = (text, held) }
}

extension Array {
    /// In consecutive pieces of at most `size`.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

/// A connection pool to a PostgreSQL store, configured from its location (the store's own, and
/// `forewarn store copy`'s). Not running yet: its owner runs it (`PostgresClient.run`).
public enum PostgresClientFactory {
    /// The store's own event loops: its connections never wait behind other work on the
    /// process's shared ones (HTTP server, webhooks, which may be busy or blocked).
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    public static func client(_ target: PostgresLocation, maximumConnections: Int, readOnly: Bool = false,
                              logger: Logger = Logger(label: "forewarn.store.postgresql") { _ in SwiftLogNoOpLogHandler() })
        throws(StoreError) -> PostgresClient
    {
        var configuration: PostgresClient.Configuration
        let password = try target.resolvedPassword()
        if let folder = target.socketFolder {
            configuration = .init(unixSocketPath: "\(folder)/.s.PGSQL.\(target.port)", username: target.user,
                                  password: password, database: target.database)
        } else {
            configuration = .init(host: target.host, port: target.port, username: target.user, password: password,
                                  database: target.database, tls: try tls(target))
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", "forewarn")]
        if readOnly {
            configuration.options.additionalStartupParameters.append(("default_transaction_read_only", "on"))
        }
        return PostgresClient(configuration: configuration, eventLoopGroup: eventLoops, backgroundLogger: logger)
    }

    /// The TLS settings `sslmode` asks for; nil for plain TCP.
    static func tlsConfiguration(_ target: PostgresLocation) throws(StoreError) -> TLSConfiguration? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch target.tls {
        case .disable:
            return nil
        case .prefer, .require:
            configuration.certificateVerification = .none
        case .verifyFull:
            configuration.certificateVerification = .fullVerification
            if let caFile = target.caFile {
                guard FileManager.default.isReadableFile(atPath: caFile) else {
                    throw StoreError(location: target.display, operation: "open", reason: "cannot read sslrootcert \(caFile)")
                }
                configuration.trustRoots = .file(caFile)
            }
        }
        return configuration
    }

    static func tls(_ target: PostgresLocation) throws(StoreError) -> PostgresClient.Configuration.TLS {
        guard let configuration = try tlsConfiguration(target) else { return .disable }
        return target.tls == .prefer ? .prefer(configuration) : .require(configuration)
    }

    /// One connection's settings, the pool's own: the store's first connection is made alone, so
    /// that a server that refuses it (down, wrong password, no such database) says why at once.
    static func connection(_ target: PostgresLocation, readOnly: Bool) throws(StoreError) -> PostgresConnection.Configuration {
        let password = try target.resolvedPassword()
        var configuration: PostgresConnection.Configuration
        if let folder = target.socketFolder {
            configuration = .init(unixSocketPath: "\(folder)/.s.PGSQL.\(target.port)", username: target.user,
                                  password: password, database: target.database)
        } else {
            var tls = PostgresConnection.Configuration.TLS.disable
            if let settings = try tlsConfiguration(target) {
                do {
                    let context = try NIOSSLContext(configuration: settings)
                    tls = target.tls == .prefer ? .prefer(context) : .require(context)
                } catch {
                    throw StoreError(location: target.display, operation: "open", reason: "TLS: \(error)")
                }
            }
            configuration = .init(host: target.host, port: target.port, username: target.user, password: password,
                                  database: target.database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", "forewarn")]
        if readOnly { configuration.options.additionalStartupParameters.append(("default_transaction_read_only", "on")) }
        return configuration
    }

}

/// The first of an operation's outcome and its deadline; the loser is cancelled, not awaited.
final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var finished: Result<T, any Error>?
        var tasks: [Task<Void, Never>] = []
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>, deadline: Duration,
               _ body: @escaping @Sendable () async throws -> T) {
        // Cancelled before it started: answer at once.
        if let early = state.withLock({ state -> Result<T, any Error>? in
            if state.finished == nil { state.continuation = continuation }
            return state.finished
        }) {
            continuation.resume(with: early)
            return
        }
        let work = Task {
            do { self.finish(.success(try await body())) } catch { self.finish(.failure(error)) }
        }
        let timer = Task {
            guard (try? await Task.sleep(for: deadline)) != nil else { return }
            self.finish(.failure(PostgresStoreProblem("no answer from the server within \(deadline.components.seconds) s")))
        }
        let cancelNow = state.withLock { state -> Bool in
            state.tasks = [work, timer]
            return state.finished != nil
        }
        if cancelNow { work.cancel(); timer.cancel() }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, tasks) = state.withLock { state -> (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) in
            guard state.finished == nil else { return (nil, []) }
            state.finished = result
            defer { state.continuation = nil }
            return (state.continuation, state.tasks)
        }
        continuation?.resume(with: result)
        for task in tasks { task.cancel() }
    }
}
