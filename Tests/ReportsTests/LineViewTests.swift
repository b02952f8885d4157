import ForewarnModel
import Foundation
import Persistence
@testable import Reports
import Testing

/// The contact centre's line view from hand-built inputs: the path through the topology, the
/// state (the daemon's verdict, else the store's last change), the incident the line is in and
/// whether its customer already called, the text within 80 columns and the JSON contract.
@Suite struct LineViewTests {
    static let now = t("2026-11-27T12:00:00Z")

    static func element(_ id: String, _ kind: ElementKind, upstream: [String] = []) -> Element {
        Element(id: ElementID(id), name: "\(id) name", address: IPAddress("192.0.2.1")!, kind: kind,
                upstream: upstream.map(ElementID.init))
    }

    static let elements = Dictionary(uniqueKeysWithValues: [
        element("core", .core), element("agg1", .aggregation, upstream: ["core"]),
        element("agg2", .aggregation, upstream: ["core"]), element("acc1", .access, upstream: ["agg1", "agg2"]),
    ].map { ($0.id, $0) })

    static let probed = Line(id: "L7", customer: "C3", element: "acc1", port: .ifName("ge-0/0/7"), probe: .icmp,
                             target: IPAddress("198.51.100.7"), contract: "K1", service: .voice)

    static func detail(calledAbout: String?) -> IncidentDetail {
        let header = Incident(id: IncidentID(12), root: IncidentRoot(subject: .element("acc1"), kind: .unreachable),
                              group: "element:acc1", severity: .major, proactive: true,
                              startedAt: t("2026-11-27T11:40:00Z"), detectedAt: t("2026-11-27T11:40:20Z"),
                              acknowledgedAt: t("2026-11-27T11:45:00Z"), updatedAt: t("2026-11-27T11:40:20Z"))
        var timeline = [TimelineEntry(at: t("2026-11-27T11:40:20Z"), kind: "opened", detail: "acc1 unreachable")]
        if let line = calledAbout {
            timeline.append(TimelineEntry(at: t("2026-11-27T11:50:00Z"), kind: "customer-call",
                                          detail: "customer C3 called about line \(line) at 2026-11-27T11:49:30Z (cli)"))
        }
        return IncidentDetail(record: IncidentRecord(
            incident: header,
            lines: [LineInterval(line: "L7", customer: "C3", start: t("2026-11-27T11:39:50Z")),
                    LineInterval(line: "L70", customer: "C9", start: t("2026-11-27T11:40:00Z"))],
            tickets: [Ticket(incident: IncidentID(12), hook: "rt", ticketID: "RT-9", state: "open",
                             openedAt: t("2026-11-27T11:41:00Z"), updatedAt: t("2026-11-27T11:41:00Z"))]),
            timeline: timeline)
    }

    @Test func thePathFollowsTheFirstUpstreamAndNamesTheOthers() {
        #expect(LineView.path(from: "acc1", elements: Self.elements).map(\.id.rawValue) == ["acc1", "agg1", "core"])
        let view = LineView(LineViewInputs(now: Self.now, line: Self.probed, customerName: "Pekárna", elements: Self.elements,
                                           elementTransitions: ["acc1": StateTransition(subject: .element("acc1"), from: .up,
                                                                                        to: .down, at: t("2026-11-27T11:39:40Z"),
                                                                                        evidence: "3 polls failed")]))
        #expect(view.path.map(\.health) == ["down", "unknown", "unknown"])
        #expect(view.path[0].alternates == ["agg2"] && view.path[0].since == t("2026-11-27T11:39:40Z"))
    }

    @Test func stateIsTheDaemonsVerdictElseTheLastRecordedChange() {
        let change = StateTransition(subject: .line("L7"), from: .up, to: .down, at: t("2026-11-27T11:39:50Z"),
                                     evidence: "icmp 198.51.100.7: 3 rounds lost")
        func view(_ line: Line = Self.probed, transition: StateTransition? = nil, fromDaemon: Bool = false,
                  live: Health? = nil) -> LineView.State {
            LineView(LineViewInputs(now: Self.now, line: line, customerName: nil, elements: Self.elements,
                                    lineTransition: transition, fromDaemon: fromDaemon, live: live)).state
        }
        #expect(view(transition: change) == .init(health: "down", since: change.at, evidence: change.evidence, source: "store"))
        #expect(view(transition: change, fromDaemon: true, live: .degraded).health == "degraded")
        #expect(view().health == "unknown")
        var unprobed = Self.probed
        unprobed.probe = .none
        #expect(view(unprobed).health == "unprobed")
    }

    @Test func theIncidentSaysWhetherThisLinesCustomerAlreadyCalled() {
        func incident(_ called: String?) -> LineView.OpenIncident? {
            LineView(LineViewInputs(now: Self.now, line: Self.probed, customerName: nil, elements: Self.elements,
                                    incident: Self.detail(calledAbout: called))).incident
        }
        let called = incidentOrFail(incident("L7"))
        #expect(called.customerCalled && called.calledAt == t("2026-11-27T11:50:00Z"))
        #expect(called.since == t("2026-11-27T11:39:50Z") && called.ticketId == "RT-9" && called.acknowledged)
        // A call about another line of the incident (L70 starts with L7) is not this customer's.
        #expect(incidentOrFail(incident("L70")).customerCalled == false)
        #expect(incidentOrFail(incident(nil)).calledAt == nil)
        #expect(called.lineRestoredAt == nil)
        // The line came back while the incident goes on (its neighbour is still out).
        var detail = Self.detail(calledAbout: nil)
        detail.record.lines[0].end = t("2026-11-27T11:55:00Z")
        let back = LineView(LineViewInputs(now: Self.now, line: Self.probed, customerName: nil, elements: Self.elements,
                                           incident: detail))
        #expect(back.incident?.lineRestoredAt == t("2026-11-27T11:55:00Z"))
        #expect(back.text.contains("  this line back since 2026-11-27T11:55:00.000Z (5 min ago)\n"
                                   + "  the incident goes on for other lines; acknowledged\n"))
    }

    func incidentOrFail(_ incident: LineView.OpenIncident?) -> LineView.OpenIncident {
        guard let incident else {
            Issue.record("no incident")
            return LineView.OpenIncident(id: 0, severity: "", rootType: "", rootId: "", rootKind: "", since: Date(),
                                         lineRestoredAt: nil, detectedAt: Date(), acknowledged: false, customerCalled: false)
        }
        return incident
    }

    static func full() -> LineView {
        LineView(LineViewInputs(
            now: Self.now, line: Self.probed, customerName: "Pekárna U Nádraží, s.r.o. — provozovna Holešovice",
            elements: Self.elements,
            lineTransition: StateTransition(subject: .line("L7"), from: .up, to: .down, at: t("2026-11-27T11:39:50Z"),
                                            evidence: "icmp 198.51.100.7: 3 rounds lost"),
            fromDaemon: true, live: .down,
            lastProbe: LineView.LastProbe(at: t("2026-11-27T11:59:30Z"), answered: false, rttMilliseconds: nil),
            incident: Self.detail(calledAbout: "L7"),
            month: LineView.Month(period: "2026-11", outages: [LineView.Outage(incident: 12, start: t("2026-11-27T11:39:50Z"), end: nil)],
                                  outageSeconds: 1_210, creditAmount: "24.95", creditMinorUnits: 2_495, currency: "CZK",
                                  creditNote: nil)))
    }

    @Test func textFitsEightyColumnsAndSaysWhatTheAgentNeeds() {
        let text = Self.full().text
        for line in text.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        #expect(text.contains("now: DOWN since 2026-11-27T11:39:50.000Z (20 min 10 s ago)\n"))
        #expect(text.contains("  last probe 2026-11-27T11:59:30.000Z (30 s ago): NO ANSWER\n"))
        #expect(text.contains("  acc1 acc1 name (access): unknown\n    also via agg2\n"))
        #expect(text.contains("KNOWN OUTAGE: incident #12 (major), root acc1 unreachable\n"))
        #expect(text.contains("  customer already called, logged 2026-11-27T11:50:00.000Z\n"))
        #expect(text.contains("2026-11: 1 outage, 20 min 10 s counted, credit 24.95 CZK\n"))
        #expect(text.contains("log the call:\n  forewarn report-call --line L7 --note '...'\n"))
    }

    @Test func jsonHasEveryKeyAndReadsBackTheSame() throws {
        let view = Self.full()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(view.json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["schema", "generated_at", "line", "state", "last_probe", "path", "incident", "month",
                                     "report_call", "notes"])
        #expect(object["schema"] as? String == "forewarn.line.v1")
        #expect((object["last_probe"] as? [String: Any])?["rtt_milliseconds"] is NSNull)
        #expect((object["incident"] as? [String: Any])?["customer_called"] as? Bool == true)
        #expect((object["month"] as? [String: Any])?["credit_minor_units"] as? Int == 2_495)
        #expect(try LineView.decode(json: Data(view.json.utf8)) == view)
        let bare = LineView(LineViewInputs(now: Self.now, line: Self.probed, customerName: nil, elements: [:]))
        let bareObject = try #require(try JSONSerialization.jsonObject(with: Data(bare.json.utf8)) as? [String: Any])
        #expect(bareObject["incident"] is NSNull && bareObject["month"] is NSNull && bareObject["last_probe"] is NSNull)
        #expect(try LineView.decode(json: Data(bare.json.utf8)) == bare)
    }
}
