#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GRDB
import Store
import Testing

/// The real binary: a customer's call becomes an incident, operators act on it through the
/// CLI, and after `kill -9` the restarted daemon continues the same incident.
@Suite(.serialized) struct IncidentCommandTests {
    static let configuration = """
        daemon:
          store: unused.sqlite
          heartbeat_interval: 1s
        elements:
          - {id: core, address: 192.0.2.1, kind: core}
          - {id: acc1, address: 192.0.2.2, kind: access, upstream: [{element: core, port: ge-0/0/1, peer_port: xe-1/0/1}]}
        customers:
          - {id: C1}
          - {id: C2}
        lines:
          - {id: L1, customer: C1, element: acc1, probe: none}
          - {id: L2, customer: C2, element: acc1, probe: none}
        hooks:
          - {id: rt, kind: webhook, url: "http://127.0.0.1:9/rt"}
        correlation:
          hold_down: 1s

        """

    func cli(_ fixture: DaemonFixture, _ arguments: [String]) throws -> ForewarnBinary.Result {
        try ForewarnBinary.run(arguments + ["--config", fixture.configPath, "--store", fixture.storePath])
    }

    func incidents(_ fixture: DaemonFixture) throws -> [[String: Any]] {
        let result = try cli(fixture, ["incidents", "--json"])
        return (try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]]) ?? []
    }

    /// Waits until the daemon has taken every queued command (a bound, not what is tested).
    func commandsTaken(_ fixture: DaemonFixture) async throws -> Bool {
        let store = try SQLiteStore(readingExisting: fixture.storePath)
        for _ in 0..<200 {
            if try await store.pendingCommands(limit: 1).isEmpty { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func callAcknowledgeKillRestartContinueResolve() async throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        try fixture.writeRaw(Self.configuration)
        let notify = try NotifySocket(folder: fixture.folder)
        var daemon = try RunningDaemon(fixture, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)

        let call = try cli(fixture, ["report-call", "--line", "L1", "--note", "no service since 8:00"])
        #expect(call.status == 0, "\(call.errors)")
        #expect(try cli(fixture, ["report-call", "--line", "L9"]).errors.contains("unknown line 'L9'"))
        #expect(try await commandsTaken(fixture))
        var list = try incidents(fixture)
        #expect(list.count == 1)
        let incident = try #require(list.first)
        #expect(incident["id"] as? Int == 1)
        #expect(incident["root"] as? [String: String] == ["type": "line", "id": "L1", "kind": "customer-report"])
        #expect(incident["proactive"] as? Bool == false)
        #expect(incident["first_call_at"] is String)
        #expect((incident["lines"] as? [[String: Any]])?.first?["id"] as? String == "L1")

        #expect(try cli(fixture, ["incident", "ack", "1", "--by", "eva"]).status == 0)
        #expect(try cli(fixture, ["incident", "classify", "1", "customer-caused"]).status == 0)
        #expect(try cli(fixture, ["incident", "classify", "1", "aliens"]).status != 0)
        #expect(try await commandsTaken(fixture))

        // kill -9, then a new daemon on the same store.
        daemon.signal(SIGKILL)
        _ = daemon.waitForExit()
        daemon = try RunningDaemon(fixture, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)
        #expect(try cli(fixture, ["report-call", "--line", "L1", "--note", "still down"]).status == 0)
        #expect(try await commandsTaken(fixture))
        list = try incidents(fixture)
        #expect(list.count == 1)
        #expect(list.first?["state"] as? String == "open")
        #expect(list.first?["acknowledged_at"] is String)
        #expect(list.first?["classification"] as? String == "customer-caused")

        #expect(try cli(fixture, ["incident", "resolve", "1", "--note", "CPE replaced"]).status == 0)
        #expect(try await commandsTaken(fixture))
        list = try incidents(fixture)
        #expect(list.first?["state"] as? String == "resolved")
        #expect((list.first?["lines"] as? [[String: Any]])?.first?["end"] is String)
        #expect(try cli(fixture, ["incidents", "--open"]).output.contains("no incidents"))
        let shown = try cli(fixture, ["incident", "show", "1"]).output
        for kind in ["opened:", "customer-call:", "acknowledged: acknowledged by eva", "classified:", "manual-resolve:",
                     "resolved:"] {
            #expect(shown.contains(kind), "\(shown)")
        }
        #expect(try cli(fixture, ["incident", "show", "7"]).errors.contains("no incident #7"))

        let queue = try DatabaseQueue(path: fixture.storePath)
        let outbox: [String] = try await queue.read { db in
            try String.fetchAll(db, sql: "SELECT event FROM ticket_outbox WHERE incident_id = 1 ORDER BY id")
        }
        #expect(outbox.filter { $0 == "open" }.count == 1)
        #expect(outbox.last == "resolve")

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit().status == 0)
    }

    @Test func maintenanceAddAndList() throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        try fixture.writeRaw(Self.configuration)
        let added = try cli(fixture, ["maintenance", "add", "--id", "MW9", "--start", "2030-01-01T01:00:00Z",
                                      "--end", "2030-01-01T03:00:00Z", "--element", "acc1", "--reason", "swap"])
        #expect(added.status == 0, "\(added.errors)")
        let bad = try cli(fixture, ["maintenance", "add", "--id", "MW10", "--start", "2030-01-01T01:00:00Z",
                                    "--end", "2030-01-01T03:00:00Z", "--element", "nope"])
        #expect(bad.errors.contains("unknown element 'nope'"))
        let listed = try cli(fixture, ["maintenance", "list"])
        #expect(listed.output.contains("MW9 upcoming: 2030-01-01T01:00:00.000Z – 2030-01-01T03:00:00.000Z, element acc1 (operator): swap"),
                "\(listed.output)")
        #expect(try cli(fixture, ["maintenance", "end", "--id", "MW9", "--at", "2030-01-01T02:00:00Z"]).status == 0)
        #expect(try cli(fixture, ["maintenance", "list"]).output.contains("2030-01-01T01:00:00.000Z – 2030-01-01T02:00:00.000Z"))
        #expect(try cli(fixture, ["maintenance", "end", "--id", "MW0"]).errors.contains("no maintenance window 'MW0'"))
    }
}
