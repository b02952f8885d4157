import ForewarnModel
import SNMP
import Testing

/// Virtual time: instants are built from an origin, nothing sleeps.
private let t0 = ContinuousClock.now
private func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int64(seconds * 1000)) }

@Suite("Log lines aggregated per reason and minute")
struct LogAggregatorTests {
    typealias Aggregator = LogAggregator<ContinuousClock.Instant>

    static func summaries(_ reports: [Aggregator.Report]) -> [Aggregator.Summary] {
        reports.compactMap { if case .summary(let summary) = $0 { return summary } else { return nil } }
    }

    @Test func aFloodFromAHundredThousandSourcesIsTwoLinesAMinute() {
        var aggregator = Aggregator()
        var lines: [Aggregator.Report] = []
        // 100,000 datagrams from 100,000 spoofed addresses within one minute (per source, this
        // was 100,000 warnings).
        for index in 0..<100_000 {
            lines += aggregator.record("trap.undecodable", source: "10.\(index >> 16).\(index >> 8 & 255).\(index & 255)",
                                       at: at(Double(index) * 0.0005))
        }
        #expect(lines == [.first(reason: "trap.undecodable")])
        #expect(aggregator.tick(at: at(59.9)).isEmpty)
        let summary = Self.summaries(aggregator.tick(at: at(60)))
        #expect(summary.count == 1)
        #expect(summary.first?.count == 99_999)
        #expect(summary.first?.sources == Aggregator.sourceLimit && summary.first?.moreSources == true)
        #expect(summary.first?.over == .seconds(60))
    }

    @Test func aContinuingFloodIsOneSummaryAMinuteAndQuietMakesTheNextOneLoggedAtOnce() {
        var aggregator = Aggregator()
        #expect(aggregator.record("trap.rate_limited", source: "192.0.2.66", at: at(0)) == [.first(reason: "trap.rate_limited")])
        var reports: [Aggregator.Report] = []
        // Ten a second for three minutes, mostly from one source.
        for tenth in 1..<1_800 {
            let source = tenth % 10 == 0 ? "192.0.2.7" : "192.0.2.66"
            reports += aggregator.record("trap.rate_limited", source: source, at: at(Double(tenth) / 10))
        }
        reports += aggregator.tick(at: at(180))
        let summaries = Self.summaries(reports)
        #expect(reports.count == 3 && summaries.count == 3, "no second 'first' while the flood goes on: \(reports)")
        #expect(summaries.map(\.count) == [599, 600, 600])
        #expect(summaries.allSatisfy { $0.sources == 2 && $0.top == "192.0.2.66" && !$0.moreSources })
        #expect(summaries[0].topCount == 540)
        // A quiet minute: nothing to say, and the reason is forgotten.
        #expect(aggregator.tick(at: at(240)).isEmpty)
        #expect(aggregator.isIdle)
        #expect(aggregator.record("trap.rate_limited", source: "192.0.2.66", at: at(241)) == [.first(reason: "trap.rate_limited")])
    }

    @Test func reasonsAreCountedApartAndAnOccurrenceBringsDueSummariesOfOthers() {
        var aggregator = Aggregator()
        _ = aggregator.record("trap.undecodable", source: "a", at: at(0))
        _ = aggregator.record("trap.undecodable", source: "b", detail: "last words", at: at(1))
        #expect(aggregator.record("trap.unknown_source", source: "c", at: at(2)) == [.first(reason: "trap.unknown_source")])
        // No tick: the next occurrence of anything brings the summary that is due.
        let reports = aggregator.record("trap.unknown_source", source: "c", at: at(61))
        #expect(reports.count == 1)
        let summary = Self.summaries(reports).first
        #expect(summary?.reason == "trap.undecodable" && summary?.count == 1 && summary?.lastDetail == "last words")
        #expect(summary?.over == .seconds(61))
    }

    @Test func flushSaysWhatIsStillCountedAtAStop() {
        var aggregator = Aggregator()
        _ = aggregator.record("net-snmp.error", detail: "first", at: at(0))
        _ = aggregator.record("net-snmp.error", detail: "second", at: at(5))
        let summary = Self.summaries(aggregator.flush(at: at(10)))
        #expect(summary.count == 1 && summary.first?.count == 1 && summary.first?.sources == 0 && summary.first?.over == .seconds(10))
        #expect(aggregator.isIdle)
    }
}
