import ForewarnModel
import Foundation
import GRDB
import Persistence
import Stores
import StoreSQLite
import Testing

/// A store in a fresh temporary folder, removed afterwards.
struct TemporaryStore {
    let folder: String
    var path: String { folder + "/forewarn.sqlite" }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-store-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}

@Suite struct SQLiteStoreTests {
    @Test func migrationsCreateEveryTableOnceAndUseWAL() throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let store = try SQLiteStore(path: temporary.path, access: .create)
        #expect(try store.appliedMigrations() == ["0001 initial schema", "0002 correlation state and operator commands", "0003 tickets, incident id allocation, open command kinds", "0004 ticket delivery state", "0005 credit periods and adjustments", "0007 incidents entered by hand", "0009 report reads", "0010 collection health with the heartbeat", "0011 closed periods keep their CSV", "0012 several instances on one store"])
        // Opening again applies nothing twice.
        let reopened = try SQLiteStore(path: temporary.path, access: .create)
        #expect(try reopened.appliedMigrations() == ["0001 initial schema", "0002 correlation state and operator commands", "0003 tickets, incident id allocation, open command kinds", "0004 ticket delivery state", "0005 credit periods and adjustments", "0007 incidents entered by hand", "0009 report reads", "0010 collection health with the heartbeat", "0011 closed periods keep their CSV", "0012 several instances on one store"])

        let queue = try DatabaseQueue(path: temporary.path)
        let tables = try queue.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        }
        for table in ["daemon_heartbeat", "state_transition", "incident", "incident_line", "incident_event", "fault",
                      "customer_report", "ticket_outbox", "credit_ledger", "maintenance_window", "operator_command", "credit_period"] {
            #expect(tables.contains(table), "missing table \(table)")
        }
        let journal = try queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
    }

    @Test func heartbeatIsUpsertedPerInstance() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let store = try SQLiteStore(path: temporary.path, access: .create)
        let start = Date(unixMilliseconds: 1_800_000_000_000)
        var beat = Heartbeat(instance: "noc-a", pid: 42, hostname: "noc-a", version: "0.1.0", configPath: "/etc/f.yaml",
                             startedAt: start, beatAt: start, state: .running, elements: 3, lines: 40, customers: 20,
                             contracts: 2)
        try await store.writeHeartbeat(beat)
        beat.beatAt = start.addingTimeInterval(5)
        beat.lines = 41
        try await store.writeHeartbeat(beat)
        var other = beat
        other.instance = "noc-b"
        other.beatAt = start.addingTimeInterval(1)
        try await store.writeHeartbeat(other)

        let beats = try await store.heartbeats()
        #expect(beats.map(\.instance) == ["noc-a", "noc-b"])  // newest first
        #expect(beats.first == beat)

        // A read-only opening (what `forewarn status` uses) sees the same and cannot write.
        let reader = try SQLiteStore(path: temporary.path, access: .readOnly)
        #expect(try await reader.heartbeats().count == 2)
        await #expect(throws: StoreError.self) { try await reader.writeHeartbeat(beat) }
    }

    @Test func aStoreFromBeforeCollectionHealthIsReadAndMigrated() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let start = Date(unixMilliseconds: 1_800_000_000_000)
        let beat = Heartbeat(instance: "noc-a", pid: 42, hostname: "noc-a", version: "0.1.0", configPath: "/etc/f.yaml",
                             startedAt: start, beatAt: start, state: .running, elements: 3, lines: 40, customers: 20,
                             contracts: 2)
        try await SQLiteStore(path: temporary.path, access: .create).writeHeartbeat(beat)
        // Back to the schema before migration 0010, as an older version left it.
        let columns = ["config_loaded_at", "interval_ms", "elements_reachable", "elements_unreachable", "elements_not_polled",
                       "lines_up", "lines_down", "lines_degraded", "lines_unknown", "lines_unprobed", "polls_per_second",
                       "probes_per_second", "traps_per_second", "last_trap_at", "snmp_timeouts"]
        let queue = try DatabaseQueue(path: temporary.path)
        try await queue.write { db in
            for column in columns { try db.execute(sql: "ALTER TABLE daemon_heartbeat DROP COLUMN \(column)") }
            try db.execute(sql: "ALTER TABLE credit_period DROP COLUMN csv")
            try db.execute(sql: """
                DELETE FROM grdb_migrations
                WHERE identifier IN ('0010 collection health with the heartbeat', '0011 closed periods keep their CSV')
                """)
        }
        try queue.close()
        // `forewarn status` beside an older daemon reads it without migrating it.
        #expect(try await SQLiteStore(path: temporary.path, access: .readOnly).heartbeats() == [beat])
        let migrated = try SQLiteStore(path: temporary.path, access: .create)
        #expect(try migrated.appliedMigrations().suffix(3) == ["0010 collection health with the heartbeat",
                                                               "0011 closed periods keep their CSV",
                                                               "0012 several instances on one store"])
        #expect(try await migrated.heartbeats() == [beat])
    }

    @Test func transitionsRoundTripForEverySubjectKind() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let store = try SQLiteStore(path: temporary.path, access: .create)
        let at = Date(unixMilliseconds: 1_800_000_000_123)
        let transitions = [
            StateTransition(subject: .element("agg1"), from: .up, to: .down, at: at, evidence: "3 polls timed out"),
            StateTransition(subject: .port("agg1", .ifName("ge-0/0/3")), from: .up, to: .down,
                            at: at.addingTimeInterval(1), evidence: "linkDown trap"),
            StateTransition(subject: .port("agg1", .ifIndex(7)), from: .up, to: .degraded,
                            at: at.addingTimeInterval(2), evidence: "ifInErrors 12/s"),
            StateTransition(subject: .line("L-1"), from: .up, to: .down, at: at.addingTimeInterval(3),
                            evidence: "3 echo rounds lost"),
        ]
        try await store.appendTransitions(transitions)
        #expect(try await store.transitions(of: nil, since: at) == transitions)
        #expect(try await store.transitions(of: .line("L-1"), since: at) == [transitions[3]])
        #expect(try await store.transitions(of: nil, since: at.addingTimeInterval(2.5)) == [transitions[3]])
    }

    @Test func schemaEnforcesOneTicketOpeningPerIncidentAndHook() throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        _ = try SQLiteStore(path: temporary.path, access: .create)
        let queue = try DatabaseQueue(path: temporary.path)
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO incident (state, root_type, root_id, root_kind, severity, started_at, detected_at, updated_at)
                VALUES ('open', 'element', 'agg1', 'unreachable', 'major', 1, 2, 2)
                """)
            try db.execute(sql: """
                INSERT INTO ticket_outbox (incident_id, hook, event, payload, created_at, next_attempt_at)
                VALUES (1, 'rt', 'open', '{}', 2, 2), (1, 'rt', 'update', '{}', 3, 3), (1, 'rt', 'update', '{}', 4, 4)
                """)
        }
        #expect(throws: DatabaseError.self) {
            try queue.write { db in
                try db.execute(sql: """
                    INSERT INTO ticket_outbox (incident_id, hook, event, payload, created_at, next_attempt_at)
                    VALUES (1, 'rt', 'open', '{}', 5, 5)
                    """)
            }
        }
    }

    @Test func unusableLocationIsATypedErrorNamingThePath() {
        let error = #expect(throws: StoreError.self) { try SQLiteStore(path: "/proc/forewarn/forewarn.sqlite", access: .create) }
        #expect(error?.description.hasPrefix("store /proc/forewarn/forewarn.sqlite: open failed:") == true)
        let missing = #expect(throws: StoreError.self) { try SQLiteStore(path: "/nonexistent/f.sqlite", access: .readOnly) }
        #expect(missing?.reason.contains("no such file") == true)
    }
}

/// Reads are strict: a value this version does not know is an error naming the table and the
/// row, never silently a default.
@Suite struct StrictReadTests {
    @Test(arguments: [
        ("UPDATE incident SET classification = 'act-of-god'", "table incident, row 1: unknown classification 'act-of-god'"),
        ("UPDATE incident SET severity = 'apocalyptic'", "table incident, row 1: unknown severity 'apocalyptic'"),
        ("UPDATE incident SET root_type = 'cable'", "table incident, row 1: unknown root_type 'cable'"),
        ("UPDATE incident SET state = 'pondering'", "table incident, row 1: unknown state 'pondering'"),
    ])
    func anUnknownValueIsAnErrorNamingTableAndRow(_ corruption: String, _ message: String) async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let store = try SQLiteStore(path: temporary.path, access: .create)
        let queue = try DatabaseQueue(path: temporary.path)
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO incident (id, state, root_type, root_id, root_kind, severity, started_at, detected_at, updated_at)
                VALUES (1, 'open', 'element', 'agg1', 'unreachable', 'major', 1, 2, 2)
                """)
            try db.execute(sql: "INSERT INTO incident_line (incident_id, line, customer, start_at) VALUES (1, 'L1', 'C1', 1)")
            // The schema's own CHECKs would refuse some of these: a row from a newer version, or
            // edited by hand, is what is simulated.
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: corruption)
        }
        let error = await #expect(throws: StoreError.self) { try await store.incidents(openOnly: false, since: nil) }
        #expect(error?.reason.contains(message) == true, "\(String(describing: error))")
        // The reads of many headers at once (reports, billing runs) read by position, as strictly.
        let (from, to) = (Date(unixMilliseconds: 0), Date(unixMilliseconds: 1_000))
        let detected = await #expect(throws: StoreError.self) { try await store.incidents(detectedFrom: from, to: to) }
        #expect(detected?.reason.contains(message) == true, "\(String(describing: detected))")
        let lines = await #expect(throws: StoreError.self) { try await store.reportLineTables(from: from, to: to) }
        #expect(lines?.reason.contains(message) == true, "\(String(describing: lines))")
        if !corruption.contains("state") {  // recovery reads only rows whose state is 'open'
            await #expect(throws: StoreError.self) { try await store.recoverIncidents() }
        }
    }

    @Test func anUnknownOutboxEventIsAnError() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let store = try SQLiteStore(path: temporary.path, access: .create)
        try await StoreContractTests.open(1, in: store)
        let queue = try DatabaseQueue(path: temporary.path)
        try await queue.write { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: "UPDATE ticket_outbox SET event = 'escalate'")
        }
        let error = await #expect(throws: StoreError.self) { try await store.outbox(.pending, limit: 10) }
        #expect(error?.reason.contains("table ticket_outbox, row 1: unknown event 'escalate'") == true)
    }

    @Test func aStoreFromANewerVersionIsRefused() throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        _ = try SQLiteStore(path: temporary.path, access: .create)
        let queue = try DatabaseQueue(path: temporary.path)
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('9999 future')") }
        let error = #expect(throws: StoreError.self) { try SQLiteStore(path: temporary.path, access: .create) }
        #expect(error?.reason.contains("newer version of Forewarn") == true)
    }
}
