import ForewarnModel
import Foundation
import Persistence
@testable import ForewarnDaemon
import Testing

/// Collection health from what the sources reported, at injected instants.
@Suite struct CollectionMeasureTests {
    static let start = Date(unixMilliseconds: 1_800_000_000_000)

    static func line(_ id: String, probe: ProbeMethod = .icmp) -> Line {
        Line(id: LineID(id), customer: "C1", element: "e1", port: nil, probe: probe,
             target: probe == .none ? nil : IPAddress("192.0.2.10"), contract: nil, service: .data)
    }

    @Test func countsStatesOfTheInventoryInForceAndRatesSinceTheMark() {
        let statistics = CollectionStatistics()
        let at = Self.start
        statistics.observed([
            Observation(subject: .element("e1"), kind: .state(.up), since: at, observedAt: at, source: .poll, detail: ""),
            Observation(subject: .element("e2"), kind: .state(.down), since: at, observedAt: at, source: .poll, detail: ""),
            Observation(subject: .element("gone"), kind: .state(.down), since: at, observedAt: at, source: .poll, detail: ""),
            Observation(subject: .line("L1"), kind: .state(.up), since: at, observedAt: at, source: .probe, detail: ""),
            Observation(subject: .line("L2"), kind: .state(.down), since: at, observedAt: at, source: .probe, detail: ""),
            Observation(subject: .line("L3"), kind: .state(.degraded), since: at, observedAt: at, source: .probe, detail: ""),
            Observation(subject: .element("e3"), kind: .rebooted, since: at, observedAt: at, source: .poll, detail: ""),
        ])
        statistics.probing(["L1", "L2", "L3", "L4"])
        for _ in 0..<30 { statistics.pollFinished(timedOut: false) }
        for _ in 0..<6 { statistics.pollFinished(timedOut: true) }
        statistics.probeRounds(total: 120)
        statistics.trapReceived(at: at.addingTimeInterval(5))
        statistics.trapReceived(at: at.addingTimeInterval(8))

        let lines = ["L1", "L2", "L3", "L4"].map { Self.line($0) } + [Self.line("L5", probe: .none), Self.line("L6")]
        let mark = CollectionMeasure.Mark(counters: .init(polls: 6, probeRounds: 20, traps: 0, snmpTimeouts: 0),
                                          at: at)
        let health = CollectionMeasure.measure(elements: ["e1", "e2", "e3", "e4"], lines: lines,
                                               snapshot: statistics.snapshot, since: mark, now: at.addingTimeInterval(10))
        // e3 only rebooted (no state yet) and e4 never answered: not polled; "gone" is not configured.
        #expect(health.elementsReachable == 1 && health.elementsUnreachable == 1 && health.elementsNotPolled == 2)
        // L4 probed without a verdict yet; L5 has no probe, L6 was not taken on by the prober.
        #expect(health.linesUp == 1 && health.linesDown == 1 && health.linesDegraded == 1)
        #expect(health.linesUnknown == 1 && health.linesUnprobed == 2)
        #expect(health.pollsPerSecond == 3 && health.probesPerSecond == 10 && health.trapsPerSecond == 0.2)
        #expect(health.snmpTimeouts == 6 && health.lastTrapAt == at.addingTimeInterval(8))
    }

    @Test func beforeTheProberStartsLinesWithAProbeAreUnknown() {
        let health = CollectionMeasure.measure(elements: [], lines: [Self.line("L1"), Self.line("L2", probe: .none)],
                                               snapshot: CollectionStatistics().snapshot,
                                               since: .init(counters: .init(), at: Self.start), now: Self.start)
        #expect(health.linesUnknown == 1 && health.linesUnprobed == 1 && health.pollsPerSecond == 0)
    }

    @Test func ratesAreMeasuredOverTheLastMinute() {
        let marks = (0...70).map { CollectionMeasure.Mark(counters: .init(polls: $0), at: Self.start.addingTimeInterval(Double($0))) }
        let kept = CollectionMeasure.window(marks, now: Self.start.addingTimeInterval(70))
        // The newest mark at least 60 s old (t = 10) and every later one.
        #expect(kept.first?.at == Self.start.addingTimeInterval(10) && kept.count == 61)
        #expect(CollectionMeasure.window(Array(marks.prefix(5)), now: Self.start.addingTimeInterval(4)).count == 5)
    }
}
