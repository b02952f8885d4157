import ForewarnModel
import Foundation
import GRDB
import PostgresNIO
import Persistence
import StorePostgres
import StoreSQLite
import Stores
import Testing

/// What is the PostgreSQL store's own (the contract is `StoreContractTests`): its URL, its
/// schema, the daemon's hold on it, read-only access, and `forewarn store copy` into it.
@Suite struct PostgresLocationTests {
    @Test func aURLNamesUserHostPortDatabaseAndOptions() throws {
        let location = try PostgresLocation(url: "postgresql://forewarn@db1.example.net:6432/noc?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(location.user == "forewarn" && location.host == "db1.example.net" && location.port == 6432)
        #expect(location.database == "noc" && location.tls == .verifyFull && location.caFile == "/etc/ca.pem")
        #expect(location.display == "postgresql://forewarn@db1.example.net:6432/noc")
        let socket = try PostgresLocation(url: "postgres://forewarn@/noc?host=/run/postgresql")
        #expect(socket.socketFolder == "/run/postgresql" && socket.display == "postgresql://forewarn@/run/postgresql/.s.PGSQL.5432/noc")
        #expect(try PostgresLocation(url: "postgresql://forewarn@db1/noc").tls == .prefer)
    }

    @Test(arguments: [
        ("postgresql://db1/noc", "names no user"),
        ("postgresql://forewarn@db1/", "names no database"),
        ("postgresql://forewarn@db1/noc?sslmode=sometimes", "sslmode 'sometimes' is not one of"),
        ("postgresql://forewarn@db1/noc?timeout=3", "unknown option 'timeout'"),
        ("postgresql://forewarn@db1/noc?sslrootcert=/ca.pem", "sslrootcert is used with sslmode=verify-full only"),
        ("postgresql://forewarn:s3cret@db1/noc?password_file=/p", "a password in the URL and a password_file"),
    ])
    func aBadURLIsRefusedWithTheReason(_ url: String, _ reason: String) {
        do {
            _ = try PostgresLocation(url: url)
            Issue.record("\(url) was accepted")
        } catch {
            #expect(error.reason.contains(reason), "\(error)")
            #expect(!error.description.contains("s3cret"), "the password is never shown: \(error)")
        }
    }

    @Test func thePasswordIsNeverShownAndComesFromItsFile() throws {
        let folder = try TemporaryStore()
        defer { folder.remove() }
        let file = folder.folder + "/password"
        try "s3cret\n".write(toFile: file, atomically: true, encoding: .utf8)
        let store = try PostgresStore(url: "postgresql://forewarn@127.0.0.1:1/noc?password_file=\(file)&sslmode=disable",
                                      access: .readOnly)
        #expect(store.location == "postgresql://forewarn@127.0.0.1:1/noc")
        #expect(try PostgresLocation(url: "postgresql://forewarn:s3cret@db1/noc").display == "postgresql://forewarn@db1:5432/noc")
        try "".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: StoreError.self) {
            _ = try PostgresStore(url: "postgresql://forewarn@127.0.0.1:1/noc?password_file=\(file)", access: .readOnly)
        }
        #expect(throws: StoreError.self) {
            _ = try PostgresStore(url: "postgresql://forewarn@127.0.0.1:1/noc?password_file=\(folder.folder)/none", access: .readOnly)
        }
    }

    @Test func anUnreachableServerIsAnErrorNamingTheStore() async throws {
        // Port 1 on loopback: nothing listens there.
        let store = try StoreFactory.open("postgresql://forewarn@127.0.0.1:1/noc?sslmode=disable", access: .readOnly)
        do {
            _ = try await store.heartbeats()
            Issue.record("a store nobody serves answered")
        } catch {
            #expect(error.location == "postgresql://forewarn@127.0.0.1:1/noc")
            #expect(error.operation == "read heartbeats")
        }
    }
}

@Suite(.enabled(if: TestPostgres.url != nil, "needs the test PostgreSQL server (scripts/with-postgres)"))
struct PostgresStoreTests {
    /// A fresh database for `body`, dropped afterwards.
    static func withDatabase(_ body: (String) async throws -> Void) async throws {
        let url = try await TestPostgres.createDatabase()
        do {
            try await body(url)
        } catch {
            await TestPostgres.dropDatabase(url)
            throw error
        }
        await TestPostgres.dropDatabase(url)
    }

    @Test func theMigrationsAreTheSQLiteStoresUnderTheSameNames() async throws {
        try await Self.withDatabase { url in
            let postgres = try PostgresStore(url: url, access: .create)
            let temporary = try TemporaryStore()
            defer { temporary.remove() }
            let sqlite = try SQLiteStore(path: temporary.path, access: .create)
            #expect(try await postgres.appliedMigrations() == (try sqlite.appliedMigrations()))
            // Opening again applies nothing twice.
            #expect(try await PostgresStore(url: url, access: .create).appliedMigrations() == (try sqlite.appliedMigrations()))
        }
    }

    @Test func aSchemaFromANewerVersionIsRefused() async throws {
        try await Self.withDatabase { url in
            _ = try await PostgresStore(url: url, access: .create).heartbeats()
            try await TestPostgres.run(url, "INSERT INTO forewarn_migration (name, applied_at) VALUES ('9999 from the future', 0)")
            for access in [StoreAccess.create, .readOnly] {
                await #expect {
                    _ = try await PostgresStore(url: url, access: access).heartbeats()
                } throws: { error in
                    (error as? StoreError)?.reason.contains("newer version of Forewarn (migration 9999 from the future)") == true
                }
            }
        }
    }

    @Test func anExistingStoreMustHaveTheSchemaAndReadOnlyNeverWrites() async throws {
        try await Self.withDatabase { url in
            await #expect {
                _ = try await PostgresStore(url: url, access: .existing).heartbeats()
            } throws: { error in
                (error as? StoreError)?.reason.contains("no Forewarn schema in this database") == true
            }
            _ = try await PostgresStore(url: url, access: .create).heartbeats()
            let reader = try PostgresStore(url: url, access: .readOnly)
            #expect(try await reader.heartbeats().isEmpty)
            await #expect {
                try await reader.enqueue(.maintenanceEnd("MW1", at: Date()), at: Date())
            } throws: { error in
                (error as? StoreError)?.reason.contains("read-only transaction") == true
            }
        }
    }

    @Test func theCLIAppliesCommandsOnlyWhileNoInstanceHoldsTheCorrelator() async throws {
        try await Self.withDatabase { url in
            let daemon = try PostgresStore(url: url, access: .daemon)
            _ = try await daemon.heartbeats()
            let lock = daemon.sessionLock(ClusterLockName.correlator)
            #expect(await lock.acquire())
            #expect(try await StoreFactory.openUnlessDaemonRuns(url) == nil)
            await lock.release()
            let cli = try #require(try await StoreFactory.openUnlessDaemonRuns(url))
            // Now the CLI holds it: an instance starting meanwhile waits for it.
            #expect(await !lock.acquire())
            withExtendedLifetime(cli) {}
        }
    }

    @Test func aSessionLockIsOneHoldersAndFreedWhenItsSessionEnds() async throws {
        try await Self.withDatabase { url in
            let store = try PostgresStore(url: url, access: .create)
            let first = store.sessionLock("correlator"), second = store.sessionLock("correlator")
            #expect(await first.acquire())
            #expect(await first.acquire())  // again: still this session's
            #expect(await !second.acquire())
            #expect(await first.isHeld())
            #expect(await store.sessionLock("instance noc-b").acquire())  // another name, another lock
            // The holder's session ends under it (killed on the server, as when its host goes).
            try await TestPostgres.run(url, """
                SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()
                """)
            var freed = false
            for _ in 0..<50 where !freed {
                freed = await second.acquire()
                if !freed { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(freed)
            #expect(await first.isHeld() == false)
        }
    }

    @Test func membersAreAgedByTheStoresClockAndTheQueueKeepsEachInstancesOrder() async throws {
        try await Self.withDatabase { url in
            let store = try PostgresStore(url: url, access: .create)
            let started = Date(unixMilliseconds: Date().unixMilliseconds)
            try await store.beat(ClusterMember(instance: "noc-a", hostname: "h1", pid: 1, startedAt: started, role: .correlator,
                                               elements: 10, lines: 100))
            try await store.beat(ClusterMember(instance: "noc-b", hostname: "h2", pid: 2, startedAt: started, role: .poller,
                                               elements: 12, lines: 90, leaving: true))
            let members = try await store.members()
            #expect(members.map(\.instance) == ["noc-a", "noc-b"])
            #expect(members.allSatisfy { $0.age < .seconds(5) })
            #expect(members[1].leaving && members[1].role == .poller && members[1].startedAt == started)
            try await store.removeMember("noc-b")
            #expect(try await store.members().map(\.instance) == ["noc-a"])

            let wake = store.notifications(.observations)
            var ticks = wake.makeAsyncIterator()
            _ = await ticks.next()  // listening
            func observation(_ line: String, _ second: Double) -> Observation {
                Observation(subject: .line(LineID(line)), kind: .state(.down), since: StoreContractTests.at(second),
                            observedAt: StoreContractTests.at(second + 1), source: .probe, detail: "3 lost rounds")
            }
            #expect(try await store.lastObservationNumber(of: "noc-b") == 0)
            try await store.enqueueObservations([observation("L1", 1), observation("L2", 2)], from: "noc-b", firstNumber: 1)
            #expect(await ticks.next() != nil)  // notified
            try await store.enqueueObservations([observation("L3", 3)], from: "noc-c", firstNumber: 1)
            try await store.enqueueObservations([observation("L4", 4)], from: "noc-b", firstNumber: 3)
            #expect(try await store.lastObservationNumber(of: "noc-b") == 3)
            let all = try await store.queuedObservations(after: [:], limit: 10)
            #expect(all.filter { $0.instance == "noc-b" }.map(\.number) == [1, 2, 3])
            #expect(all.compactMap(\.observation) .count == 4 && all.contains { $0.observation == observation("L3", 3) })
            #expect(try await store.queuedObservations(after: ["noc-b": 2, "noc-c": 1], limit: 10).map(\.number) == [3])
            try await store.trimObservations(upTo: ["noc-b": 2])
            #expect(try await store.queuedObservations(after: [:], limit: 10).map { "\($0.instance)#\($0.number)" }.sorted()
                    == ["noc-b#3", "noc-c#1"])

            try await store.sendRequests([ClusterRequest(instance: "noc-b", kind: .poll("agg1", ifIndex: 3, reason: "linkDown trap")),
                                          ClusterRequest(instance: "noc-c", kind: .probe("L1")),
                                          ClusterRequest(instance: "noc-b", kind: .probe("L2"))])
            #expect(try await store.takeRequests(for: "noc-b").map(\.kind) == [.poll("agg1", ifIndex: 3, reason: "linkDown trap"), .probe("L2")])
            #expect(try await store.takeRequests(for: "noc-b").isEmpty)
            #expect(try await store.takeRequests(for: "noc-c").map(\.kind) == [.probe("L1")])
        }
    }

    @Test func storeCopyMovesEveryRowVerifiedAndTheCopyCarriesOn() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let sqlite = try StoreFactory.open(temporary.path, access: .create)
        try await Self.fill(sqlite)
        try await Self.withDatabase { url in
            let report = try await StoreCopy.copy(from: temporary.path, to: url)
            let counts = Dictionary(uniqueKeysWithValues: report.tables.map { ($0.name, $0.rows) })
            #expect(counts["incident"] == 3 && counts["incident_line"] == 5 && counts["ticket_outbox"] == 3, "\(counts)")
            #expect(counts["credit_ledger"] == 3 && counts["credit_period"] == 1 && counts["daemon_heartbeat"] == 2, "\(counts)")
            #expect(counts["operator_command"] == 2 && counts["maintenance_window"] == 1 && counts["ticket"] == 1, "\(counts)")
            #expect(counts["state_transition"] == 2 && counts["fault"] == 1 && counts["incident_event"] == 2, "\(counts)")

            // What the stages read is the same from either store.
            let postgres = try StoreFactory.open(url, access: .existing)
            #expect(try await postgres.incidents(openOnly: false, since: nil) == (try await sqlite.incidents(openOnly: false, since: nil)))
            #expect(try await postgres.incident(IncidentID(2)) == (try await sqlite.incident(IncidentID(2))))
            #expect(try await postgres.heartbeats() == (try await sqlite.heartbeats()))
            #expect(try await postgres.ledger(period: "2026-11") == (try await sqlite.ledger(period: "2026-11")))
            #expect(try await postgres.closedCreditPeriod("2026-10") == (try await sqlite.closedCreditPeriod("2026-10")))
            #expect(try await postgres.outbox(.pending, limit: 10) == (try await sqlite.outbox(.pending, limit: 10)))
            #expect(try await postgres.outbox(.delivered, limit: 10) == (try await sqlite.outbox(.delivered, limit: 10)))
            #expect(try await postgres.maintenanceWindows() == (try await sqlite.maintenanceWindows()))
            #expect(try await postgres.pendingCommands(limit: 10).map(\.id) == (try await sqlite.pendingCommands(limit: 10).map(\.id)))
            let from = StoreContractTests.at(-3600), to = StoreContractTests.at(7200)
            #expect(try await postgres.lineOutageIntervals(from: from, to: to, lines: nil).intervals
                    == (try await sqlite.lineOutageIntervals(from: from, to: to, lines: nil).intervals))
            #expect(try await postgres.transitions(of: nil, since: from) == (try await sqlite.transitions(of: nil, since: from)))

            // Ids go on after the copied ones: incidents from the allocator, rows from their sequences.
            #expect(try await postgres.reserveIncidentIDs(1) == (try await sqlite.reserveIncidentIDs(1)))
            let next = try await postgres.enqueue(.maintenanceEnd("MW1", at: StoreContractTests.at(100)), at: StoreContractTests.at(100))
            #expect(next == 3)

            // Into a database that holds data: refused, nothing written.
            await #expect {
                _ = try await StoreCopy.copy(from: temporary.path, to: url)
            } throws: { error in
                (error as? StoreError)?.reason.contains("already holds data") == true
            }
        }
    }

    @Test func aValueThatDoesNotFitIsRefusedNamingItsRowAndNothingIsCopied() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let sqlite = try StoreFactory.open(temporary.path, access: .create)
        try await Self.fill(sqlite)
        let queue = try DatabaseQueue(path: temporary.path)
        try await queue.write { db in try db.execute(sql: "UPDATE incident SET planned = 'yes' WHERE id = 2") }
        try queue.close()
        try await Self.withDatabase { url in
            await #expect {
                _ = try await StoreCopy.copy(from: temporary.path, to: url)
            } throws: { error in
                (error as? StoreError)?.reason.contains("table incident, id 2: column planned holds \"yes\", which is not a boolean") == true
            }
            let target = try PostgresStore(url: url, access: .existing)
            #expect(try await target.incidents(openOnly: false, since: nil).isEmpty)
        }
    }

    @Test func storeCopyRefusesAStoreADaemonRunsOn() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let daemon = try StoreFactory.open(temporary.path, access: .daemon)
        try await Self.withDatabase { url in
            await #expect {
                _ = try await StoreCopy.copy(from: temporary.path, to: url)
            } throws: { error in
                (error as? StoreError)?.reason.contains("a daemon runs on this store") == true
            }
        }
        withExtendedLifetime(daemon) {}
    }

    /// Three incidents (one merged into another, one resolved), their lines, faults, timeline,
    /// outbox and ticket, transitions, heartbeats, commands and a window, a ledger and a closed
    /// period with its CSV.
    static func fill(_ store: any Store) async throws {
        typealias C = StoreContractTests
        try await C.open(1, in: store)
        try await C.open(2, in: store, hooks: ["rt", "chat"])
        var merged = C.incident(3, state: .resolved, resolvedAt: C.at(30))
        merged.mergedInto = IncidentID(2)
        try await store.record(CorrelationBatch(changes: [
            IncidentChange(kind: .resolve, incident: merged,
                           lines: [LineInterval(line: "L9", customer: "C9", start: C.at(1), end: C.at(30))]),
        ], at: C.at(30)))
        _ = try await store.reserveIncidentIDs(3)
        let claimed = try await store.claimOutbox(limit: 1, now: C.at(40), lease: .seconds(30))
        try await store.markDone([claimed[0].id], at: C.at(41), outcome: .sent, note: nil,
                                 ticket: TicketUpdate(ticketID: "RT#17", state: "new"))
        try await store.appendTransitions([
            StateTransition(subject: .element("agg1"), from: .up, to: .down, at: C.at(0), evidence: "poll timeout"),
            StateTransition(subject: .port("agg1", .ifName("ge-0/0/1")), from: .up, to: .down, at: C.at(2), evidence: "ünïcode ✓"),
        ])
        for (instance, health) in [("noc-a", CollectionHealth(elementsReachable: 3, pollsPerSecond: 1.25, lastTrapAt: C.at(3))),
                                   ("noc-b", nil)] as [(String, CollectionHealth?)] {
            try await store.writeHeartbeat(Heartbeat(
                instance: instance, pid: 7, hostname: "noc1", version: "0.1.0", configPath: "/etc/f.yaml", startedAt: C.at(0),
                beatAt: C.at(5), state: .running, elements: 3, lines: 20, customers: 10, contracts: 2,
                configLoadedAt: C.at(0), interval: .seconds(5), collection: health))
        }
        _ = try await store.enqueue(.maintenanceAdd(MaintenanceWindow(id: "MW1", start: C.at(0), end: C.at(3600),
                                                                      elements: ["agg1"], lines: ["L1"], reason: "swap")),
                                    at: C.at(1))
        _ = try await store.enqueue(.reportCall(CustomerReport(line: "L1", at: C.at(2), note: "down", source: "cli")), at: C.at(2))
        try await store.appendLedger([StoreContractTests.ledgerEntry("2026-11", "L1", 4_000),
                                      StoreContractTests.ledgerEntry("2026-11", "L2", 1_250, adjusts: "2026-10")])
        try await store.closeCreditPeriod(ClosedCreditPeriod(period: "2026-10", closedAt: C.at(20), document: "{\"rows\":[]}\n",
                                                             csv: Array("line;amount\r\nL1;40,00\r\n".utf8) + [0, 255]),
                                          entries: [StoreContractTests.ledgerEntry("2026-10", "L1", 100)])
    }
}

extension TestPostgres {
    /// Runs one statement on a test database.
    static func run(_ databaseURL: String, _ sql: String) async throws {
        let components = try #require(URLComponents(string: databaseURL))
        let configuration = PostgresConnection.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: components.user ?? "forewarn",
            password: nil, database: String(components.path.dropFirst()), tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 2, logger: logger)
        defer { Task { try? await connection.close() } }
        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }
}
