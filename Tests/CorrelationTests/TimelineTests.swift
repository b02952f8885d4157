import Correlation
import ForewarnModel
import Foundation
import Testing

/// Scripted timelines on a virtual clock (hold-down 3 s unless said otherwise). Each reads as
/// the outage it plays.
@Suite struct TimelineTests {
    @Test func parentFirst_oneIncidentRootedAtTheParent() {
        // t=0 agg1 unreachable; t=0.2 lines L1–L40 down; t=1 core reachable ⇒ one incident, root agg1, 40 lines
        var timeline = Timeline()
        timeline.element("agg1", .down, at: 0)
        timeline.lines(Lab.lineIDs(1...40), .down, at: 0.2)
        timeline.element("core", .up, at: 1)
        timeline.element("agg2", .up, at: 1.1)  // its sibling answers: not a forwarding failure of core
        timeline.advance(to: 10)

        #expect(timeline.open.count == 1)
        let incident = timeline.open[0]
        #expect(incident.root == IncidentRoot(subject: .element("agg1"), kind: .unreachable))
        #expect(timeline.ledger.lineIDs(of: incident.id) == Lab.lineIDs(1...40))
        #expect(incident.startedAt == timeline.date(0))
        #expect(incident.detectedAt == timeline.date(1))  // settled as soon as core answered
        #expect(incident.severity == .critical)  // 40 customers, voice among them
        #expect(timeline.ledger.events(incident.id) == [.open])
        #expect(timeline.confirmations.contains(.pollElement("core")))
        #expect(timeline.ledger.changes.allSatisfy { $0.kind != .reroot && $0.kind != .merge })
    }

    @Test func childrenBeforeParentWithinHoldDown_noDuplicate() {
        var timeline = Timeline()
        timeline.lines(Lab.lineIDs(1...40), .down, at: 0)
        timeline.element("acc1", .down, at: 0.5)
        timeline.element("agg1", .down, at: 1)
        timeline.advance(to: 10)

        #expect(timeline.all.count == 1)
        #expect(timeline.open.first?.root.subject == .element("agg1"))
        #expect(timeline.ledger.lineIDs(of: timeline.open[0].id) == Lab.lineIDs(1...40))
        #expect(timeline.confirmations.contains(.pollElement("acc1")))
        #expect(timeline.confirmations.contains(.pollElement("agg1")))
    }

    @Test func childBeforeParentAfterHoldDown_reroutedNotDuplicated() {
        var timeline = Timeline()
        timeline.lines([LineID("L1")], .down, at: 0)
        timeline.lines([LineID("L25")], .down, at: 0.5)
        timeline.advance(to: 5)
        #expect(timeline.open.map(\.root.subject) == [.line("L1"), .line("L25")])
        let first = timeline.open[0].id
        let second = timeline.open[1].id

        timeline.element("agg1", .down, at: 20)
        timeline.advance(to: 30)
        #expect(timeline.open.count == 1)
        let survivor = timeline.open[0]
        #expect(survivor.id == first)  // the oldest carries on, with its ticket
        #expect(survivor.root == IncidentRoot(subject: .element("agg1"), kind: .unreachable))
        #expect(survivor.startedAt == timeline.date(0))
        #expect(timeline.ledger.lineIDs(of: first) == Lab.lineIDs(1...40))
        #expect(timeline.ledger.incidents[second]?.mergedInto == first)
        #expect(timeline.ledger.incidents[second]?.state == .resolved)
        #expect(timeline.ledger.events(first) == [.open, .update])
        #expect(timeline.ledger.events(second) == [.open, .resolve])
        #expect(timeline.ledger.changes.contains { $0.kind == .reroot && $0.incident.id == first })
        #expect(timeline.ledger.changes.contains { $0.kind == .absorbed && $0.absorbedInto == first })
        // L1 kept its own start; the lines learned with agg1 start with agg1's outage.
        let intervals = timeline.ledger.lines(of: first)
        #expect(intervals.first { $0.line == "L1" }?.start == timeline.date(0))
        #expect(intervals.first { $0.line == "L25" }?.start == timeline.date(0.5))
        #expect(intervals.first { $0.line == "L2" }?.start == timeline.date(20))
    }

    @Test func parentRecoversBeforeChildren_linesKeepTheirOwnEnds() {
        var timeline = Timeline()
        timeline.element("agg1", .down, at: 0)
        timeline.lines(Lab.lineIDs(1...40), .down, at: 0.2)
        timeline.advance(to: 5)
        let id = timeline.open[0].id
        timeline.element("agg1", .up, at: 60)
        #expect(timeline.open.count == 1)  // lines still down
        timeline.lines(Lab.lineIDs(1...39), .up, at: 62)
        #expect(timeline.open.count == 1)
        timeline.lines([LineID("L40")], .up, at: 70)

        #expect(timeline.open.isEmpty)
        let incident = timeline.ledger.incidents[id]!
        #expect(incident.resolvedAt == timeline.date(70))
        let intervals = timeline.ledger.lines(of: id)
        #expect(intervals.count == 40)
        #expect(intervals.first { $0.line == "L1" }?.end == timeline.date(62))
        #expect(intervals.first { $0.line == "L40" }?.end == timeline.date(70))
        #expect(timeline.ledger.timeline[id]?.contains { $0.kind == "root-cleared" } == true)
        #expect(timeline.ledger.events(id) == [.open, .resolve])
    }

    @Test func lineVerdictAfterItsRootCleared_continuesTheSameIncident() {
        // t=0 agg1 unreachable; t=0.2 L1 down (probe); t=60 agg1 back, L1 still down; t=61 L2's
        // probe verdict arrives, dated t=0.5 (its third lost round came after agg1 answered)
        // ⇒ still one incident, L2 in it again from t=60, nothing new opened
        var timeline = Timeline()
        timeline.element("agg1", .down, at: 0)
        timeline.lines([LineID("L1")], .down, at: 0.2)
        timeline.advance(to: 5)
        let id = timeline.open[0].id
        timeline.element("agg1", .up, at: 60)
        #expect(timeline.open.count == 1)  // L1 still down
        timeline.observe(.line("L2"), .down, at: 61, since: 0.5, source: .probe)
        timeline.advance(to: 70)
        #expect(timeline.open.count == 1)
        #expect(timeline.open[0].id == id)
        let l2 = timeline.ledger.lines(of: id).filter { $0.line == "L2" }
        #expect(l2.count == 2)
        #expect(l2.contains { $0.start == timeline.date(60) && $0.end == nil })
        timeline.lines([LineID("L1"), LineID("L2")], .up, at: 80)
        #expect(timeline.open.isEmpty)
        #expect(timeline.ledger.incidents.count == 1)
    }

    @Test func parentRecovers_linesNeverProbedEndWithIt() {
        var timeline = Timeline()
        timeline.element("agg1", .down, at: 0)
        timeline.advance(to: 5)
        let id = timeline.open[0].id
        #expect(timeline.ledger.lineIDs(of: id) == Lab.lineIDs(1...40))
        timeline.element("agg1", .up, at: 100)
        #expect(timeline.open.isEmpty)
        #expect(timeline.ledger.lines(of: id).allSatisfy { $0.end == timeline.date(100) })
    }

    @Test func redundantUplink_oneUplinkLostIsRedundancyLostWithoutLines() {
        var timeline = Timeline()
        timeline.port("acc3", .ifName("up1"), .down, at: 0)
        timeline.port("agg1", .ifName("down3"), .down, at: 0.1)
        timeline.element("acc3", .up, at: 0.5)
        timeline.advance(to: 10)

        #expect(timeline.open.count == 1)
        let incident = timeline.open[0]
        #expect(incident.root == IncidentRoot(subject: .port("acc3", .ifName("up1")), kind: .redundancyLost))
        #expect(timeline.ledger.lines(of: incident.id).isEmpty)
        #expect(incident.severity == .warning)
        #expect(timeline.confirmations.contains(.pollElement("acc3")))
    }

    @Test func redundantUplink_oneUpstreamDownLeavesTheDualHomedLinesOut() {
        var timeline = Timeline()
        timeline.element("agg1", .down, at: 0)
        timeline.advance(to: 5)
        #expect(timeline.open.count == 1)
        #expect(!timeline.ledger.lineIDs(of: timeline.open[0].id).contains("L41"))
        // The second uplink goes too: acc3 is cut off, and its lines join the first root's incident.
        timeline.element("agg2", .down, at: 10)
        timeline.advance(to: 15)
        let roots = timeline.open.map(\.root.subject)
        #expect(roots == [.element("agg1"), .element("agg2")])
        #expect(timeline.ledger.lineIDs(of: timeline.open[0].id) == Lab.lineIDs(1...50))
        #expect(timeline.ledger.lineIDs(of: timeline.open[1].id) == Lab.lineIDs(51...60))
    }

    @Test func redundantUplink_dualHomedUnreachableWithOneUpstreamUpIsItsOwnRoot() {
        var timeline = Timeline()
        timeline.element("agg1", .down, at: 0)
        timeline.element("acc3", .down, at: 0.5)
        timeline.element("agg2", .up, at: 1)
        timeline.advance(to: 10)
        #expect(timeline.open.map(\.root.subject) == [.element("agg1"), .element("acc3")])
        #expect(timeline.ledger.lineIDs(of: timeline.open[1].id) == Lab.lineIDs(41...50))
    }

    @Test func degradedLineIsItsOwnIncidentAndWorsens() {
        var timeline = Timeline()
        timeline.lines(["L12"], .degraded, at: 0)
        timeline.advance(to: 5)
        #expect(timeline.open.first?.root == IncidentRoot(subject: .line("L12"), kind: .degraded))
        timeline.lines(["L12"], .down, at: 6)
        timeline.lines(["L12"], .up, at: 20)
        #expect(timeline.open.isEmpty)
        #expect(timeline.all.count == 1)
    }

    @Test func peerPortTrapStartsConfirmationAndJoinsTheChild() {
        // The core's linkDown for the port facing agg1 asks for agg1 at once.
        var timeline = Timeline()
        timeline.port("core", .ifName("xe-1/0/1"), .down, at: 0)
        #expect(timeline.confirmations == [.pollElement("agg1")])
        timeline.element("agg1", .down, at: 2)
        timeline.advance(to: 10)
        #expect(timeline.all.count == 1)
        #expect(timeline.open[0].root.subject == .element("agg1"))
        #expect(timeline.ledger.lineIDs(of: timeline.open[0].id) == Lab.lineIDs(1...40))
    }

    @Test func peerPortIncidentMergesWhenTheChildIsLearnedLate() {
        var timeline = Timeline()
        timeline.port("core", .ifName("xe-1/0/1"), .down, at: 0)
        timeline.advance(to: 5)
        #expect(timeline.open.map(\.root.subject) == [.port("core", .ifName("xe-1/0/1"))])
        timeline.element("agg1", .down, at: 6)
        timeline.advance(to: 12)
        #expect(timeline.open.count == 1)
        #expect(timeline.open[0].root.subject == .element("agg1"))
    }

    @Test func lineCard_portsOfOneElementWithinHoldDownAreOneIncident() {
        var timeline = Timeline()
        timeline.port("acc4", .ifIndex(1), .down, at: 0)
        timeline.port("acc4", .ifIndex(2), .down, at: 0.3)
        timeline.port("acc4", .ifIndex(3), .down, at: 0.6)
        timeline.lines(Lab.lineIDs(51...60), .down, at: 1)
        timeline.advance(to: 10)

        #expect(timeline.open.count == 1)
        let incident = timeline.open[0]
        #expect(incident.root == IncidentRoot(subject: .element("acc4"), kind: .lineCard))
        #expect(timeline.ledger.lineIDs(of: incident.id) == Lab.lineIDs(51...60))

        // A port failing an hour later is a new incident.
        timeline.port("acc1", .ifIndex(1), .down, at: 3600)
        timeline.advance(to: 3610)
        #expect(timeline.open.count == 2)
        #expect(timeline.open[1].root == IncidentRoot(subject: .port("acc1", .ifIndex(1)), kind: .down))
        #expect(timeline.ledger.lineIDs(of: timeline.open[1].id) == Lab.lineIDs(1...10))
    }

    @Test func portFault_linesReportedBeforeThePortStillRootAtThePort() {
        var timeline = Timeline()
        timeline.lines(["L51", "L54", "L57", "L60"], .down, at: 0)  // acc4 port 1
        timeline.port("acc4", .ifIndex(1), .down, at: 0.5)
        timeline.advance(to: 10)
        #expect(timeline.all.count == 1)
        #expect(timeline.open.first?.root == IncidentRoot(subject: .port("acc4", .ifIndex(1)), kind: .down))
        #expect(timeline.ledger.lineIDs(of: timeline.open[0].id) == ["L51", "L54", "L57", "L60"])
    }

    @Test func flapping_oneIncidentOpenWhileItFlaps() {
        var settings = CorrelationSettings(holdDown: .seconds(3))
        settings.flapQuiet = .seconds(120)
        var timeline = Timeline(settings: settings)
        var t = 0.0
        for _ in 0..<8 {  // down 1 s, up 9 s: never long enough for the hold-down alone
            timeline.lines(["L55"], .down, at: t)
            timeline.lines(["L55"], .up, at: t + 1)
            t += 10
        }
        #expect(timeline.all.count == 1)
        let incident = timeline.open[0]
        #expect(incident.flapping)
        #expect(incident.root.subject == .line("L55"))
        #expect(timeline.ledger.lines(of: incident.id).count == 1)  // one interval while it flaps
        // Quiet for the quiet period: resolved, ending at the last recovery.
        timeline.advance(to: t + 200)
        #expect(timeline.open.isEmpty)
        #expect(timeline.all.count == 1)
        #expect(timeline.ledger.incidents[incident.id]?.resolvedAt == timeline.date(t - 9))
    }

    @Test func shortBlipInsideHoldDownOpensNothing() {
        var timeline = Timeline()
        timeline.lines(["L3"], .down, at: 0)
        timeline.lines(["L3"], .up, at: 1)
        timeline.advance(to: 10)
        #expect(timeline.all.isEmpty)
    }

    @Test func maintenance_plannedWithoutTicket_thenOverrunBecomesATicket() {
        var timeline = Timeline()
        let window = MaintenanceWindow(id: "MW1", start: timeline.date(-10), end: timeline.date(100),
                                       elements: ["acc1"], lines: [], reason: "card swap")
        timeline.send(.maintenance(window), at: 0)
        timeline.element("acc1", .down, at: 1)
        timeline.advance(to: 10)
        #expect(timeline.open.count == 1)
        let planned = timeline.open[0]
        #expect(planned.planned)
        #expect(planned.classification == .planned)
        #expect(timeline.ledger.events(planned.id).isEmpty)

        timeline.advance(to: 100.5)
        timeline.element("agg1", .up, at: 100.6)  // what could re-root the overrun answers
        timeline.element("acc2", .up, at: 100.6)
        timeline.element("acc3", .up, at: 100.6)
        timeline.advance(to: 101)
        #expect(timeline.ledger.incidents[planned.id]?.state == .resolved)
        #expect(timeline.ledger.incidents[planned.id]?.resolvedAt == timeline.date(100))
        #expect(timeline.open.count == 1)
        let overrun = timeline.open[0]
        #expect(!overrun.planned)
        #expect(overrun.startedAt == timeline.date(100))
        #expect(timeline.ledger.lineIDs(of: overrun.id) == Lab.lineIDs(1...20))
        #expect(timeline.ledger.events(overrun.id).isEmpty)  // its lines' confirmation probes are out
        timeline.advance(to: 103)  // confirmation wait over: none answered, all 20 cut off
        #expect(timeline.ledger.events(overrun.id) == [.open])
        #expect(timeline.ledger.events(planned.id).isEmpty)
    }

    @Test func maintenance_outsideTheWindowIsNotPlanned() {
        var timeline = Timeline()
        let window = MaintenanceWindow(id: "MW1", start: timeline.date(50), end: timeline.date(100),
                                       elements: ["acc1"], lines: [], reason: "")
        timeline.send(.maintenance(window), at: 0)
        timeline.element("acc1", .down, at: 1)
        timeline.advance(to: 10)
        #expect(timeline.open.first?.planned == false)
    }

    @Test func merge_twoIncidentsSharingARootBecomeOne() {
        var timeline = Timeline()
        // Two access routers failing a minute apart (beyond the forwarding window) are two incidents
        // until their upstream turns out to be down.
        timeline.element("acc1", .down, at: 0)
        timeline.element("agg1", .up, at: 1)
        timeline.element("acc2", .down, at: 60)
        timeline.element("agg1", .up, at: 61)
        timeline.advance(to: 70)
        #expect(timeline.open.map(\.root.subject) == [.element("acc1"), .element("acc2")])
        #expect(timeline.open.map(\.root.kind) == [.unreachable, .unreachable])
        let (first, second) = (timeline.open[0].id, timeline.open[1].id)

        timeline.element("agg1", .down, at: 80)
        timeline.advance(to: 90)
        #expect(timeline.open.count == 1)
        #expect(timeline.open[0].id == first)
        #expect(timeline.open[0].root.subject == .element("agg1"))
        #expect(timeline.ledger.incidents[second]?.mergedInto == first)
        #expect(timeline.ledger.lineIDs(of: first) == Lab.lineIDs(1...40))
        #expect(timeline.ledger.lines(of: second).isEmpty)  // moved to the survivor
        #expect(timeline.ledger.timeline[first]?.contains { $0.kind == "merged" } == true)
        #expect(timeline.ledger.events(second) == [.open, .resolve])
    }

    @Test func customerCallBeforeDetection_openAndConfirm() {
        var timeline = Timeline()
        timeline.call("L7", at: 0, note: "no internet since morning")
        #expect(timeline.open.count == 1)
        let incident = timeline.open[0]
        #expect(incident.root == IncidentRoot(subject: .line("L7"), kind: .customerReport))
        #expect(!incident.proactive)
        #expect(incident.firstCallAt == timeline.date(0))
        #expect(timeline.confirmations == [.probeLine("L7"), .pollElement("acc1")])
        #expect(timeline.reports.map(\.1) == [incident.id])

        timeline.lines(["L7"], .down, at: 1)  // the probe confirms
        timeline.advance(to: 10)
        #expect(timeline.all.count == 1)
        timeline.lines(["L7"], .up, at: 50)
        #expect(timeline.open.isEmpty)
        #expect(timeline.ledger.incidents[incident.id]?.resolvedAt == timeline.date(50))
    }

    @Test func customerCallBeforeDetection_mergesIntoTheRootFoundLater() {
        var timeline = Timeline()
        timeline.call("L7", at: 0)
        timeline.element("agg1", .down, at: 1)
        timeline.advance(to: 10)
        #expect(timeline.open.count == 1)
        #expect(timeline.open[0].root.subject == .element("agg1"))
        #expect(timeline.open[0].firstCallAt == timeline.date(0))
        #expect(!timeline.open[0].proactive)
    }

    @Test func customerCallAfterDetection_attachedAndProactive() {
        var timeline = Timeline()
        timeline.element("agg1", .down, at: 0)
        timeline.advance(to: 5)
        timeline.call("L7", at: 30)
        #expect(timeline.all.count == 1)
        let incident = timeline.open[0]
        #expect(incident.proactive)
        #expect(incident.firstCallAt == timeline.date(30))
        #expect(timeline.ledger.timeline[incident.id]?.contains { $0.kind == "customer-call" } == true)
    }

    @Test func operatorActions() {
        var timeline = Timeline()
        timeline.element("acc1", .down, at: 0)
        timeline.advance(to: 5)
        let id = timeline.open[0].id
        timeline.send(.operatorAction(OperatorAction(incident: id, kind: .acknowledge, by: "eva", at: timeline.date(6))), at: 6)
        timeline.send(.operatorAction(OperatorAction(incident: id, kind: .note("crew sent"), by: "eva", at: timeline.date(7))), at: 7)
        timeline.send(.operatorAction(OperatorAction(incident: id, kind: .classify(.forceMajeure), by: "eva",
                                                     at: timeline.date(8))), at: 8)
        timeline.send(.operatorAction(OperatorAction(incident: id, kind: .resolve(note: "fixed"), by: "eva",
                                                     at: timeline.date(9))), at: 9)
        let incident = timeline.ledger.incidents[id]!
        #expect(incident.acknowledgedAt == timeline.date(6))
        #expect(incident.classification == .forceMajeure)
        #expect(incident.state == .resolved)
        #expect(incident.resolvedAt == timeline.date(9))
        #expect(timeline.ledger.lines(of: id).allSatisfy { $0.end == timeline.date(9) })
        // Still down: nothing new is opened for it, and its recovery is recognised.
        timeline.lines(["L1"], .down, at: 10)
        timeline.advance(to: 20)
        #expect(timeline.open.isEmpty)
        timeline.send(.operatorAction(OperatorAction(incident: IncidentID(99), kind: .acknowledge, by: "",
                                                     at: timeline.date(21))), at: 21)
        #expect(timeline.rejections.count == 1)
    }

    @Test func restartInTheMiddle_continuesTheSameIncidents() throws {
        var timeline = Timeline()
        timeline.element("agg1", .down, at: 0)
        timeline.call("L45", at: 1)
        timeline.advance(to: 5)
        #expect(timeline.open.count == 2)
        let ids = timeline.open.map(\.id)
        let outage = try #require(timeline.open.first { $0.root.subject == .element("agg1") }).id
        let call = try #require(timeline.open.first { $0.root.subject == .line("L45") }).id

        // kill -9: all that survives is what was persisted.
        var restarted = Timeline()
        restarted.ledger = timeline.ledger
        restarted.now = VirtualInstant.seconds(30)
        restarted.correlator.supplyIncidentIDs(3 ..< 100)
        let recovered = restarted.correlator.recover(timeline.ledger.snapshots, now: restarted.now)
        restarted.apply(recovered)
        #expect(restarted.confirmations.contains(.pollElement("agg1")))
        #expect(restarted.confirmations.contains(.probeLine("L45")))

        // The sources tell again what they see; nothing reopens or duplicates.
        restarted.element("agg1", .down, at: 31)
        restarted.lines(Lab.lineIDs(1...40), .down, at: 31)
        restarted.advance(to: 40)
        #expect(restarted.open.map(\.id) == ids)
        #expect(restarted.ledger.outbox.filter { $0.event == .open }.count == 2)

        restarted.element("agg1", .up, at: 50)
        restarted.lines(Lab.lineIDs(1...40), .up, at: 50)
        #expect(restarted.open.map(\.id) == [call])
        #expect(restarted.ledger.lines(of: outage).allSatisfy { $0.end == restarted.date(50) })
        #expect(restarted.ledger.incidents[outage]?.resolvedAt == restarted.date(50))
        // New incidents continue the numbering.
        restarted.element("acc4", .down, at: 60)
        restarted.advance(to: 70)
        #expect(restarted.open.last?.id == IncidentID(3))
    }

    @Test func rebootIsABriefIncidentAlreadyOver() {
        var timeline = Timeline()
        let observation = Observation(subject: .element("acc2"), kind: .rebooted, since: timeline.date(-40),
                                      observedAt: timeline.date(0), source: .poll, detail: "sysUpTime went back")
        timeline.send(.observation(observation), at: 0)
        #expect(timeline.open.isEmpty)
        let incident = timeline.all[0]
        #expect(incident.root == IncidentRoot(subject: .element("acc2"), kind: .rebooted))
        #expect(timeline.ledger.events(incident.id) == [.open, .resolve])
    }
}
