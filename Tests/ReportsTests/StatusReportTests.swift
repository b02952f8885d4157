import ForewarnModel
import Foundation
import Persistence
@testable import Reports
import Testing

/// The live status made from hand-built inputs at a fixed instant: what is alive or stale, the
/// open incidents most severe first with what each needs, the text within 80 columns (colour
/// only when asked), and the JSON contract of docs/status-json.md.
@Suite struct StatusReportTests {
    static let now = t("2026-11-27T12:00:00Z")

    static func beat(_ state: Heartbeat.State = .running, age: TimeInterval = 2, interval: Duration? = .seconds(5),
                     collection: CollectionHealth? = nil) -> Heartbeat {
        Heartbeat(instance: "noc1", pid: 4242, hostname: "noc1.example.net", version: "0.1.0",
                  configPath: "/etc/forewarn/forewarn.yaml", startedAt: t("2026-11-25T08:00:00Z"),
                  beatAt: now.addingTimeInterval(-age), state: state, elements: 120, lines: 4_000, customers: 3_900,
                  contracts: 4, configLoadedAt: t("2026-11-26T10:00:00Z"), interval: interval, collection: collection)
    }

    static func open(_ id: Int64, _ severity: Severity, root: String, lines: ClosedRange<Int>, ended: Int = 0,
                     started: String, proactive: Bool = true, planned: Bool = false, acknowledged: Bool = false,
                     ticket: String? = nil) -> IncidentRecord {
        let header = Incident(id: IncidentID(id), root: IncidentRoot(subject: .element(ElementID(root)), kind: .unreachable),
                              group: "element:\(root)", severity: severity, planned: planned, proactive: proactive,
                              startedAt: t(started), detectedAt: t(started).addingTimeInterval(20),
                              firstCallAt: proactive ? nil : t(started).addingTimeInterval(10),
                              acknowledgedAt: acknowledged ? t(started).addingTimeInterval(60) : nil,
                              updatedAt: t(started))
        let intervals = lines.map { n in
            // Two lines per customer; the first `ended` lines are back.
            LineInterval(line: LineID("L\(n)"), customer: CustomerID("C\(n / 2)"), start: t(started),
                         end: n < lines.lowerBound + ended ? t(started).addingTimeInterval(300) : nil)
        }
        let tickets = ticket.map {
            [Ticket(incident: IncidentID(id), hook: "rt", ticketID: $0, state: "open", openedAt: t(started), updatedAt: t(started))]
        } ?? []
        return IncidentRecord(incident: header, lines: intervals, tickets: tickets)
    }

    static let health = CollectionHealth(elementsReachable: 118, elementsUnreachable: 1, elementsNotPolled: 1,
                                         linesUp: 3_950, linesDown: 12, linesDegraded: 3, linesUnknown: 5,
                                         linesUnprobed: 30, pollsPerSecond: 2, probesPerSecond: 66.7,
                                         trapsPerSecond: 0.1, lastTrapAt: t("2026-11-27T11:59:48Z"), snmpTimeouts: 14)

    static func busy() -> StatusReport {
        let inputs = StatusInputs(
            store: "/var/lib/forewarn/forewarn.sqlite", now: now, heartbeats: [beat(collection: health)],
            incidents: [
                open(3, .minor, root: "acc7", lines: 1...2, started: "2026-11-27T11:50:00Z", proactive: false),
                open(5, .critical, root: "agg1-with-a-rather-long-name-that-does-not-fit", lines: 1...240, ended: 40,
                     started: "2026-11-27T11:48:00Z", acknowledged: true, ticket: "RT-48213"),
                open(4, .major, root: "acc2", lines: 1...30, started: "2026-11-27T11:30:00Z"),
                open(6, .critical, root: "acc9", lines: 1...4, started: "2026-11-27T11:00:00Z", planned: true),
                open(7, .critical, root: "agg2", lines: 1...100, started: "2026-11-27T11:40:00Z", ticket: "RT-48214"),
            ],
            acknowledgedBy: [IncidentID(5): "jnovak"], pendingEntries: [IncidentID(4): 1],
            deadEntries: [IncidentID(7): 2],
            backlog: [OutboxBacklog(hook: "slack", pending: 2, oldestPending: now.addingTimeInterval(-14), dead: 0),
                      OutboxBacklog(hook: "rt", pending: 1, oldestPending: now.addingTimeInterval(-3), dead: 2)],
            credits: MonthCredits(month: "2026-11", closed: false, totals: ["CZK": 123_400, "EUR": 1_200]))
        return StatusReport(inputs)
    }

    @Test func openIncidentsComeMostSevereFirstWithWhatEachNeeds() {
        let report = Self.busy()
        // Critical first (the one with more lines out first), then major, minor; planned last.
        #expect(report.incidents.map(\.incident.id.rawValue) == [5, 7, 4, 3, 6])
        let first = report.incidents[0]
        #expect(first.linesOut == 200 && first.linesInScope == 240)
        // Lines 41…240 are out: customers 20…120.
        #expect(first.customersOut == 101)
        #expect(first.ageSeconds == 12 * 60)
        #expect(first.acknowledgedBy == "jnovak" && first.ticket?.ticketID == "RT-48213")
        #expect(first.delivery == .delivered)
        #expect(report.incidents[1].delivery == .dead)
        #expect(report.incidents[2].delivery == .pending)
        #expect(report.incidents[3].delivery == StatusReport.Delivery.none && report.incidents[3].origin == "customer-reported")
        #expect(report.openBySeverity == [.critical: 2, .major: 1, .minor: 1])
        #expect(report.outboxPending == 3 && report.outboxDead == 2)
        #expect(report.anyAlive)
    }

    @Test func aHeartbeatOlderThanThirtySecondsOrThreeIntervalsIsStale() {
        func report(_ beat: Heartbeat) -> StatusReport { StatusReport(StatusInputs(store: "s", now: Self.now, heartbeats: [beat])) }
        #expect(report(Self.beat(age: 29.9)).anyAlive)
        let stale = report(Self.beat(age: 30))
        #expect(!stale.anyAlive && stale.daemons[0].stale)
        #expect(stale.text().contains("\n  HEARTBEAT STALE: none for 30.0 s (state running): stopped or stuck\n"))
        // A daemon beating every minute is stale after three minutes.
        #expect(report(Self.beat(age: 170, interval: .seconds(60))).anyAlive)
        #expect(!report(Self.beat(age: 180, interval: .seconds(60))).anyAlive)
        let stopped = report(Self.beat(.stopped, age: 1))
        #expect(!stopped.anyAlive && stopped.text().contains("DAEMON NOT RUNNING: stopped"))
        let none = StatusReport(StatusInputs(store: "s", now: Self.now, heartbeats: []))
        #expect(!none.anyAlive && none.text().contains("DAEMON NOT RUNNING: no daemon has written a heartbeat"))
    }

    @Test func textFitsEightyColumnsAndIsColouredOnlyWhenAsked() {
        let report = Self.busy()
        let plain = report.text()
        for line in plain.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        #expect(!plain.contains("\u{1B}"))
        #expect(plain.contains("elements: 118 reachable, 1 unreachable, 1 not yet polled"))
        #expect(plain.contains("lines: 3,950 up, 12 down, 3 degraded, 5 unknown, 30 unprobed"))
        #expect(plain.contains("per second: 2.0 polls, 66.7 probes, 0.1 traps; 14 SNMP timeouts"))
        #expect(plain.contains("last trap: 2026-11-27T11:59:48.000Z (12 s ago)"))
        #expect(plain.contains("incidents: 5 open (2 critical, 1 major, 1 minor, 1 planned)"))
        #expect(plain.contains("\n  #5     critical agg1-with-a-rather-l…    200   101  12 min     monitoring\n"
                               + "    ack by jnovak 11 min ago; ticket RT-48213 (rt, open), delivery delivered\n"))
        #expect(plain.contains("\n  #3     minor    acc7 unreachable           2     2  10 min     customer\n"))
        #expect(plain.contains("tickets rt: 1 waiting (oldest 3.0 s), 2 DEAD LETTERS (forewarn outbox --dead)"))
        #expect(plain.contains("credits 2026-11 to date: 1,234.00 CZK, 12.00 EUR"))
        let coloured = report.text(colour: true)
        #expect(coloured.contains("\u{1B}[31m  #5     critical"))
        #expect(coloured.contains("\u{1B}[32m  running\u{1B}[0m"))
        for line in coloured.split(separator: "\n") {
            let visible = line.replacingOccurrences(of: "\u{1B}[31m", with: "").replacingOccurrences(of: "\u{1B}[33m", with: "")
                .replacingOccurrences(of: "\u{1B}[32m", with: "").replacingOccurrences(of: "\u{1B}[0m", with: "")
            #expect(visible.count <= 80)
        }
        #expect(StatusReport.wantsColour(isTerminal: true, environment: [:]))
        #expect(StatusReport.wantsColour(isTerminal: true, environment: ["NO_COLOR": ""]))
        #expect(!StatusReport.wantsColour(isTerminal: true, environment: ["NO_COLOR": "1"]))
        #expect(!StatusReport.wantsColour(isTerminal: false, environment: [:]))
    }

    @Test func theTextListsTheTwentyMostSevereAndCountsTheRest() throws {
        let many = (1...25).map { id in
            Self.open(Int64(id), id == 25 ? .critical : .minor, root: "acc\(id)", lines: 1...1, started: "2026-11-27T11:00:00Z")
        }
        let text = StatusReport(StatusInputs(store: "s", now: Self.now, heartbeats: [Self.beat()], incidents: many)).text()
        #expect(text.contains("\n  #25    critical acc25 unreachable"))
        #expect(text.contains("\n  #19    minor"))
        #expect(!text.contains("\n  #20    minor"))
        #expect(text.contains("\n  … 5 more, less severe: forewarn incidents --open\n"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(StatusReport(StatusInputs(
            store: "s", now: Self.now, heartbeats: [Self.beat()], incidents: many)).json.utf8)) as? [String: Any])
        #expect(((json["incidents"] as? [String: Any])?["list"] as? [Any])?.count == 25)
    }

    @Test func storedTextCannotDriveTheTerminal() {
        var inputs = StatusInputs(store: "s", now: Self.now, heartbeats: [Self.beat()],
                                  incidents: [Self.open(1, .minor, root: "e\u{1B}[2Jvil", lines: 1...1,
                                                        started: "2026-11-27T11:00:00Z", acknowledged: true)])
        inputs.acknowledgedBy = [IncidentID(1): "x\u{1B}]0;title\u{07}"]
        let text = StatusReport(inputs).text(colour: false)
        #expect(!text.contains("\u{1B}"))
        #expect(text.contains(#"e\x1b[2Jvil"#))
    }

    @Test func jsonIsTheDocumentedContract() throws {
        let json = Self.busy().json
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["schema", "generated_at", "store", "alive", "daemons", "incidents", "tickets", "outbox",
                                     "credits_month_to_date", "kpis_quarter_to_date", "notes", "correlator"])
        #expect(object["schema"] as? String == "forewarn.status.v1")
        #expect(object["alive"] as? Bool == true)
        #expect(object["kpis_quarter_to_date"] is NSNull)
        let daemon = try #require((object["daemons"] as? [[String: Any]])?.first)
        #expect(daemon["uptime_seconds"] as? Double == 187_198)
        #expect(daemon["config_loaded_at"] as? String == "2026-11-26T10:00:00.000Z")
        #expect(daemon["stale_after_seconds"] as? Double == 30)
        let collection = try #require(daemon["collection"] as? [String: Any])
        #expect((collection["elements"] as? [String: Int]) == ["reachable": 118, "unreachable": 1, "not_polled": 1])
        #expect((collection["lines"] as? [String: Int])?["unprobed"] == 30)
        #expect(collection["last_trap_at"] as? String == "2026-11-27T11:59:48.000Z")
        let incidents = try #require(object["incidents"] as? [String: Any])
        #expect(incidents["open"] as? Int == 5 && incidents["planned"] as? Int == 1)
        #expect((incidents["by_severity"] as? [String: Int]) == ["critical": 2, "major": 1, "minor": 1, "warning": 0])
        let first = try #require((incidents["list"] as? [[String: Any]])?.first)
        #expect(first["id"] as? Int == 5 && first["lines_out"] as? Int == 200 && first["customers_out"] as? Int == 101)
        #expect((first["root"] as? [String: String])?["kind"] == "unreachable")
        #expect((first["acknowledged"] as? [String: String])?["by"] == "jnovak")
        #expect((first["ticket"] as? [String: String]) == ["id": "RT-48213", "hook": "rt", "state": "open"])
        #expect(first["delivery"] as? String == "delivered" && first["origin"] as? String == "proactive")
        #expect((object["outbox"] as? [String: Int]) == ["pending": 3, "dead": 2])
        let credits = try #require(object["credits_month_to_date"] as? [String: Any])
        #expect((credits["credits"] as? [[String: Any]])?.first?["amount"] as? String == "1234.00")
    }

    @Test func theQuarterKPIsShowBesideTheirTargetsAndReadBackFromTheDocument() throws {
        // November's hand-built history of KPITests: 4 of 6 proactive, 2 of 4 fixed within a day.
        let quarter = StatusReport.QuarterKPIs(period: try ReportPeriod(parsing: "2026-11"), kpis: KPIs(KPITests.inputs),
                                               targets: ReportTargets())
        #expect(quarter.proactive.share == Share(4, of: 6) && quarter.proactive.status == .met)
        var inputs = StatusInputs(store: "s", now: Self.now, heartbeats: [Self.beat()])
        inputs.kpis = quarter
        inputs.credits = MonthCredits(month: "2026-11", closed: false, totals: ["CZK": 4_000])
        inputs.accountedAt = Self.now.addingTimeInterval(-40)
        let report = StatusReport(inputs)
        let text = report.text()
        #expect(text.contains("\n  proactive rate       66.6 %      > 60 %   met         4 of 6\n"), "\(text)")
        #expect(text.contains("\n  fixed within a day   50.0 %      ≥ 76 %   not-met     2 of 4\n"), "\(text)")
        #expect(report.text(colour: true).contains("\u{1B}[33m  fixed within a day"))
        #expect(text.contains("\n  (credits and KPIs as of 2026-11-27T11:59:20.000Z, 40 s ago)\n"))
        #expect(!Self.busy().text().contains("credits and KPIs as of"), "computed now: nothing to say")
        #expect(!report.text(colour: true).contains("\u{1B}[33m  proactive rate"))
        // What `forewarn status` takes from the daemon's document instead of computing it again.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        let kpis = try #require(object["kpis_quarter_to_date"] as? [String: Any])
        #expect(kpis["as_of"] as? String == "2026-11-27T11:59:20.000Z")
        #expect(StatusReport.QuarterKPIs(json: kpis) == quarter)
        let credits = try #require(object["credits_month_to_date"] as? [String: Any])
        #expect(MonthCredits(json: credits) == inputs.credits)
        #expect(StatusReport.QuarterKPIs(json: ["period": "2026Q4"]) == nil)
    }

    @Test func theAcknowledgerIsReadFromTheTimeline() {
        let at = Self.now
        #expect(StatusInputs.acknowledger([TimelineEntry(at: at, kind: "opened", detail: "agg1 unreachable"),
                                           TimelineEntry(at: at, kind: "acknowledged", detail: "acknowledged by jnovak"),
                                           TimelineEntry(at: at, kind: "acknowledged", detail: "acknowledged by other")])
                == "jnovak")
        #expect(StatusInputs.acknowledger([TimelineEntry(at: at, kind: "acknowledged", detail: "acknowledged")]) == nil)
    }
}
