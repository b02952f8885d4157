#if canImport(Glibc)
import Glibc
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
import Persistence
import Stores
import Testing

/// The real binary: a customer's call becomes an incident, operators act on it through the
/// CLI, and after `kill -9` the restarted daemon continues the same incident.
@Suite(.serialized) struct IncidentCommandTests {
    /// Elements on loopback addresses where no agent answers, polled with a profile that waits
    /// longer than any of these tests runs (so that no element is found unreachable while the
    /// tests look at incidents of customers' calls, however loaded the machine); listeners on
    /// free loopback ports.
    static func configuration(_ fixture: DaemonFixture) -> String { """
        daemon:
          store: unused.sqlite
          heartbeat_interval: 1s
          http_listen: 127.0.0.1:\(fixture.httpPort)
          trap_listen: 127.0.0.1:\(fixture.trapPort)
        snmp_profiles:
          - {id: patient, version: 2c, community: public, timeout: 60s, retries: 10}
        elements:
          - {id: core, address: 127.77.1.1, snmp_port: 16161, kind: core, snmp_profile: patient}
          - {id: acc1, address: 127.77.1.2, snmp_port: 16161, kind: access, snmp_profile: patient, upstream: [{element: core, port: ge-0/0/1, peer_port: xe-1/0/1}]}
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
    }

    func cli(_ fixture: DaemonFixture, _ arguments: [String]) throws -> ForewarnBinary.Result {
        try ForewarnBinary.run(arguments + ["--config", fixture.configPath, "--store", fixture.storePath])
    }

    func incidents(_ fixture: DaemonFixture) throws -> [[String: Any]] {
        let result = try cli(fixture, ["incidents", "--json"])
        return (try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]]) ?? []
    }

    /// Waits until the daemon has taken every queued command (a bound, not what is tested).
    func commandsTaken(_ fixture: DaemonFixture) async throws -> Bool {
        let store = try StoreFactory.open(fixture.storePath, access: .readOnly)
        for _ in 0..<200 {
            if try await store.pendingCommands(limit: 1).isEmpty { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func callAcknowledgeKillRestartContinueResolve() async throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        try fixture.writeRaw(Self.configuration(fixture))
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

        // The live status and the line view read who acknowledged and who called from what the
        // correlator wrote.
        let status = try cli(fixture, ["status", "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any])
        let open = try #require(((document["incidents"] as? [String: Any])?["list"] as? [[String: Any]])?.first)
        #expect((open["acknowledged"] as? [String: Any])?["by"] as? String == "eva", "\(open)")
        #expect(open["origin"] as? String == "customer-reported" && open["lines_out"] as? Int == 1)
        let line = try cli(fixture, ["line", "L1"]).output
        #expect(line.contains("KNOWN OUTAGE: incident #1 (minor), root L1 customer-report\n"), "\(line)")
        #expect(line.contains("  customer already called, logged "), "\(line)")
        #expect(try cli(fixture, ["line", "L2"]).output.contains("no open incident covers this line"))

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

    @Test func callIntakeOverHTTPOpensACustomerReportedIncident() async throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        // With a bearer token under `daemon:`.
        try fixture.writeRaw(Self.configuration(fixture).replacingOccurrences(
            of: "  http_listen: 127.0.0.1:\(fixture.httpPort)\n",
            with: "  http_listen: 127.0.0.1:\(fixture.httpPort)\n  http_token: \(fixture.httpToken)\n"))
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = try RunningDaemon(fixture, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)

        func post(_ body: String, token: String?) async throws -> (Int, String) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(fixture.httpPort)/api/v1/calls")!)
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            var lastError: (any Error)?
            for _ in 0..<50 {  // the listener may come up a moment after READY
                do {
                    let (data, response) = try await URLSession.shared.data(for: request)
                    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
                } catch {
                    lastError = error
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            throw lastError!
        }

        #expect(try await post(#"{"line": "L2", "note": "no dial tone"}"#, token: nil).0 == 401)
        let unknown = try await post(#"{"line": "L9"}"#, token: fixture.httpToken)
        #expect(unknown.0 == 404 || unknown.0 == 422, "\(unknown)")
        #expect(try await post("not json", token: fixture.httpToken).0 == 400)
        let accepted = try await post(#"{"line": "L2", "note": "no dial tone"}"#, token: fixture.httpToken)
        #expect(accepted.0 == 202, "\(accepted)")
        #expect(accepted.1.contains("\"line\":\"L2\"") || accepted.1.contains("\"line\" : \"L2\""), "\(accepted.1)")

        #expect(try await commandsTaken(fixture))
        let list = try incidents(fixture)
        #expect(list.count == 1)
        #expect(list.first?["root"] as? [String: String] == ["type": "line", "id": "L2", "kind": "customer-report"])
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit().status == 0)
    }

    @Test func maintenanceAddAndList() throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        try fixture.writeRaw(Self.configuration(fixture))
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
