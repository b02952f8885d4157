import Correlation
import ForewarnModel
import Foundation
import Testing

/// Incidents entered by hand and corrections, through the correlator on the lab topology.
@Suite struct ManualIncidentTests {
    static func entry(_ id: Int64, lines: [LineID], scope: ManualIncident.Scope = .lines, start: Double,
                      end: Double?, ticket: String? = nil, classification: Classification? = nil,
                      timeline: Timeline) -> ManualIncident {
        ManualIncident(id: IncidentID(id), scope: scope, lines: lines.sorted(), start: timeline.date(start),
                       end: end.map { timeline.date($0) }, classification: classification, note: "fibre cut",
                       ticket: ticket, by: "eva", at: timeline.date(0), source: "command line")
    }

    @Test func anElementTakesTheLinesCutOffBehindIt() {
        #expect(Lab.topology.linesCutOff(by: "agg1") == Lab.lineIDs(1...40).sorted())
        // acc3 is dual-homed to agg1 and agg2: both are behind the core.
        #expect(Lab.topology.linesCutOff(by: "core") == Lab.lineIDs(1...60).sorted())
        #expect(Lab.topology.linesCutOff(by: "acc4") == Lab.lineIDs(51...60).sorted())
        #expect(Lab.topology.linesCutOff(by: "nope") == nil)
    }

    @Test func anEndedIncidentIsOpenedAndResolvedWithItsLines() {
        var timeline = Timeline()
        let entry = Self.entry(500, lines: ["L1", "L2"], start: -7_200, end: -3_600, timeline: timeline)
        timeline.send(.manualIncidents([entry]), at: 10)
        #expect(timeline.rejections.isEmpty)
        let incident = timeline.ledger.incidents[IncidentID(500)]
        #expect(incident?.state == .resolved)
        #expect(incident?.root == IncidentRoot(subject: .line("L1"), kind: .manual))
        #expect(incident?.enteredBy == "eva")
        #expect(incident?.isManual == true)
        #expect(incident?.startedAt == timeline.date(-7_200))
        #expect(incident?.resolvedAt == timeline.date(-3_600))
        #expect(incident?.severity == .minor)
        #expect(timeline.ledger.lines(of: IncidentID(500)).map(\.end) == [timeline.date(-3_600), timeline.date(-3_600)])
        #expect(timeline.ledger.events(IncidentID(500)) == [.open, .resolve])
        #expect(timeline.ledger.timeline[IncidentID(500)]?.first?.detail.hasPrefix(
            "entered by hand by eva (command line): 2 lines (L1, L2), from ") == true)
    }

    @Test func anOpenIncidentLastsUntilResolvedByHandWhateverMonitoringSees() {
        var timeline = Timeline()
        let entry = Self.entry(7, lines: Lab.topology.linesCutOff(by: "agg1")!, scope: .element("agg1"), start: -600,
                               end: nil, timeline: timeline)
        timeline.send(.manualIncidents([entry]), at: 1)
        let id = IncidentID(7)
        #expect(timeline.ledger.incidents[id]?.root == IncidentRoot(subject: .element("agg1"), kind: .manual))
        #expect(timeline.ledger.events(id) == [.open])
        #expect(timeline.ledger.openLineIDs(of: id).count == 40)

        // Monitoring sees a line come back and acc1 fail: neither touches the manual incident.
        timeline.lines(["L3"], .up, at: 5)
        timeline.element("acc1", .down, at: 6)
        timeline.advance(to: 30)
        #expect(timeline.ledger.openLineIDs(of: id).count == 40)
        let detected = timeline.open.filter { !$0.isManual }
        #expect(detected.count == 1)
        #expect(timeline.ledger.lineIDs(of: detected[0].id) == Lab.lineIDs(1...20))

        // A call about one of its lines is attached to it.
        timeline.call("L25", at: 31)
        #expect(timeline.reports.last?.1 == id)
        #expect(timeline.ledger.incidents[id]?.firstCallAt == timeline.date(31))

        // Resolved before a line's start is refused; at a time after, every line ends there.
        timeline.send(.operatorAction(OperatorAction(incident: id, kind: .resolve(note: ""), by: "eva",
                                                     at: timeline.date(-700))), at: 40)
        #expect(timeline.rejections.last?.contains("after") == true)
        timeline.send(.operatorAction(OperatorAction(incident: id, kind: .resolve(note: "spliced"), by: "eva",
                                                     at: timeline.date(20))), at: 41)
        #expect(timeline.ledger.incidents[id]?.state == .resolved)
        #expect(timeline.ledger.incidents[id]?.resolvedAt == timeline.date(20))
        #expect(Set(timeline.ledger.lines(of: id).map(\.end)) == [timeline.date(20)])
        #expect(timeline.ledger.events(id) == [.open, .update, .resolve])
    }

    @Test func oneBadEntryEntersNone() {
        var timeline = Timeline()
        let good = Self.entry(1, lines: ["L1"], start: -60, end: -30, timeline: timeline)
        let bad = Self.entry(2, lines: ["L1", "L999"], start: -60, end: -30, timeline: timeline)
        timeline.send(.manualIncidents([good, bad]), at: 1)
        #expect(timeline.ledger.incidents.isEmpty)
        #expect(timeline.rejections == ["incident #2: unknown line 'L999'; nothing entered"])
    }

    @Test func anExistingTicketIsRecordedAndNothingIsAnnounced() {
        var timeline = Timeline()
        let entry = Self.entry(3, lines: ["L1"], start: -60, end: -30, ticket: "RT-77", timeline: timeline)
        timeline.send(.manualIncidents([entry]), at: 1)
        #expect(timeline.ledger.events(IncidentID(3)).isEmpty)
        #expect(timeline.ledger.changes.last?.enteredTicket == "RT-77")
        #expect(timeline.ledger.incidents[IncidentID(3)]?.state == .resolved)
    }

    @Test func plannedEntriesAnnounceNothing() {
        var timeline = Timeline()
        let entry = Self.entry(4, lines: ["L1"], start: -60, end: nil, classification: .planned, timeline: timeline)
        timeline.send(.manualIncidents([entry]), at: 1)
        #expect(timeline.ledger.incidents[IncidentID(4)]?.planned == true)
        #expect(timeline.ledger.events(IncidentID(4)).isEmpty)
    }

    @Test func correctionsRewriteTheIntervalAndSayOldAndNew() {
        var timeline = Timeline()
        let entry = Self.entry(9, lines: ["L1", "L2"], start: -7_200, end: -3_600, timeline: timeline)
        timeline.send(.manualIncidents([entry]), at: 1)
        let id = IncidentID(9)
        var header = timeline.ledger.incidents[id]!
        header.startedAt = timeline.date(-9_000)
        let old = LineInterval(line: "L1", customer: "C1", start: timeline.date(-7_200), end: timeline.date(-3_600))
        var new = old
        new.start = timeline.date(-9_000)
        let edit = IncidentEdit(incident: id, interval: IncidentEdit.Interval(old: old, new: new),
                                classification: .customerCaused, reason: "technician's report", by: "jan",
                                at: timeline.date(2), header: header)
        timeline.send(.incidentEdit(edit), at: 2)
        #expect(timeline.rejections.isEmpty)
        let lines = timeline.ledger.lines(of: id)
        #expect(lines.map(\.start) == [timeline.date(-9_000), timeline.date(-7_200)])
        #expect(timeline.ledger.incidents[id]?.startedAt == timeline.date(-9_000))
        #expect(timeline.ledger.incidents[id]?.classification == .customerCaused)
        let edited = timeline.ledger.timeline[id]?.last
        #expect(edited?.kind == "edited")
        #expect(edited?.detail == "edited by jan: line L1 \(RFC3339.format(timeline.date(-7_200))) – "
                + "\(RFC3339.format(timeline.date(-3_600))) → \(RFC3339.format(timeline.date(-9_000))) – "
                + "\(RFC3339.format(timeline.date(-3_600))); classification network → customer-caused; "
                + "reason: technician's report")
        #expect(timeline.ledger.events(id) == [.open, .resolve, .update])
    }

    @Test func aDetectedIncidentLongResolvedIsCorrectedFromTheStoresReading() {
        var timeline = Timeline()
        let header = Incident(id: IncidentID(40), state: .resolved, root: IncidentRoot(subject: .element("acc1"),
                                                                                      kind: .unreachable),
                              group: "element:acc1", severity: .minor, startedAt: timeline.date(-100),
                              detectedAt: timeline.date(-95), resolvedAt: timeline.date(-50), updatedAt: timeline.date(-50))
        let edit = IncidentEdit(incident: IncidentID(40), interval: nil, classification: .forceMajeure,
                                reason: "flood", by: "eva", at: timeline.date(1), header: header)
        timeline.send(.incidentEdit(edit), at: 1)
        #expect(timeline.ledger.incidents[IncidentID(40)]?.classification == .forceMajeure)
        #expect(timeline.ledger.incidents[IncidentID(40)]?.resolvedAt == timeline.date(-50))
        // Merged incidents are corrected through the survivor.
        var merged = header
        merged.id = IncidentID(41)
        merged.mergedInto = IncidentID(40)
        timeline.send(.incidentEdit(IncidentEdit(incident: IncidentID(41), interval: nil, classification: .network,
                                                 reason: "x", by: "eva", at: timeline.date(2), header: merged)), at: 2)
        #expect(timeline.rejections.last == "incident #41 was merged into #40: correct that one")
    }

    @Test func endingTheLastOpenLineResolvesAnEnteredIncident() {
        var timeline = Timeline()
        timeline.send(.manualIncidents([Self.entry(5, lines: ["L1"], start: -600, end: nil, timeline: timeline)]), at: 1)
        let id = IncidentID(5)
        var header = timeline.ledger.incidents[id]!
        header.resolvedAt = timeline.date(-60)
        let old = LineInterval(line: "L1", customer: "C1", start: timeline.date(-600))
        var new = old
        new.end = timeline.date(-60)
        timeline.send(.incidentEdit(IncidentEdit(incident: id, interval: IncidentEdit.Interval(old: old, new: new),
                                                 classification: nil, reason: "came back", by: "eva",
                                                 at: timeline.date(2), header: header)), at: 2)
        #expect(timeline.ledger.incidents[id]?.state == .resolved)
        #expect(timeline.ledger.incidents[id]?.resolvedAt == timeline.date(-60))
        #expect(timeline.ledger.lines(of: id).map(\.end) == [timeline.date(-60)])
    }

    @Test func anOpenEnteredIncidentContinuesAfterARestart() {
        var timeline = Timeline()
        timeline.send(.manualIncidents([Self.entry(6, lines: ["L1", "L2"], start: -600, end: nil, timeline: timeline)]),
                      at: 1)
        var restarted = Timeline()
        restarted.ledger = timeline.ledger
        restarted.apply(restarted.correlator.recover(timeline.ledger.snapshots, now: restarted.now))
        #expect(restarted.open.map(\.id) == [IncidentID(6)])
        restarted.lines(["L1", "L2"], .up, at: 5)
        #expect(restarted.open.map(\.id) == [IncidentID(6)])
        restarted.send(.operatorAction(OperatorAction(incident: IncidentID(6), kind: .resolve(note: ""), by: "eva",
                                                      at: restarted.date(3))), at: 10)
        #expect(restarted.ledger.incidents[IncidentID(6)]?.state == .resolved)
        #expect(Set(restarted.ledger.lines(of: IncidentID(6)).map(\.end)) == [restarted.date(3)])
    }
}
