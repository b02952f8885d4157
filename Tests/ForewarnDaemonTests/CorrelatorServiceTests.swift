import ForewarnConfig
@testable import ForewarnDaemon
import ForewarnModel
import Foundation
import Logging
import ServiceLifecycle
import Persistence
import Reports
import Stores
import Synchronization
import Testing

/// The service around the correlator, against a real store file: sources' observations and
/// queued operator commands end up as incidents, outbox rows and processed commands.
@Suite struct CorrelatorServiceTests {
    final class Recorder: ConfirmationRequester, @unchecked Sendable {
        // @unchecked: every access to `requests` holds `lock`.
        private let lock = NSLock()
        private var requests: [ConfirmationRequest] = []
        func requestConfirmation(_ request: ConfirmationRequest) { lock.withLock { requests.append(request) } }
        var all: [ConfirmationRequest] { lock.withLock { requests } }
    }

    static func configuration() -> Configuration {
        let elements = [
            Element(id: "core", name: "core", address: .v4(1), kind: .core),
            Element(id: "acc1", name: "acc1", address: .v4(2), kind: .access, upstream: ["core"]),
        ]
        let lines = (1...5).map { number in
            Line(id: LineID("L\(number)"), customer: CustomerID("C\(number)"), element: "acc1", port: nil,
                 probe: .none, target: nil, contract: nil, service: .data)
        }
        return Configuration(source: "test.yaml", daemon: DaemonSettings(), elements: elements, lines: lines,
                             hooks: [Hook(id: "rt", target: .webhook(url: "http://127.0.0.1:1/"), events: [.open])],
                             correlation: CorrelationSettings(holdDown: .milliseconds(100)))
    }

    /// Waits for a condition the service reaches asynchronously; fails after a generous bound
    /// (the bound is a safety net, not what is tested).
    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<500 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test func observationsAndCommandsBecomeIncidentsAndShutdownWritesEverything() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-service-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try StoreFactory.open(folder + "/forewarn.sqlite", access: .create)
        let now = Date()
        _ = try await store.enqueue(.reportCall(CustomerReport(line: "L2", at: now, note: "down", source: "cli")), at: now)
        _ = try await store.enqueue(.action(OperatorAction(incident: IncidentID(42), kind: .acknowledge, by: "eva",
                                                           at: now)), at: now)

        var timing = CorrelatorTiming()
        timing.tick = .milliseconds(20)
        timing.commandPoll = .milliseconds(20)
        let recorder = Recorder()
        let service = CorrelatorService(store: store, current: CurrentConfiguration(Self.configuration()), requesters: [recorder],
                                        timing: timing, logger: Logger(label: "test"))
        let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
        let running = Task { try await group.run() }

        #expect(try await eventually { try await store.pendingCommands(limit: 10).isEmpty })
        #expect(try await eventually { try await store.incidents(openOnly: true, since: nil).count == 1 })
        // The core's incident opens after the hold-down and absorbs the call's.
        service.submit(Observation(subject: .element("core"), kind: .state(.down), since: now, observedAt: now,
                                   source: .poll, detail: "3 polls timed out"))
        #expect(try await eventually {
            try await store.incidents(openOnly: true, since: nil).first?.incident.root.subject == .element("core")
        })
        await group.triggerGracefulShutdown()
        try await running.value

        let open = try await store.incidents(openOnly: true, since: nil)
        #expect(open.count == 1)
        #expect(open.first?.lines.count == 5)
        #expect(open.first?.incident.firstCallAt != nil)
        #expect(recorder.all.contains(.probeLine("L2")))
        #expect(recorder.all.contains(.pollElement("acc1")))

        // Restarted: the same incident continues.
        let again = CorrelatorService(store: store, current: CurrentConfiguration(Self.configuration()), timing: timing,
                                      logger: Logger(label: "test"))
        let secondGroup = ServiceGroup(services: [again], logger: Logger(label: "test"))
        let second = Task { try await secondGroup.run() }
        again.submit(Observation(subject: .element("core"), kind: .state(.up), since: now.addingTimeInterval(1),
                                 observedAt: now.addingTimeInterval(1), source: .poll, detail: "answers"))
        #expect(try await eventually { try await store.incidents(openOnly: true, since: nil).count <= 1 })
        await secondGroup.triggerGracefulShutdown()
        try await second.value
        let all = try await store.incidents(openOnly: false, since: nil)
        #expect(all.filter { $0.incident.mergedInto == nil }.count == 1)
    }
}

extension CorrelatorServiceTests {
    @Test func reloadRebuildsOnTheNewInventoryAndKeepsTheIncidents() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-reload-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try StoreFactory.open(folder + "/forewarn.sqlite", access: .create)
        var timing = CorrelatorTiming()
        timing.tick = .milliseconds(20)
        timing.commandPoll = .milliseconds(20)
        let current = CurrentConfiguration(Self.configuration())
        let service = CorrelatorService(store: store, current: current, timing: timing, logger: Logger(label: "test"))
        let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        let now = Date()
        service.submit(Observation(subject: .element("core"), kind: .state(.down), since: now, observedAt: now,
                                   source: .poll, detail: "down"))
        #expect(try await eventually { try await store.incidents(openOnly: true, since: nil).first?.lines.count == 5 })

        // The inventory grows by an element and a line behind the failed core.
        var larger = Self.configuration()
        larger.elements.append(Element(id: "acc2", name: "acc2", address: .v4(3), kind: .access, upstream: ["core"]))
        larger.lines.append(Line(id: "L9", customer: "C9", element: "acc2", port: nil, probe: .none, target: nil,
                                 contract: nil, service: .data))
        current.replace(with: larger)
        #expect(try await eventually { current.generation == 1 })
        service.submit(Observation(subject: .element("acc2"), kind: .state(.down), since: now, observedAt: now,
                                   source: .poll, detail: "down"))
        #expect(try await eventually {
            try await store.incidents(openOnly: true, since: nil).first?.lines.contains { $0.line == "L9" } == true
        })
        await group.triggerGracefulShutdown()
        try await running.value
        let all = try await store.incidents(openOnly: false, since: nil)
        #expect(all.count == 1)
    }
}

/// The `forewarn incidents --json` contract (docs/incidents-json.md).
@Suite struct IncidentListTests {
    @Test func jsonHasEveryContractKeyWithNullsForWhatIsNotKnown() throws {
        let start = Date(unixMilliseconds: 1_800_000_000_000)
        let incident = Incident(id: IncidentID(7), root: IncidentRoot(subject: .port("agg1", .ifName("ge-0/0/3")), kind: .down),
                                group: "ports:agg1", severity: .minor, startedAt: start,
                                detectedAt: start.addingTimeInterval(3), updatedAt: start.addingTimeInterval(3))
        let record = IncidentRecord(incident: incident, lines: [
            LineInterval(line: "L2", customer: "C2", start: start, end: start.addingTimeInterval(60)),
            LineInterval(line: "L1", customer: "C1", start: start),
        ])
        let parsed = try JSONSerialization.jsonObject(with: Data(IncidentList.json([record]).utf8)) as? [[String: Any]]
        let object = try #require(parsed?.first)
        for key in ["id", "state", "root", "lines", "customers", "severity", "planned", "proactive", "classification",
                    "started_at", "detected_at", "ticketed_at", "first_call_at", "resolved_at", "ticket"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["id"] as? Int == 7)
        #expect(object["state"] as? String == "open")
        #expect(object["root"] as? [String: String] == ["type": "port", "id": "agg1/ge-0/0/3", "kind": "down"])
        #expect(object["customers"] as? [String] == ["C1", "C2"])
        #expect(object["started_at"] as? String == "2027-01-15T08:00:00.000Z")
        #expect(object["resolved_at"] is NSNull)
        #expect(object["ticket"] is NSNull)
        let lines = try #require(object["lines"] as? [[String: Any]])
        #expect(lines.count == 2)
        #expect(lines[0]["end"] as? String == "2027-01-15T08:01:00.000Z")
        #expect(lines[1]["end"] is NSNull)
    }
}

@Suite struct CustomerCallIntakeTests {
    let lines: Set<LineID> = ["L1", "L2"]
    let now = Date(unixMilliseconds: 1_800_000_000_000)

    func parse(_ text: String) -> Result<CustomerReport, CustomerCallIntake.Response> {
        CustomerCallIntake.parse(body: Data(text.utf8), lines: lines, now: now)
    }

    @Test func acceptsACallAndQueuesIt() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-intake-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try StoreFactory.open(folder + "/forewarn.sqlite", access: .create)
        let response = await CustomerCallIntake.accept(
            body: Data(#"{"line": "L2", "at": "2027-01-15T07:59:00Z", "note": "no dial tone"}"#.utf8),
            lines: lines, store: store, now: now)
        #expect(response == CustomerCallIntake.Response(status: 202, body: #"{"line":"L2","queued":1}"#))
        let queued = try await store.pendingCommands(limit: 10)
        #expect(queued.map(\.command) == [.reportCall(CustomerReport(line: "L2", at: now.addingTimeInterval(-60),
                                                                      note: "no dial tone", source: "http"))])
    }

    @Test func refusesWithAReason() throws {
        #expect(try parse(#"{"line": "L1"}"#).get() == CustomerReport(line: "L1", at: now, note: "", source: "http"))
        let cases: [(String, Int, String)] = [
            ("[1]", 400, #"{"error":"the body must be a JSON object such as {\"line\": \"L-000001\"}"}"#),
            (#"{"line": "L1", "when": "now"}"#, 400, #"{"error":"unknown key 'when' (allowed: line, at, note)"}"#),
            (#"{"note": "x"}"#, 400, #"{"error":"'line' is required: the line's id as a string"}"#),
            (#"{"line": "L9"}"#, 404, #"{"error":"unknown line 'L9'"}"#),
            (#"{"line": "L1", "at": "yesterday"}"#, 400,
             #"{"error":"'at' must be an RFC 3339 time such as 2026-12-01T08:30:00Z"}"#),
            (#"{"line": "L1", "note": 5}"#, 400, #"{"error":"'note' must be a string"}"#),
        ]
        for (body, status, message) in cases {
            guard case .failure(let response) = parse(body) else {
                Issue.record("accepted \(body)")
                continue
            }
            #expect(response.status == status, "\(body)")
            #expect(response.body == message, "\(body)")
        }
    }
}

/// The service decides on the clock it is given: on a manual clock an hour's hold-down passes
/// when the test says so, and ids come from the store's one allocator.
@Suite struct CorrelatorServiceVirtualTimeTests {
    @Test func anHoursHoldDownPassesInVirtualTimeAndIDsComeFromTheStore() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-virtual-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try StoreFactory.open(folder + "/forewarn.sqlite", access: .create)
        // An id taken by someone else (the CLI, another instance) before the daemon starts.
        let taken = try await store.reserveIncidentIDs(1)
        var configuration = CorrelatorServiceTests.configuration()
        configuration.correlation.holdDown = .seconds(3600)
        let clock = ManualClock()
        let epoch = Date(unixMilliseconds: 1_800_000_000_000)
        let service = CorrelatorService(store: store, current: CurrentConfiguration(configuration),
                                        clock: clock, wallClock: { epoch }, logger: Logger(label: "test"))
        let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        // Running: the ticker and the command poller asleep on the manual clock.
        #expect(try await CorrelatorServiceTests().eventually { clock.sleepers == 2 })

        service.submit(Observation(subject: .element("acc1"), kind: .state(.down), since: epoch, observedAt: epoch,
                                   source: .poll, detail: "3 polls timed out"))
        // Virtual minutes pass until the hold-down is over (real time: milliseconds).
        #expect(try await CorrelatorServiceTests().eventually {
            clock.advance(by: .seconds(60))
            return try await store.incidents(openOnly: true, since: nil).first?.lines.count == 5
        })
        #expect(clock.now.offset >= .seconds(3600))
        let incident = try #require(try await store.incidents(openOnly: true, since: nil).first?.incident)
        #expect(incident.root == IncidentRoot(subject: .element("acc1"), kind: .unreachable))
        #expect(incident.id.rawValue > taken.lowerBound)
        #expect(incident.startedAt == epoch)

        await group.triggerGracefulShutdown()
        try await running.value
        // The ids reserved and not used went back: the next one follows the incident's.
        #expect(try await store.reserveIncidentIDs(1).lowerBound == incident.id.rawValue + 1)
    }
}

/// A store that refuses correlator batches while `failing` is set, and counts the attempts.
final class RefusingIncidentStore: IncidentStore, CommandStore {
    let inner: any Store
    let failing = Mutex(true)
    let attempts = Mutex(0)

    init(_ inner: any Store) { self.inner = inner }

    var location: String { inner.location }

    func record(_ batch: CorrelationBatch) async throws(StoreError) {
        attempts.withLock { $0 += 1 }
        if failing.withLock({ $0 }) {
            throw StoreError(location: location, operation: "record", reason: "database or disk is full")
        }
        try await inner.record(batch)
    }

    func recoverIncidents() async throws(StoreError) -> IncidentRecovery { try await inner.recoverIncidents() }
    func reserveIncidentIDs(_ count: Int) async throws(StoreError) -> Range<Int64> { try await inner.reserveIncidentIDs(count) }
    func releaseIncidentIDs(_ unused: Range<Int64>) async throws(StoreError) { try await inner.releaseIncidentIDs(unused) }
    func incidents(openOnly: Bool, since: Date?) async throws(StoreError) -> [IncidentRecord] {
        try await inner.incidents(openOnly: openOnly, since: since)
    }
    func incident(_ id: IncidentID) async throws(StoreError) -> IncidentDetail? { try await inner.incident(id) }
    func enqueue(_ command: OperatorCommand, at: Date) async throws(StoreError) -> Int64 { try await inner.enqueue(command, at: at) }
    func pendingCommands(limit: Int) async throws(StoreError) -> [QueuedCommand] { try await inner.pendingCommands(limit: limit) }
    func maintenanceWindows() async throws(StoreError) -> [MaintenanceWindow] { try await inner.maintenanceWindows() }
    func manualIncidents(startingFrom: Date, to: Date) async throws(StoreError) -> [IncidentRecord] {
        try await inner.manualIncidents(startingFrom: startingFrom, to: to)
    }
    func commandResult(_ id: Int64) async throws(StoreError) -> CommandResult? { try await inner.commandResult(id) }
}

/// A store that refuses the correlator's batches is tried again with back-off, not at every
/// tick (five times a second, each time with the whole batch), and gets the batch once it
/// takes writes again.
@Suite struct CorrelatorServiceBackOffTests {
    @Test func aRefusingStoreIsRetriedWithBackOffInVirtualTimeAndWrittenWhenItRecovers() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-backoff-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = RefusingIncidentStore(try StoreFactory.open(folder + "/forewarn.sqlite", access: .create))
        let clock = ManualClock()
        let epoch = Date(unixMilliseconds: 1_800_000_000_000)
        let health = StoreHealth(location: store.location)
        let service = CorrelatorService(store: store, current: CurrentConfiguration(CorrelatorServiceTests.configuration()),
                                        clock: clock, wallClock: { epoch }, storeHealth: health, logger: Logger(label: "test"))
        let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        #expect(try await CorrelatorServiceTests().eventually { clock.sleepers == 2 })

        service.submit(Observation(subject: .element("acc1"), kind: .state(.down), since: epoch, observedAt: epoch,
                                   source: .poll, detail: "3 polls timed out"))
        // Two virtual minutes of 200 ms ticks.
        for _ in 0..<600 {
            clock.advance(by: .milliseconds(200))
            _ = try await CorrelatorServiceTests().eventually { clock.sleepers == 2 }
        }
        let attempts = store.attempts.withLock { $0 }
        #expect(attempts >= 5 && attempts <= 10, "\(attempts) attempts to write in two minutes")
        #expect(health.problem?.contains("incident changes") == true)

        store.failing.withLock { $0 = false }
        #expect(try await CorrelatorServiceTests().eventually {
            clock.advance(by: .milliseconds(200))
            return try await store.incidents(openOnly: true, since: nil).count == 1
        })
        #expect(health.problem == nil)
        await group.triggerGracefulShutdown()
        try await running.value
    }
}
