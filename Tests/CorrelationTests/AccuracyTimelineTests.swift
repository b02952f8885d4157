import Correlation
import ForewarnModel
import Foundation
import Testing

/// Scripted timelines for the accuracy of what is announced and recorded: one incident per fault,
/// the scope settled before anyone is told, outage intervals from the first evidence, and the
/// time from a cut to the announcement with the lab's tuning. Virtual time, hold-down 3 s unless
/// said otherwise.
@Suite struct AccuracyTimelineTests {
    // MARK: the first announcement carries the settled scope

    @Test func silentAgent_announcedOnceItsLinesAnswered_warningWithoutLines() throws {
        // t=0 acc1's agent dies (it still forwards); t=0.1 agg1 and acc1's siblings answer;
        // t=0.4 the confirmation probes of L1–L20 answer (up all along)
        // ⇒ the incident is recorded at once, announced at 0.4: warning, no line, no customer
        var timeline = Timeline()
        timeline.element("acc1", .down, at: 0)
        for element in ["agg1", "acc2", "acc3"] { timeline.element(element, .up, at: 0.1) }
        let id = try #require(timeline.open.first?.id)
        #expect(timeline.ledger.lineIDs(of: id) == Lab.lineIDs(1...20))  // recorded with its lines
        #expect(timeline.ledger.events(id).isEmpty)  // but not announced yet
        #expect(Set(timeline.confirmations).isSuperset(of: Lab.lineIDs(1...20).map { .probeLine($0) }))

        for line in Lab.lineIDs(1...20) { timeline.observe(.line(line), .up, at: 0.4, since: -600, source: .probe) }
        let open = try #require(timeline.ledger.firstOpen(id))
        #expect(open.incident.root == IncidentRoot(subject: .element("acc1"), kind: .unreachable))
        #expect(open.incident.severity == .warning)
        #expect(open.lines == 0 && open.customers == 0)
        #expect(abs(open.incident.updatedAt.timeIntervalSince(timeline.date(0.4))) < 0.001)
        // The timeline says the lines left the scope.
        let scope = timeline.ledger.timeline[id]?.filter { $0.kind == "scope" }.map(\.detail) ?? []
        #expect(scope.contains { $0.hasPrefix("20 lines left the scope") })
        #expect(timeline.ledger.announcementsAreConsistent)
        timeline.advance(to: 30)
        #expect(timeline.ledger.events(id) == [.open])
    }

    @Test func linesThatDoNotAnswerAreAnnouncedAfterTheConfirmationWait() throws {
        var timeline = Timeline()  // confirmation wait 2 s by default
        timeline.element("acc1", .down, at: 0)
        for element in ["agg1", "acc2", "acc3"] { timeline.element(element, .up, at: 0.1) }
        let id = try #require(timeline.open.first?.id)
        for line in Lab.lineIDs(1...5) {  // five answer (up all along), the rest stay silent
            timeline.observe(.line(line), .up, at: 1, since: -600, source: .probe)
        }
        timeline.advance(to: 2.0)
        #expect(timeline.ledger.events(id).isEmpty)
        timeline.advance(to: 2.1)
        let open = try #require(timeline.ledger.firstOpen(id))
        #expect(open.lines == 15)
        #expect(open.incident.severity == .major)  // 15 customers
        #expect(timeline.ledger.announcementsAreConsistent)
    }

    @Test func cutAccessLink_firstAnnouncementIsTheUnreachableRouter() throws {
        // t=0 core's linkDown for the port facing agg1 (a port incident after the hold-down);
        // t=4 agg1 declared unreachable (its confirmations took longer than the hold-down);
        // t=4.05 core and agg2 answer ⇒ re-rooted before anyone was told: the first `open` is
        // agg1 unreachable with its 40 lines, never the port warning
        var timeline = Timeline()
        timeline.port("core", .ifName("xe-1/0/1"), .down, at: 0)
        timeline.advance(to: 3.5)
        let id = try #require(timeline.open.first?.id)
        #expect(timeline.open.first?.root.kind == .linkDown)
        #expect(timeline.ledger.events(id).isEmpty)  // agg1 has not answered: it may be the root
        timeline.element("agg1", .down, at: 4)
        timeline.element("core", .up, at: 4.05)
        timeline.element("agg2", .up, at: 4.05)
        timeline.advance(to: 30)
        #expect(timeline.all.count == 1)
        let open = try #require(timeline.ledger.firstOpen(id))
        #expect(open.incident.root == IncidentRoot(subject: .element("agg1"), kind: .unreachable))
        #expect(open.lines == 40)
        #expect(open.incident.severity == .critical)
        #expect(timeline.ledger.events(id) == [.open])
        #expect(timeline.ledger.announcementsAreConsistent)
    }

    @Test func announcementIsHeldAtMostAnnounceMax() throws {
        // Nothing that could re-root acc4 ever answers: it is announced announce_max after it was
        // decided, whatever is still outstanding.
        var settings = CorrelationSettings(holdDown: .seconds(3))
        settings.announceMax = .seconds(5)
        var timeline = Timeline(settings: settings)
        timeline.element("acc4", .down, at: 0)
        timeline.advance(to: 7.9)  // decided at 3 (hold-down over, agg2 silent)
        let id = try #require(timeline.open.first?.id)
        #expect(timeline.ledger.events(id).isEmpty)
        timeline.advance(to: 8)
        #expect(timeline.ledger.events(id) == [.open])
        #expect(timeline.ledger.firstOpen(id)?.lines == 10)
    }

    @Test func openedAndResolvedBeforeAnnounced_openThenResolveEachOnItsOwnChange() throws {
        var timeline = Timeline()
        timeline.element("acc1", .down, at: 0)
        for element in ["agg1", "acc2", "acc3"] { timeline.element(element, .up, at: 0.1) }
        let id = try #require(timeline.open.first?.id)
        timeline.element("acc1", .up, at: 1)  // back before its lines' confirmation wait ended
        #expect(timeline.open.isEmpty)
        #expect(timeline.ledger.events(id) == [.open, .resolve])
        #expect(timeline.ledger.announced.map(\.change) == [.open, .resolve])
        #expect(timeline.ledger.announcementsAreConsistent)

        // A reboot is the same: an incident already over when it is known.
        let reboot = Observation(subject: .element("acc2"), kind: .rebooted, since: timeline.date(5),
                                 observedAt: timeline.date(10), source: .poll, detail: "sysUpTime went back")
        timeline.send(.observation(reboot), at: 10)
        let rebooted = try #require(timeline.all.last)
        #expect(timeline.ledger.announced.filter { $0.incident.id == rebooted.id }.map(\.change) == [.open, .resolve])
    }

    @Test func absorbedBeforeAnnounced_neverAnnounced() throws {
        // L1's own fault opens a line incident; agg1 is learned before it was announced: the line
        // incident merges into agg1's without ever being told, and only the survivor is announced.
        var timeline = Timeline()
        timeline.lines(["L1"], .down, at: 0)
        timeline.advance(to: 3.5)  // decided (acc1 silent), held for acc1's answer
        let line = try #require(timeline.open.first?.id)
        timeline.element("agg1", .down, at: 4)
        timeline.element("core", .up, at: 4.1)
        timeline.element("agg2", .up, at: 4.1)
        timeline.advance(to: 30)
        #expect(timeline.open.count == 1)
        #expect(timeline.ledger.events(line) == [.open])  // the survivor is the oldest: same id
        #expect(timeline.ledger.firstOpen(line)?.incident.root.subject == .element("agg1"))
        #expect(timeline.ledger.outbox.count == 1)
    }

    // MARK: one link, one incident

    @Test func linkCutSeenFromBothEnds_oneIncidentWithBothPorts() throws {
        // t=0.1 core's linkDown for xe-1/0/1; t=0.3 agg1's own xe-0/0/0 down (agg1 still answers,
        // it is reached another way) ⇒ one link-down incident holding both ports, no line
        var timeline = Timeline()
        timeline.port("core", .ifName("xe-1/0/1"), .down, at: 0.1)
        timeline.port("agg1", .ifName("xe-0/0/0"), .down, at: 0.3)
        timeline.element("agg1", .up, at: 0.35)
        timeline.advance(to: 10)
        #expect(timeline.all.count == 1)
        let incident = try #require(timeline.open.first)
        #expect(incident.root == IncidentRoot(subject: .port("agg1", .ifName("xe-0/0/0")), kind: .linkDown))
        #expect(incident.severity == .warning)
        #expect(timeline.ledger.lines(of: incident.id).isEmpty)
        let ports = timeline.ledger.faults.values.filter { $0.incident == incident.id }.map(\.record.subject)
        #expect(Set(ports) == [.port("core", .ifName("xe-1/0/1")), .port("agg1", .ifName("xe-0/0/0"))])
        #expect(timeline.ledger.events(incident.id) == [.open])

        // Both ends come back: resolved once.
        timeline.port("core", .ifName("xe-1/0/1"), .up, at: 60)
        #expect(timeline.open.count == 1)
        timeline.port("agg1", .ifName("xe-0/0/0"), .up, at: 60.2)
        #expect(timeline.open.isEmpty)
        #expect(timeline.ledger.events(incident.id) == [.open, .resolve])
    }

    // MARK: grey failure: an upstream that answers but does not forward

    @Test func forwardingFailure_oneIncidentRootedAtTheUpstreamWithEveryLineBehind() throws {
        // agg1 answers SNMP and ping but forwards nothing: acc1 and acc2 stop answering 0.4 s
        // apart (their own polls), acc3 keeps its path through agg2
        var timeline = Timeline()
        timeline.element("acc1", .down, at: 0)
        timeline.element("acc2", .down, at: 0.4)
        timeline.element("agg1", .up, at: 0.5)
        timeline.element("acc3", .up, at: 0.5)
        timeline.advance(to: 10)
        #expect(timeline.all.count == 1)
        let incident = try #require(timeline.open.first)
        #expect(incident.root == IncidentRoot(subject: .element("agg1"), kind: .forwardingFailure))
        #expect(timeline.ledger.lineIDs(of: incident.id) == Lab.lineIDs(1...40))
        #expect(timeline.ledger.firstOpen(incident.id)?.incident.root.kind == .forwardingFailure)
        #expect(timeline.ledger.events(incident.id) == [.open])
        #expect(timeline.confirmations.contains(.pollElement("acc2")))  // siblings asked at once
        #expect(timeline.confirmations.contains(.pollElement("acc3")))

        // Forwarding resumes: both answer again, resolved.
        timeline.element("acc1", .up, at: 60)
        #expect(timeline.open.count == 1)
        timeline.element("acc2", .up, at: 61)
        #expect(timeline.open.isEmpty)
    }

    @Test func forwardingFailure_secondElementLearnedLater_reRootedBeforeAnnounced() throws {
        // acc1 is decided first (agg1 answers); acc2's failure is declared 2 s later: the incident
        // is re-rooted at agg1 before its announcement, which waited for acc2's answer
        var timeline = Timeline()
        timeline.element("acc1", .down, at: 0)
        timeline.element("agg1", .up, at: 0.1)
        timeline.element("acc3", .up, at: 0.1)
        let id = try #require(timeline.open.first?.id)
        #expect(timeline.open.first?.root.kind == .unreachable)
        timeline.element("acc2", .down, at: 2)
        timeline.element("agg1", .up, at: 2.1)
        timeline.advance(to: 10)
        #expect(timeline.all.count == 1)
        let open = try #require(timeline.ledger.firstOpen(id))
        #expect(open.incident.root == IncidentRoot(subject: .element("agg1"), kind: .forwardingFailure))
        #expect(open.lines == 40)
        #expect(timeline.ledger.events(id) == [.open])
    }

    @Test func forwardingFailure_withTheLabsTuning_siblingsDeclaredAfterTheFirstDecision() throws {
        // As in the lab: acc1 is declared at 0 and decided at once (agg1 and acc3 answer); the
        // polls of its siblings it asked for fail, so acc2 is declared 1.4 s later, dated 0.3.
        // agg1 is asked again (its earlier answer predates acc2's failure) and answers at 1.45:
        // one forwarding failure, announced as such within announce_max of the first decision.
        var timeline = Timeline(settings: Self.labSettings)
        timeline.element("acc1", .down, at: 0)
        timeline.element("agg1", .up, at: 0.05)
        timeline.element("acc3", .up, at: 0.05)
        let id = try #require(timeline.open.first?.id)
        timeline.observe(.element("acc2"), .down, at: 1.4, since: 0.3)
        #expect(timeline.confirmations.filter { $0 == .pollElement("agg1") }.count == 2)
        timeline.element("agg1", .up, at: 1.45)
        timeline.advance(to: 3.05)
        let open = try #require(timeline.ledger.firstOpen(id))
        #expect(open.incident.root == IncidentRoot(subject: .element("agg1"), kind: .forwardingFailure))
        #expect(open.lines == 40)
        #expect(timeline.all.count == 1)
    }

    @Test func forwardingFailure_needsTheUpstreamToAnswer() {
        // acc1 and acc2 fail together, but agg1 never answers: agg1 is not blamed for forwarding
        var timeline = Timeline()
        timeline.element("acc1", .down, at: 0)
        timeline.element("acc2", .down, at: 0.4)
        timeline.advance(to: 10)
        #expect(timeline.open.map(\.root.kind) == [.unreachable, .unreachable])
    }

    // MARK: outage intervals from the first evidence

    @Test func intervalsStartAtTheFirstEvidenceAndEndAtTheFirstGoodRound() throws {
        // agg1 stops forwarding at t=0. The lines' own first lost rounds are at 0.5 (L1) and 1
        // (L21); acc1's first failed poll at 2, acc2's at 2.4. The lines' own verdicts come at
        // 10–12 (K lost rounds). Forwarding resumes at 30: the lines' first good round is 30;
        // acc1 and acc2 answer their polls only at 34.
        var timeline = Timeline()
        timeline.observe(.element("acc1"), .down, at: 3, since: 2)
        timeline.observe(.element("acc2"), .down, at: 3.4, since: 2.4)
        timeline.element("agg1", .up, at: 3.5)
        timeline.element("acc3", .up, at: 3.5)
        let id = try #require(timeline.open.first?.id)
        timeline.observe(.line("L1"), .down, at: 10, since: 0.5, source: .probe)
        timeline.observe(.line("L21"), .down, at: 12, since: 1, source: .probe)
        timeline.advance(to: 20)

        var intervals = timeline.ledger.lines(of: id)
        #expect(intervals.filter { $0.line == "L1" }.map(\.start) == [timeline.date(0.5)])  // own first lost round
        #expect(intervals.filter { $0.line == "L21" }.map(\.start) == [timeline.date(1)])
        #expect(intervals.first { $0.line == "L2" }?.start == timeline.date(2))  // acc1's failure
        // acc2's lines: cut off since the upstream stopped forwarding (acc1's failure came first).
        #expect(intervals.first { $0.line == "L25" }?.start == timeline.date(2))
        #expect(timeline.ledger.incidents[id]?.startedAt == timeline.date(0.5))

        // Recovery: acc1 and acc2 answer at 34; L1 and L21 are still down by their own verdicts.
        timeline.element("acc1", .up, at: 34)
        timeline.element("acc2", .up, at: 34)
        // L21's confirmation probe answers at 34.2 (up from then); its verdict, dated at its
        // first good round (30), comes later, and so does L1's.
        timeline.observe(.line("L21"), .up, at: 34.2, since: 34.2, source: .probe)
        timeline.observe(.line("L1"), .up, at: 40, since: 30, source: .probe)
        timeline.observe(.line("L21"), .up, at: 40, since: 30, source: .probe)
        #expect(timeline.open.isEmpty)
        intervals = timeline.ledger.lines(of: id)
        #expect(intervals.filter { $0.line == "L1" }.map(\.end) == [timeline.date(30)])
        #expect(intervals.filter { $0.line == "L21" }.map(\.end) == [timeline.date(30)])
        #expect(intervals.first { $0.line == "L2" }?.end == timeline.date(34))  // no evidence of its own
        #expect(intervals.allSatisfy { ($0.end ?? .distantFuture) > $0.start })
        // Resolved once, announced once: the later correction of L1's end is no news for a ticket.
        #expect(timeline.ledger.events(id) == [.open, .resolve])
    }

    @Test func ownEvidenceNeverReachesBackIntoAnEarlierIncident() throws {
        // acc1 fails 0–10 (incident 1) and again from 20 (incident 2); L1's own verdict in the
        // second outage is dated 5 (its lost rounds straddle both): its second interval starts
        // where the first ended, never overlapping it.
        var timeline = Timeline()
        timeline.element("acc1", .down, at: 0)
        for element in ["agg1", "acc2", "acc3"] { timeline.element(element, .up, at: 0.1) }
        timeline.element("acc1", .up, at: 10)
        timeline.element("acc1", .down, at: 20)
        for element in ["agg1", "acc2", "acc3"] { timeline.element(element, .up, at: 20.1) }
        let second = try #require(timeline.open.first?.id)
        timeline.observe(.line("L1"), .down, at: 25, since: 5, source: .probe)
        let l1 = timeline.ledger.lines.values.flatMap(\.values).filter { $0.line == "L1" }
            .sorted { $0.start < $1.start }
        #expect(l1.map(\.start) == [timeline.date(0), timeline.date(10)])
        #expect(timeline.ledger.lines(of: second).first { $0.line == "L1" }?.start == timeline.date(10))
    }

    // MARK: detection speed with the lab's tuning

    /// The lab: hold-down 2 s, confirmation wait 1 s, announcement held at most 3 s.
    static var labSettings: CorrelationSettings {
        var settings = CorrelationSettings(holdDown: .seconds(2))
        settings.confirmationWait = .seconds(1)
        settings.announceMax = .seconds(3)
        return settings
    }

    @Test func cutLink_announcedWithinThreeSeconds() throws {
        // t=0 the link core–agg1 is cut; t=0.3 core's linkDown trap; agg1's trap-triggered poll
        // and two confirmations fail (300 ms timeout, 300 ms apart): declared down at 1.5, dated
        // 0.3; core and agg2 answer their confirmation polls at 1.55; no line answers
        var timeline = Timeline(settings: Self.labSettings)
        timeline.port("core", .ifName("xe-1/0/1"), .down, at: 0.3)
        timeline.observe(.element("agg1"), .down, at: 1.5, since: 0.3)
        timeline.element("core", .up, at: 1.55)
        timeline.element("agg2", .up, at: 1.55)
        timeline.advance(to: 3)
        let incident = try #require(timeline.open.first)
        let open = try #require(timeline.ledger.firstOpen(incident.id))
        #expect(open.incident.root == IncidentRoot(subject: .element("agg1"), kind: .unreachable))
        #expect(open.lines == 40)
        #expect(timeline.ledger.announced.first?.incident.updatedAt ?? .distantFuture <= timeline.date(3))
        #expect(timeline.all.count == 1)
    }

    @Test func trapWithoutFailure_noFalseIncidentBeyondTheLink() throws {
        // A linkDown trap whose element keeps answering (a single lost poll never declares it
        // down): the link's own warning, never an unreachable router, never a line.
        var timeline = Timeline(settings: Self.labSettings)
        timeline.port("core", .ifName("xe-1/0/1"), .down, at: 0.3)
        timeline.element("agg1", .up, at: 0.9)
        timeline.advance(to: 10)
        let incident = try #require(timeline.open.first)
        #expect(timeline.all.count == 1)
        #expect(incident.root == IncidentRoot(subject: .port("core", .ifName("xe-1/0/1")), kind: .linkDown))
        #expect(timeline.ledger.lines(of: incident.id).isEmpty)
        #expect(timeline.ledger.firstOpen(incident.id)?.incident.severity == .warning)
        // Announced as soon as agg1 answered: nothing else can re-root it.
        #expect(abs((timeline.ledger.firstOpen(incident.id)?.incident.updatedAt ?? .distantFuture)
            .timeIntervalSince(timeline.date(0.9))) < 0.001)
    }
}
