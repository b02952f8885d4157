import Foundation
import ForewarnModel
import Logging
import Persistence
import PostgresNIO

/// Several instances on one store: beats by the store's clock, session locks, the observation
/// queue and requests, with LISTEN/NOTIFY for latency.
extension PostgresStore: ClusterStore {
    /// The store's clock, in Unix milliseconds.
    static let serverNow = "(extract(epoch from clock_timestamp()) * 1000)::bigint"

    public func beat(_ member: ClusterMember) async throws(StoreError) {
        try await write("write the cluster beat of \(member.instance)") { connection in
            try await connection.query("""
                INSERT INTO cluster_member (instance, hostname, pid, started_at, beat_at, role, elements, lines, leaving)
                VALUES (\(member.instance), \(member.hostname), \(Int64(member.pid)), \(member.startedAt.unixMilliseconds),
                        \(unescaped: Self.serverNow), \(member.role.rawValue), \(Int64(member.elements)),
                        \(Int64(member.lines)), \(member.leaving))
                ON CONFLICT (instance) DO UPDATE SET hostname = excluded.hostname, pid = excluded.pid,
                    started_at = excluded.started_at, beat_at = excluded.beat_at, role = excluded.role,
                    elements = excluded.elements, lines = excluded.lines, leaving = excluded.leaving
                """, logger: self.logger)
        }
    }

    public func members() async throws(StoreError) -> [ClusterMember] {
        try await read("read the cluster members") { connection in
            try await self.rows(connection, """
                SELECT *, \(unescaped: Self.serverNow) - beat_at AS age_ms FROM cluster_member ORDER BY instance
                """, table: "cluster_member").map { reader in
                ClusterMember(instance: try reader.value("instance"), hostname: try reader.value("hostname"),
                              pid: Int32(truncatingIfNeeded: try reader.value("pid") as Int64),
                              startedAt: try reader.date("started_at"), role: try reader.choice("role", ClusterMember.Role.self),
                              elements: try reader.int("elements"), lines: try reader.int("lines"),
                              leaving: try reader.value("leaving"), age: .milliseconds(max(0, try reader.value("age_ms") as Int64)))
            }
        }
    }

    public func removeMember(_ instance: String) async throws(StoreError) {
        try await write("remove cluster member \(instance)") { connection in
            try await connection.query("DELETE FROM cluster_member WHERE instance = \(instance)", logger: self.logger)
        }
    }

    public func sessionLock(_ name: String) -> any SessionLock {
        PostgresSessionLock(name: name, connection: connectionConfiguration, logger: logger)
    }

    public func enqueueObservations(_ observations: [Observation], from instance: String, firstNumber: Int64) async throws(StoreError) {
        guard !observations.isEmpty else { return }
        try await write("queue \(observations.count) observations") { connection in
            for (offset, chunk) in observations.chunked(5_000).enumerated() {
                let first = firstNumber + Int64(offset * 5_000)
                try await connection.query("""
                    INSERT INTO observation_queue (instance, number, payload, queued_at)
                    SELECT \(instance), \(first) + n - 1, p, \(unescaped: Self.serverNow)
                    FROM unnest(\(chunk.map(ClusterCoding.encode))) WITH ORDINALITY AS t(p, n)
                    """, logger: self.logger)
            }
            try await connection.query("SELECT pg_notify(\(ClusterChannel.observations.rawValue), '')", logger: self.logger)
        }
    }

    public func lastObservationNumber(of instance: String) async throws(StoreError) -> Int64 {
        try await read("read the last queued observation of \(instance)") { connection in
            try await connection.query("SELECT COALESCE(MAX(number), 0)::bigint FROM observation_queue WHERE instance = \(instance)",
                                       logger: self.logger).collect().first?.decode(Int64.self) ?? 0
        }
    }

    public func queuedObservations(after cursors: [String: Int64], limit: Int) async throws(StoreError) -> [QueuedObservation] {
        let instances = Array(cursors.keys)
        let numbers = instances.map { cursors[$0]! }
        return try await read("read queued observations") { connection in
            let rows = try await connection.query("""
                SELECT q.instance, q.number, q.payload FROM observation_queue q
                LEFT JOIN unnest(\(instances), \(numbers)) AS c(instance, number) ON c.instance = q.instance
                WHERE q.number > COALESCE(c.number, 0)
                ORDER BY q.queued_at, q.instance, q.number LIMIT \(Int64(limit))
                """, logger: self.logger)
            var queued: [QueuedObservation] = []
            for try await (instance, number, payload) in rows.decode((String, Int64, String).self) {
                switch ClusterCoding.decodeObservation(payload) {
                case .success(let observation): queued.append(QueuedObservation(instance: instance, number: number, observation: observation))
                case .failure(let problem):
                    queued.append(QueuedObservation(instance: instance, number: number, observation: nil, problem: problem.text))
                }
            }
            // Each instance's in its own order (the store's clock orders the instances between them).
            return queued
        }
    }

    public func trimObservations(upTo cursors: [String: Int64]) async throws(StoreError) {
        guard !cursors.isEmpty else { return }
        let instances = Array(cursors.keys)
        let numbers = instances.map { cursors[$0]! }
        try await write("trim the observation queue") { connection in
            try await connection.query("""
                DELETE FROM observation_queue q USING unnest(\(instances), \(numbers)) AS c(instance, number)
                WHERE q.instance = c.instance AND q.number <= c.number
                """, logger: self.logger)
        }
    }

    public func sendRequests(_ requests: [ClusterRequest]) async throws(StoreError) {
        guard !requests.isEmpty else { return }
        try await write("send \(requests.count) requests") { connection in
            try await connection.query("""
                INSERT INTO cluster_request (instance, payload, created_at)
                SELECT i, p, \(unescaped: Self.serverNow) FROM unnest(\(requests.map(\.instance)),
                                                                     \(requests.map { ClusterCoding.encode($0.kind) }))
                    WITH ORDINALITY AS t(i, p, n) ORDER BY n
                """, logger: self.logger)
            try await connection.query("SELECT pg_notify(\(ClusterChannel.requests.rawValue), '')", logger: self.logger)
        }
    }

    public func takeRequests(for instance: String) async throws(StoreError) -> [ClusterRequest] {
        try await write("take the requests for \(instance)") { connection in
            try await connection.query("""
                DELETE FROM cluster_request WHERE instance = \(instance) RETURNING id, payload
                """, logger: self.logger).collect()
                .map { try $0.decode((Int64, String).self) }
                .sorted { $0.0 < $1.0 }
                .compactMap { ClusterCoding.decodeRequest($0.1).map { ClusterRequest(instance: instance, kind: $0) } }
        }
    }

    public func notifications(_ channel: ClusterChannel) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let task = Task { [client, logger] in
            while !Task.isCancelled {
                do {
                    try await self.ready.value
                    try await client.withConnection { connection in
                        try await connection.listen(on: channel.rawValue) { notifications in
                            // Listening now: whatever was sent before is read at this first tick.
                            continuation.yield(())
                            for try await _ in notifications { continuation.yield(()) }
                        }
                    }
                } catch {
                    logger.debug("listener lost", metadata: ["error": "\(error)"])
                }
                // A listener lost (the server restarted): read anyway, listen again shortly.
                continuation.yield(())
                try? await Task.sleep(for: .seconds(1))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}

/// A session advisory lock on a connection of its own (not the pool's), whose TCP keepalives
/// are short, so that the server ends the session — and frees the lock — within seconds of the
/// holder's host or network going, not hours. (On a Unix socket the settings are ignored: the
/// peer is on the same host, and its death closes the socket at once.)
actor PostgresSessionLock: SessionLock {
    let name: String
    let key: Int64
    let configuration: PostgresConnection.Configuration
    let logger: Logger
    private var connection: PostgresConnection?
    private var held = false

    init(name: String, connection: PostgresConnection.Configuration, logger: Logger) {
        self.name = name
        self.configuration = connection
        self.logger = logger
        // FNV-1a of the name: the same key in every instance.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ("forewarn:" + name).utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        key = Int64(bitPattern: hash)
    }

    deinit {
        // Let go without `release`: the session ends, and the server frees the lock with it.
        if let connection { Task { try? await connection.close() } }
    }

    func acquire() async -> Bool {
        if held { return await isHeld() }
        do {
            let connection = try await open()
            let taken = try await PostgresStore.within(.seconds(5)) {
                try await connection.query("SELECT pg_try_advisory_lock(\(self.key))", logger: self.logger).collect()
                    .first?.decode(Bool.self) ?? false
            }
            held = taken
            return taken
        } catch {
            await drop()
            return false
        }
    }

    func isHeld() async -> Bool {
        guard held, let connection, !connection.isClosed else {
            await drop()
            return false
        }
        do {
            _ = try await PostgresStore.within(.seconds(3)) {
                try await connection.query("SELECT 1", logger: self.logger).collect()
            }
            return true
        } catch {
            await drop()
            return false
        }
    }

    func release() async {
        if held, let connection {
            _ = try? await PostgresStore.within(.seconds(3)) {
                try await connection.query("SELECT pg_advisory_unlock(\(self.key))", logger: self.logger).collect()
            }
        }
        await drop()
    }

    private func open() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        let connection = try await PostgresStore.within(.seconds(10)) { [configuration, logger] in
            try await PostgresConnection.connect(on: PostgresClientFactory.eventLoops.next(), configuration: configuration,
                                                 id: 1, logger: logger)
        }
        // The server gives up on a silent peer after 3 s + 3 × 1 s of keepalives, or 6 s of
        // unacknowledged data: the lock is free within about 6 s of its holder's host going.
        for setting in ["tcp_keepalives_idle = 3", "tcp_keepalives_interval = 1", "tcp_keepalives_count = 3",
                        "tcp_user_timeout = 6000"] {
            try await connection.query(PostgresQuery(unsafeSQL: "SET \(setting)"), logger: logger)
        }
        self.connection = connection
        return connection
    }

    private func drop() async {
        held = false
        if let connection { try? await connection.close() }
        connection = nil
    }
}
