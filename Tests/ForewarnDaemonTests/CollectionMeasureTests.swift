import ForewarnModel
import Foundation
import Persistence
import Probes
import Stores
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

    @Test func confirmationRoundsCountAsTheLinesNewestVerdicts() async {
        let statistics = CollectionStatistics()
        let at = Self.start
        let sink = CorrelatorLineSink(correlator: NullObservationSink(), collection: statistics)
        await sink.deliver([LineObservation(observation: Observation(subject: .line("L1"), kind: .state(.down), since: at,
                                                                     observedAt: at, source: .probe, detail: "confirmation"),
                                            previous: .up)])
        #expect(statistics.snapshot.lines["L1"] == .down)
        #expect(statistics.lineHealth("L1") == .down && statistics.lineHealth("L2") == nil)
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

/// The status's credits and KPIs are reused for a minute, and recomputed after it, after a
/// reload, or when the clock went back.
@Suite struct StatusAccountingTests {
    @Test func creditsAndKPIsAreReusedForAMinuteOnly() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-accounting-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try StoreFactory.open(folder + "/forewarn.sqlite", access: .create)
        let configuration = CorrelatorServiceTests.configuration()
        let now = Date(unixMilliseconds: 1_795_000_000_000)  // 2026-11-18, in 2026Q4
        let accounting = StatusAccounting(maxAge: 60)
        func incidents(at seconds: TimeInterval, generation: Int = 0) async -> Int? {
            await accounting.figures(configuration: configuration, generation: generation, store: store,
                                     now: now.addingTimeInterval(seconds)).kpis?.incidents
        }
        func open(_ id: Int64) async throws {
            let header = Incident(id: IncidentID(id), root: IncidentRoot(subject: .line(LineID("L\(id)")), kind: .down),
                                  group: "line:L\(id)", severity: .minor, proactive: true, startedAt: now,
                                  detectedAt: now.addingTimeInterval(1), updatedAt: now.addingTimeInterval(1))
            try await store.record(CorrelationBatch(changes: [IncidentChange(
                kind: .open, incident: header, lines: [LineInterval(line: LineID("L\(id)"), customer: CustomerID("C\(id)"), start: now)])],
                                                    at: now.addingTimeInterval(1)))
        }
        #expect(await incidents(at: 0) == 0)
        try await open(1)
        #expect(await incidents(at: 59) == 0, "reused within the minute")
        #expect(await incidents(at: 30, generation: 1) == 1, "recomputed after a reload")
        try await open(2)
        #expect(await incidents(at: 60, generation: 1) == 1, "reused: computed 30 s before")
        #expect(await incidents(at: 20, generation: 1) == 2, "recomputed: the clock went back")
        try await open(3)
        #expect(await incidents(at: 80, generation: 1) == 3, "recomputed: a minute old")
    }
}
