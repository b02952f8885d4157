import Correlation
import ForewarnModel
import Foundation
import Testing

/// kill -9 during a hold-down: nothing was decided yet, but the sources' first evidence is in
/// the store's transitions. The restarted sources see the faults again, later; the outage must
/// still start at the recorded first failure (credits are paid from these intervals).
@Suite struct RestartEvidenceTests {
    func recorded(_ subject: Subject, _ to: Health, at seconds: Double, in timeline: Timeline) -> StateTransition {
        StateTransition(subject: subject, from: to == .up ? .down : .up, to: to, at: timeline.date(seconds),
                        evidence: "recorded before the restart")
    }

    @Test func killDuringHoldDown_reobservedFaultsKeepTheirRecordedStart() throws {
        // Before the kill (hold-down 3 s): lines L1–L5 and acc4 failed at t=0; L6 failed at t=0
        // too but came back while the daemon was away; the daemon died at t=1.
        var restarted = Timeline()
        restarted.now = VirtualInstant.seconds(30)
        restarted.correlator.supplyIncidentIDs(1 ..< 100)
        restarted.apply(restarted.correlator.recover([], now: restarted.now))
        let evidence = Lab.lineIDs(1...6).map { recorded(.line($0), .down, at: 0, in: restarted) }
            + [recorded(.element("acc4"), .down, at: 0.5, in: restarted)]
        restarted.correlator.restoreFirstEvidence(evidence)

        // The restarted sources date the faults from their own first failures after the start.
        restarted.lines(Lab.lineIDs(1...5), .down, at: 33)
        restarted.element("acc4", .down, at: 33)
        restarted.observe(.line("L6"), .up, at: 31)
        restarted.observe(.line("L6"), .down, at: 35)
        restarted.advance(to: 45)

        #expect(!restarted.open.isEmpty)
        for line in Lab.lineIDs(1...5) {
            let intervals = restarted.open.flatMap { restarted.ledger.lines(of: $0.id) }.filter { $0.line == line }
            #expect(intervals.map(\.start) == [restarted.date(0)], "\(line): \(intervals)")
        }
        let element = try #require(restarted.open.first { $0.root.subject == .element("acc4") })
        #expect(element.startedAt == restarted.date(0.5))
        #expect(restarted.ledger.lines(of: element.id).allSatisfy { $0.start == restarted.date(0.5) })
        // L6's recorded failure ended while the daemon was away: its new outage starts when seen.
        let l6 = restarted.open.flatMap { restarted.ledger.lines(of: $0.id) }.filter { $0.line == "L6" }
        #expect(l6.map(\.start) == [restarted.date(35)], "\(l6)")
    }

    @Test func evidenceCountsOnlyForTheFirstObservationOfTheSameState() throws {
        var restarted = Timeline()
        restarted.now = VirtualInstant.seconds(30)
        restarted.correlator.supplyIncidentIDs(1 ..< 100)
        restarted.correlator.restoreFirstEvidence([recorded(.line("L7"), .degraded, at: 0, in: restarted)])
        // Seen down, not degraded: the recorded degradation does not date this outage.
        restarted.observe(.line("L7"), .down, at: 32)
        restarted.advance(to: 40)
        let intervals = restarted.open.flatMap { restarted.ledger.lines(of: $0.id) }.filter { $0.line == "L7" }
        #expect(intervals.map(\.start) == [restarted.date(32)], "\(intervals)")
    }
}
