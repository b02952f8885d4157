import Correlation
import ForewarnModel
import Foundation
import GRDB
import Persistence
import Stores
import StoreSQLite
import Testing
import Ticketing

/// Incidents through the store: one transaction per batch with its outbox rows, and a
/// correlator rebuilt from the file after a crash continues the same incidents.
@Suite struct IncidentPersistenceTests {
    static let epoch = Date(unixMilliseconds: 1_800_000_000_000)
    static let hooks = [Hook(id: "rt", target: .webhook(url: "http://127.0.0.1:1/rt"), events: Hook.Event.allCases),
                        Hook(id: "chat", target: .command(arguments: ["/bin/true"]), events: [.open])]

    static let topology: Topology = {
        let elements = [
            Element(id: "core", name: "core", address: .v4(1), kind: .core),
            Element(id: "agg1", name: "agg1", address: .v4(2), kind: .aggregation, upstream: ["core"]),
            Element(id: "acc1", name: "acc1", address: .v4(3), kind: .access, upstream: ["agg1"]),
            Element(id: "acc2", name: "acc2", address: .v4(4), kind: .access, upstream: ["agg1"]),
        ]
        let lines = (1...20).map { number in
            Line(id: LineID("L\(number)"), customer: CustomerID("C\(number)"),
                 element: ElementID(number <= 10 ? "acc1" : "acc2"), port: .ifIndex(1), probe: .icmp,
                 target: .v4(UInt32(100 + number)), contract: nil, service: .data)
        }
        return Topology(elements: elements, lines: lines)
    }()

    /// A daemon's correlator over a store, on a virtual clock: ids reserved in the store, outbox
    /// entries from the ticketing stage, as `CorrelatorService` does.
    struct Run {
        var correlator = Correlator<VirtualInstant>(topology: IncidentPersistenceTests.topology,
                                                    settings: CorrelationSettings(holdDown: .seconds(3)), epoch: VirtualInstant(),
                                                    epochDate: IncidentPersistenceTests.epoch)
        let store: SQLiteStore
        var now = VirtualInstant()
        var announcer = TicketAnnouncer()

        init(store: SQLiteStore) async throws {
            self.store = store
            try await supplyIDs()
        }

        mutating func supplyIDs() async throws {
            if correlator.incidentIDsAvailable < correlator.incidentIDsNeededAtMost {
                correlator.supplyIncidentIDs(try await store.reserveIncidentIDs(64))
            }
        }

        func date(_ seconds: Double) -> Date { IncidentPersistenceTests.epoch.addingTimeInterval(seconds) }

        mutating func persist(_ actions: [CorrelatorAction]) async throws {
            var batch = CorrelationBatch(at: date(now.offset.inSeconds))
            for action in actions {
                switch action {
                case .incident(let change): batch.changes.append(change)
                case .customerReportFiled(let report, let incident): batch.reports.append((report, incident))
                case .confirm, .rejected: break
                }
            }
            batch.outbox = announcer.announce(batch.changes, hooks: IncidentPersistenceTests.hooks)
            try await store.record(batch)
            try await supplyIDs()
        }

        mutating func observe(_ subject: Subject, _ health: Health, at seconds: Double) async throws {
            now = .seconds(seconds)
            let observation = Observation(subject: subject, kind: .state(health), since: date(seconds),
                                          observedAt: date(seconds), source: .poll, detail: "test")
            try await persist(correlator.handle(.observation(observation), now: now))
        }

        mutating func advance(to seconds: Double) async throws {
            now = .seconds(seconds)
            try await persist(correlator.tick(now: now))
        }
    }

    @Test func crashAndRestartContinueTheSameIncidents() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        do {
            var run = try await Run(store: try SQLiteStore(path: temporary.path, access: .create))
            try await run.observe(.element("agg1"), .down, at: 0)
            for number in 1...20 { try await run.observe(.line(LineID("L\(number)")), .down, at: 0.5) }
            try await run.advance(to: 4)
            run.now = .seconds(5)
            let call = CustomerReport(line: "L3", at: run.date(5), note: "no dial tone", source: "cli")
            try await run.persist(run.correlator.handle(.customerReport(call), now: run.now))
            // kill -9: the instance is dropped without any goodbye.
        }

        let store = try SQLiteStore(path: temporary.path, access: .create)
        let recovery = try await store.recoverIncidents()
        #expect(recovery.open.count == 1)
        // The ids reserved before the crash are never handed out again.
        #expect(try await store.reserveIncidentIDs(1).lowerBound > 64)
        let snapshot = try #require(recovery.open.first)
        #expect(snapshot.incident.root == IncidentRoot(subject: .element("agg1"), kind: .unreachable))
        #expect(snapshot.lines.count == 20)
        #expect(snapshot.faults.map(\.subject) == [.element("agg1")])

        var run = try await Run(store: store)
        run.announcer = TicketAnnouncer(recovered: recovery.scopes)
        run.now = .seconds(60)
        let recovered = run.correlator.recover(recovery.open, recentlyResolved: recovery.recentlyResolved, now: run.now)
        #expect(recovered.contains(.confirm(.pollElement("agg1"))))
        try await run.persist(recovered)
        // The sources report what they see again: same incident, no second ticket.
        try await run.observe(.element("agg1"), .down, at: 61)
        for number in 1...20 { try await run.observe(.line(LineID("L\(number)")), .down, at: 61) }
        try await run.advance(to: 70)
        try await run.observe(.element("agg1"), .up, at: 100)
        for number in 1...20 { try await run.observe(.line(LineID("L\(number)")), .up, at: 101) }

        let incidents = try await store.incidents(openOnly: false, since: nil)
        #expect(incidents.count == 1)
        let record = try #require(incidents.first)
        #expect(record.incident.id == snapshot.incident.id)
        #expect(record.incident.state == .resolved)
        #expect(record.incident.resolvedAt == run.date(101))
        #expect(record.incident.firstCallAt == run.date(5))
        #expect(record.incident.proactive)
        #expect(record.lines.count == 20)
        #expect(record.lines.allSatisfy { $0.start == run.date(0) && $0.end == run.date(101) })
        #expect(record.customers.count == 20)

        let queue = try DatabaseQueue(path: temporary.path)
        let outbox = try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT hook, event FROM ticket_outbox ORDER BY id").map {
                "\($0["hook"] as String):\($0["event"] as String)"
            }
        }
        #expect(outbox.filter { $0.hasSuffix(":open") } == ["rt:open", "chat:open"])
        #expect(outbox.last == "rt:resolve")
        let reports = try await queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM customer_report") }
        #expect(reports == 1)
        let events = try await queue.read { db in
            try String.fetchAll(db, sql: "SELECT kind FROM incident_event WHERE incident_id = 1 ORDER BY id")
        }
        #expect(events.first == "opened")
        #expect(events.contains("customer-call"))
        #expect(events.last == "resolved")
    }

    @Test func mergeMovesRowsAndAnnouncesBoth() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        var run = try await Run(store: try SQLiteStore(path: temporary.path, access: .create))
        // Two access routers failing 40 s apart (not one forwarding failure of agg1), each
        // announced once its scope settled; agg1 turns out to be the root later.
        try await run.observe(.element("acc1"), .down, at: 0)
        try await run.observe(.element("agg1"), .up, at: 0.5)
        try await run.observe(.element("acc2"), .up, at: 0.5)
        try await run.advance(to: 5)
        try await run.observe(.element("acc2"), .down, at: 40)
        try await run.observe(.element("agg1"), .up, at: 40.5)
        try await run.advance(to: 45)
        try await run.observe(.element("agg1"), .down, at: 50)
        try await run.advance(to: 55)

        let incidents = try await run.store.incidents(openOnly: false, since: nil)
        #expect(incidents.map(\.incident.id.rawValue) == [2, 1])
        let survivor = try #require(incidents.first { $0.incident.id == IncidentID(1) })
        let absorbed = try #require(incidents.first { $0.incident.id == IncidentID(2) })
        #expect(survivor.incident.root.subject == .element("agg1"))
        #expect(survivor.lines.count == 20)
        #expect(absorbed.incident.mergedInto == IncidentID(1))
        #expect(absorbed.lines.isEmpty)
        let open = try await run.store.incidents(openOnly: true, since: nil)
        #expect(open.map(\.incident.id) == [IncidentID(1)])

        let queue = try DatabaseQueue(path: temporary.path)
        let rows: [Row] = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT incident_id, event, payload FROM ticket_outbox WHERE hook = 'rt' ORDER BY id")
        }
        #expect(rows.map { "\($0["incident_id"] as Int64):\($0["event"] as String)" }
                == ["1:open", "2:open", "1:update", "2:resolve"])
        let update = try #require(rows.first { ($0["event"] as String) == "update" }?["payload"] as String?)
        #expect(update.contains("\"merged\":[2]"))
    }

    @Test func operatorCommandsRoundTrip() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let store = try SQLiteStore(path: temporary.path, access: .create)
        let at = Self.epoch
        let window = MaintenanceWindow(id: "MW7", start: at, end: at.addingTimeInterval(3600), elements: ["acc1"],
                                       lines: ["L3"], reason: "firmware")
        let commands: [OperatorCommand] = [
            .reportCall(CustomerReport(line: "L3", at: at, note: "slow", source: "cli")),
            .action(OperatorAction(incident: IncidentID(4), kind: .acknowledge, by: "eva", at: at)),
            .action(OperatorAction(incident: IncidentID(4), kind: .note("crew on site"), by: "eva", at: at)),
            .action(OperatorAction(incident: IncidentID(4), kind: .classify(.customerCaused), by: "eva", at: at)),
            .action(OperatorAction(incident: IncidentID(4), kind: .resolve(note: "done"), by: "eva", at: at)),
            .maintenanceAdd(window),
            .maintenanceEnd("MW7", at: at.addingTimeInterval(60)),
        ]
        for command in commands { _ = try await store.enqueue(command, at: at) }
        let pending = try await store.pendingCommands(limit: 100)
        #expect(pending.map(\.command) == commands)
        try await store.record(CorrelationBatch(processedCommands: [(pending[0].id, "ok")], at: at))
        #expect(try await store.pendingCommands(limit: 100).count == commands.count - 1)
        var ended = window
        ended.end = at.addingTimeInterval(60)
        #expect(try await store.maintenanceWindows() == [ended])
    }
}

