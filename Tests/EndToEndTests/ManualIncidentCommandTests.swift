#if canImport(Glibc)
import Glibc
#endif
import ForewarnModel
import Foundation
import GRDB
import Persistence
import Stores
import Testing

/// The real binary: incidents entered by hand, imported, corrected and resolved; with no daemon
/// running (the command applies them itself) and beside a running one (it applies them).
@Suite(.serialized) struct ManualIncidentCommandTests {
    static func configuration(_ fixture: DaemonFixture) -> String { """
        daemon:
          store: unused.sqlite
          heartbeat_interval: 1s
          http_listen: 127.0.0.1:\(fixture.httpPort)
          trap_listen: 127.0.0.1:\(fixture.trapPort)
        elements:
          - {id: core, address: 127.77.2.1, snmp_port: 16161, kind: core}
          - {id: acc1, address: 127.77.2.2, snmp_port: 16161, kind: access, upstream: [core]}
          - {id: acc2, address: 127.77.2.3, snmp_port: 16161, kind: access, upstream: [core]}
        customers:
          - {id: C1}
          - {id: C2}
          - {id: C3}
        lines:
          - {id: L1, customer: C1, element: acc1, probe: none, contract: K1}
          - {id: L2, customer: C2, element: acc1, probe: none, contract: K1}
          - {id: L3, customer: C3, element: acc2, probe: none, contract: K1}
        hooks:
          - {id: rt, kind: webhook, url: "http://127.0.0.1:9/rt"}
        correlation:
          hold_down: 1s
        credit_policies:
          - id: basic
            rules:
              - tiers:
                  - {below: 99.9, credit: 10}
        contracts:
          - {id: K1, monthly_fee: 49900, currency: CZK, availability_target: 99.9, credit_policy: basic}

        """
    }

    /// A fixture with this file's configuration and an empty store (as a daemon's first start leaves it).
    static func fixture() throws -> DaemonFixture {
        let fixture = try DaemonFixture()
        try fixture.writeRaw(configuration(fixture))
        _ = try StoreFactory.open(fixture.storePath, access: .create)
        return fixture
    }

    func cli(_ fixture: DaemonFixture, _ arguments: [String]) throws -> ForewarnBinary.Result {
        try ForewarnBinary.run(arguments + ["--config", fixture.configPath, "--store", fixture.storePath])
    }

    func incidents(_ fixture: DaemonFixture) throws -> [[String: Any]] {
        let result = try cli(fixture, ["incidents", "--json"])
        return (try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]]) ?? []
    }

    func incident(_ fixture: DaemonFixture, _ id: Int) throws -> [String: Any] {
        let result = try cli(fixture, ["incident", "show", "\(id)", "--json"])
        return (try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]) ?? [:]
    }

    func rows<T: DatabaseValueConvertible & Sendable>(_ fixture: DaemonFixture, _ sql: String) async throws -> [T] {
        let queue = try DatabaseQueue(path: fixture.storePath)
        return try await queue.read { db in try T.fetchAll(db, sql: sql) }
    }

    static func time(_ date: Date) -> String { RFC3339.format(date) }

    /// Instants `hours` before now, on the whole minute.
    static func ago(hours: Double) -> Date {
        Date(timeIntervalSince1970: ((Date().timeIntervalSince1970 - hours * 3_600) / 60).rounded(.down) * 60)
    }

    @Test func addEditResolveWithoutADaemon() async throws {
        let fixture = try Self.fixture()
        defer { fixture.remove() }
        let added = try cli(fixture, ["incident", "add", "--lines", "L1,L2", "--start", "2026-11-10 09:00",
                                      "--tz", "Europe/Prague", "--end", "2026-11-10T10:00:00Z", "--note", "fibre cut",
                                      "--first-call", "2026-11-10 09:20", "--by", "eva"])
        #expect(added.status == 0, "\(added.errors)")
        #expect(added.output.contains("incident #1 (2 lines from 2026-11-10T08:00:00.000Z to 2026-11-10T10:00:00.000Z): "
                                      + "done (no daemon running: applied here"), "\(added.output)")
        var first = try incident(fixture, 1)
        #expect(first["manual"] as? Bool == true)
        #expect(first["entered_by"] as? String == "eva")
        #expect(first["entered_at"] is String)
        #expect(first["state"] as? String == "resolved")
        #expect(first["root"] as? [String: String] == ["type": "line", "id": "L1", "kind": "manual"])
        #expect(first["started_at"] as? String == "2026-11-10T08:00:00.000Z")
        #expect(first["resolved_at"] as? String == "2026-11-10T10:00:00.000Z")
        #expect(first["first_call_at"] as? String == "2026-11-10T08:20:00.000Z")
        #expect(first["proactive"] as? Bool == false)
        #expect((first["lines"] as? [[String: String]])?.map { $0["id"]! + " " + $0["start"]! + " " + $0["end"]! }
                == ["L1 2026-11-10T08:00:00.000Z 2026-11-10T10:00:00.000Z",
                    "L2 2026-11-10T08:00:00.000Z 2026-11-10T10:00:00.000Z"])
        // Its ticket is opened (and resolved) like a detected incident's.
        #expect(try await rows(fixture, "SELECT event FROM ticket_outbox WHERE incident_id = 1 ORDER BY id") as [String]
                == ["open", "resolve"])

        // The same outage entered twice is refused.
        let again = try cli(fixture, ["incident", "add", "--lines", "L2,L1", "--start", "2026-11-10T08:00:00Z"])
        #expect(again.status == 1)
        #expect(again.errors.contains("already entered as incident #1"), "\(again.errors)")

        // An open one on an element: every line behind it; resolved by hand at a given time.
        let open = try cli(fixture, ["incident", "add", "--element", "acc1", "--start", "2026-11-11T08:00:00Z"])
        #expect(open.status == 0, "\(open.errors)")
        #expect(try incident(fixture, 2)["state"] as? String == "open")
        #expect(try cli(fixture, ["incident", "resolve", "2", "--at", "2026-11-11T07:00:00Z"]).errors
                    .contains("--at: line L1 is in incident #2 from 2026-11-11T08:00:00.000Z, after 2026-11-11T07:00:00.000Z"))
        let resolved = try cli(fixture, ["incident", "resolve", "2", "--at", "2026-11-11T09:00:00Z", "--note", "spliced"])
        #expect(resolved.status == 0, "\(resolved.errors)")
        let second = try incident(fixture, 2)
        #expect(second["state"] as? String == "resolved")
        #expect(Set((second["lines"] as? [[String: Any]])?.compactMap { $0["end"] as? String } ?? [])
                == ["2026-11-11T09:00:00.000Z"])

        // Corrections: old and new in the timeline.
        let edited = try cli(fixture, ["incident", "edit", "1", "--line", "L1", "--start", "2026-11-10T07:30:00Z",
                                       "--reason", "technician's log", "--by", "jan"])
        #expect(edited.status == 0, "\(edited.errors)")
        let classified = try cli(fixture, ["incident", "edit", "1", "--classification", "customer-caused",
                                           "--reason", "their CPE"])
        #expect(classified.status == 0, "\(classified.errors)")
        #expect(try cli(fixture, ["incident", "edit", "1", "--reason", "x"]).errors.contains("nothing to correct"))
        #expect(try cli(fixture, ["incident", "edit", "1", "--line", "L1", "--end", "2026-11-10T06:00:00Z",
                                  "--reason", "x"]).errors.contains("it must end after it starts"))
        first = try incident(fixture, 1)
        #expect(first["started_at"] as? String == "2026-11-10T07:30:00.000Z")
        #expect(first["classification"] as? String == "customer-caused")
        #expect((first["lines"] as? [[String: String]])?.map { $0["id"]! + " " + $0["start"]! }
                == ["L1 2026-11-10T07:30:00.000Z", "L2 2026-11-10T08:00:00.000Z"])
        let shown = try cli(fixture, ["incident", "show", "1"]).output
        for expected in ["manual (entered by eva", "entered: entered by hand by eva (command line): 2 lines (L1, L2)",
                         "note: fibre cut",
                         "edited: edited by jan: line L1 2026-11-10T08:00:00.000Z – 2026-11-10T10:00:00.000Z → "
                            + "2026-11-10T07:30:00.000Z – 2026-11-10T10:00:00.000Z; reason: technician's log",
                         "classification network → customer-caused; reason: their CPE"] {
            #expect(shown.contains(expected), "\(expected) in \(shown)")
        }

        // A ticket that exists already is recorded, and no ticket is opened.
        let ticketed = try cli(fixture, ["incident", "add", "--customer", "C3", "--start", "2026-11-12T08:00:00Z",
                                         "--end", "2026-11-12T08:30:00Z", "--ticket", "RT-5"])
        #expect(ticketed.status == 0, "\(ticketed.errors)")
        let ticket = try incident(fixture, 3)["ticket"] as? [String: Any]
        #expect(ticket?["id"] as? String == "RT-5")
        #expect(ticket?["state"] is NSNull)
        #expect(try await rows(fixture, "SELECT event FROM ticket_outbox WHERE incident_id = 3") as [String] == [])
        let results: [String] = try await rows(fixture, "SELECT result FROM operator_command ORDER BY id")
        #expect(results == ["ok", "ok", "ok", "ok", "ok", "ok"], "\(results)")
    }

    @Test func aRunningDaemonAppliesThemAndKeepsAnOpenOneAcrossKill9() async throws {
        let fixture = try Self.fixture()
        defer { fixture.remove() }
        let (hour, twoHours, threeHours) = (Self.ago(hours: 1), Self.ago(hours: 2), Self.ago(hours: 3))
        let notify = try NotifySocket(folder: fixture.folder)
        var daemon = try RunningDaemon(fixture, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)

        let added = try cli(fixture, ["incident", "add", "--lines", "L3", "--start", Self.time(twoHours),
                                      "--classification", "force-majeure"])
        #expect(added.status == 0, "\(added.errors)")
        #expect(added.output.contains("applied by the running daemon"), "\(added.output)")
        var list = try incidents(fixture)
        #expect(list.count == 1)
        let id = try #require(list.first?["id"] as? Int)  // the daemon holds a block of ids: not 1
        #expect(list.first?["manual"] as? Bool == true)
        #expect(list.first?["state"] as? String == "open")
        #expect(list.first?["classification"] as? String == "force-majeure")

        let edited = try cli(fixture, ["incident", "edit", "\(id)", "--line", "L3", "--start", Self.time(threeHours),
                                       "--reason", "the first alarm in the old system"])
        #expect(edited.output.contains("applied by the running daemon"), "\(edited.output) \(edited.errors)")

        let file = fixture.folder + "/history.csv"
        try """
            lines,start,end,classification,note
            L1,\(Self.time(Self.ago(hours: 30))),\(Self.time(Self.ago(hours: 29))),network,"from the old system, row 1"
            L2,\(Self.time(Self.ago(hours: 28))),\(Self.time(Self.ago(hours: 27))),,

            """.write(toFile: file, atomically: true, encoding: .utf8)
        let imported = try cli(fixture, ["incident", "import", file])
        #expect(imported.status == 0, "\(imported.errors)")
        #expect(imported.output.contains("2 incidents, 2 line intervals as #"), "\(imported.output)")
        #expect(imported.output.contains("done (applied by the running daemon"), "\(imported.output)")

        // kill -9: the open incident entered by hand is open again after the restart.
        daemon.signal(SIGKILL)
        _ = daemon.waitForExit()
        daemon = try RunningDaemon(fixture, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)
        list = try incidents(fixture)
        #expect(list.count == 3)
        #expect(list.filter { $0["state"] as? String == "open" }.map { $0["id"] as? Int } == [id])
        let resolved = try cli(fixture, ["incident", "resolve", "\(id)", "--at", Self.time(hour)])
        #expect(resolved.output.contains("applied by the running daemon"), "\(resolved.output) \(resolved.errors)")
        let first = try incident(fixture, id)
        #expect(first["state"] as? String == "resolved")
        #expect(first["started_at"] as? String == Self.time(threeHours))
        #expect(first["resolved_at"] as? String == Self.time(hour))
        let timeline = (first["timeline"] as? [[String: String]])?.map { $0["kind"]! } ?? []
        #expect(timeline.contains("entered") && timeline.contains("edited") && timeline.contains("manual-resolve"),
                "\(timeline)")

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit().status == 0)
    }

    @Test func aBadRowRefusesTheWholeImport() async throws {
        let fixture = try Self.fixture()
        defer { fixture.remove() }
        let file = fixture.folder + "/bad.csv"
        try """
            lines,element,start,end,classification
            L1,,2026-11-10T08:00:00Z,2026-11-10T09:00:00Z,network
            L9,,2026-11-10T08:00:00Z,,
            ,agg9,2026-11-10T08:00:00Z,,
            L2,,2026-11-10T10:00:00Z,2026-11-10T09:00:00Z,
            L2,,2026-11-10T08:00:00Z,,aliens
            L3,,2099-01-01T00:00:00Z,,
            L1,,2026-11-10T08:00:00Z,2026-11-10T08:30:00Z,

            """.write(toFile: file, atomically: true, encoding: .utf8)
        let refused = try cli(fixture, ["incident", "import", file])
        #expect(refused.status == 1)
        for expected in ["forewarn: nothing imported: 6 problems",
                         "\(file):3:1: lines: unknown line 'L9'",
                         "\(file):4:2: element: unknown element 'agg9'",
                         "\(file):5:26: end: 2026-11-10T09:00:00Z is not after the start",
                         "\(file):6:27: classification: unknown 'aliens'",
                         "\(file):7:5: start: 2099-01-01T00:00:00Z is in the future",
                         "\(file):8:5: duplicate of row 2 (the same lines from the same start)"] {
            #expect(refused.errors.contains(expected), "\(expected) in \(refused.errors)")
        }
        // Nothing half-imported: no incident, no command, no id taken.
        #expect(try incidents(fixture).isEmpty)
        #expect(try await rows(fixture, "SELECT COUNT(*) FROM operator_command") as [Int] == [0])
        #expect(try await rows(fixture, "SELECT next_value FROM id_allocation") as [Int] == [1])

        let good = fixture.folder + "/good.csv"
        try "lines,start,end\nL1,2026-11-10T08:00:00Z,2026-11-10T09:00:00Z\n".write(toFile: good, atomically: true,
                                                                                  encoding: .utf8)
        let dry = try cli(fixture, ["incident", "import", good, "--dry-run"])
        #expect(dry.output.contains("1 incident, 1 line interval: valid; nothing written (--dry-run)"), "\(dry.output)")
        #expect(try incidents(fixture).isEmpty)
    }

    @Test func tenThousandRowsInOneTransactionAndABadLastRowLeavesNothing() async throws {
        let fixture = try Self.fixture()
        defer { fixture.remove() }
        let base = Self.ago(hours: 24 * 200)
        var text = "lines,start,end,note\n"
        for row in 0..<10_000 {
            let start = base.addingTimeInterval(Double(row) * 600)
            text += "L\(row % 3 + 1),\(Self.time(start)),\(Self.time(start.addingTimeInterval(300))),row \(row + 2)\n"
        }
        let bad = fixture.folder + "/bad.csv"
        try (text.split(separator: "\n").dropLast().joined(separator: "\n") + "\nL7,\(Self.time(base)),,\n")
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try cli(fixture, ["incident", "import", bad])
        #expect(refused.status == 1)
        #expect(refused.errors.contains("\(bad):10001:1: lines: unknown line 'L7'"), "\(refused.errors)")
        #expect(try incidents(fixture).isEmpty)

        let good = fixture.folder + "/good.csv"
        try text.write(toFile: good, atomically: true, encoding: .utf8)
        let imported = try cli(fixture, ["incident", "import", good])
        #expect(imported.status == 0, "\(imported.errors)")
        #expect(imported.output.contains("10000 incidents, 10000 line intervals as #1–#10000: done"), "\(imported.output)")
        // One command, one batch: every incident written with the same update time.
        #expect(try await rows(fixture, "SELECT COUNT(*) FROM incident WHERE entered_at IS NOT NULL") as [Int] == [10_000])
        #expect(try await rows(fixture, "SELECT COUNT(DISTINCT updated_at) FROM incident") as [Int] == [1])
        #expect(try await rows(fixture, "SELECT COUNT(*) FROM incident_line WHERE end_at IS NOT NULL") as [Int] == [10_000])
        #expect(try await rows(fixture, "SELECT result FROM operator_command") as [String] == ["ok"])
        #expect(try await rows(fixture, "SELECT MIN(id) || '-' || MAX(id) FROM incident") as [String] == ["1-10000"])
    }

    @Test func creditsCountALineOnceWhereAnEnteredIncidentOverlapsADetectedOne() async throws {
        let fixture = try Self.fixture()
        defer { fixture.remove() }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let month = calendar.date(byAdding: .month, value: -2, to: Date())!
        var parts = calendar.dateComponents([.year, .month], from: month)
        parts.day = 10
        parts.hour = 10
        let ten = calendar.date(from: parts)!
        let period = String(format: "%04d-%02d", parts.year!, parts.month!)

        // Detected by monitoring: L1 out 10:00–12:00.
        let store = try StoreFactory.open(fixture.storePath, access: .existing)
        let ids = try await store.reserveIncidentIDs(1)
        let detected = Incident(id: IncidentID(ids.lowerBound), state: .resolved,
                                root: IncidentRoot(subject: .element("acc1"), kind: .unreachable), group: "element:acc1",
                                severity: .minor, startedAt: ten, detectedAt: ten, resolvedAt: ten.addingTimeInterval(7_200),
                                updatedAt: ten.addingTimeInterval(7_200))
        try await store.record(CorrelationBatch(changes: [IncidentChange(kind: .resolve, incident: detected, lines: [
            LineInterval(line: "L1", customer: "C1", start: ten, end: ten.addingTimeInterval(7_200)),
        ])], at: ten.addingTimeInterval(7_200)))

        // Entered by hand: L1 out 11:00–13:00, overlapping the last hour.
        let added = try cli(fixture, ["incident", "add", "--lines", "L1", "--start", Self.time(ten.addingTimeInterval(3_600)),
                                      "--end", Self.time(ten.addingTimeInterval(10_800))])
        #expect(added.status == 0, "\(added.errors)")
        let feed = try cli(fixture, ["credits", "--period", period, "--format", "json"])
        #expect(feed.status == 0, "\(feed.errors)")
        let document = try JSONSerialization.jsonObject(with: Data(feed.output.utf8)) as? [String: Any]
        let row = (document?["rows"] as? [[String: Any]])?.first { $0["line"] as? String == "L1" }
        // The union, 10:00–13:00: three hours, not four.
        #expect(row?["outage_seconds"] as? Int == 10_800, "\(feed.output)")
        #expect(row?["incidents"] as? [Int] == [1, 2], "\(feed.output)")

        // The billing file: streamed to FILE, the same bytes as on standard output, no partial
        // file left; a file that cannot be written is an error naming it, and nothing is left.
        let folder = (fixture.storePath as NSString).deletingLastPathComponent
        let file = folder + "/credits.csv"
        let toFile = try cli(fixture, ["credits", "--period", period, "--output", file])
        #expect(toFile.status == 0 && toFile.output.isEmpty, "\(toFile.errors)")
        let toStandardOutput = try cli(fixture, ["credits", "--period", period])
        let written = try String(contentsOfFile: file, encoding: .utf8)
        #expect(written == toStandardOutput.output)
        #expect(written.contains("\r\nC1,L1,"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".partial-") }.isEmpty)
        let refused = try cli(fixture, ["credits", "--period", period, "--output", folder + "/missing/credits.csv"])
        #expect(refused.status != 0)
        #expect(refused.errors.contains(folder + "/missing/credits.csv"), "\(refused.errors)")
    }
}
