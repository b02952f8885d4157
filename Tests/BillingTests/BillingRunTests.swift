@testable import Billing
import Foundation
import ForewarnModel
import Persistence
import Testing

/// A billing run (the columnar accounting of `LineAccountant`, zone offsets found once, the CSV
/// written as bytes) gives exactly what the full per-line account gives.
@Suite struct BillingRunTests {
    typealias Generator = CreditPropertyTests.Generator

    static let prague = TimeZone(identifier: "Europe/Prague")!

    /// 60 lines on 6 elements (one line not configured, one without a contract, one on a contract
    /// without a policy), 40 incidents of every classification, several intervals per incident and
    /// line, some across the period's ends, some still open, one without a header; maintenance on
    /// an element and on a line.
    static func scenario(_ random: inout Generator) throws -> (CreditInventory, LineOutageIntervals, [MaintenanceWindow]) {
        let bounds = BillingPeriod("2026-10")!.bounds(in: prague)
        let start = bounds.start.unixMilliseconds
        let length = bounds.end.unixMilliseconds - start
        let policies = (0..<3).map { index in
            var policy = CreditPropertyTests.randomPolicy(&random)
            policy.id = PolicyID("p\(index)")
            return policy
        }
        let contracts = (0..<4).map { index in
            Contract(id: ContractID("K\(index)"), name: "K\(index)",
                     monthlyFee: Money(minorUnits: 10_000 + random.next(900_000), currency: "CZK"),
                     availabilityTarget: Percentage(millionths: 99 * Percentage.scale + random.next(Percentage.scale)),
                     creditPolicy: index < 3 ? PolicyID("p\(index)") : nil, timeZone: "Europe/Prague",
                     locale: index % 2 == 0 ? "cs" : "en")
        }
        let lines = (0..<60).filter { $0 != 59 }.map { index in
            Line(id: LineID("L\(index)"), customer: CustomerID("C\(index / 3)"), element: ElementID("acc\(index / 10)"),
                 port: nil, probe: .none, target: nil, contract: index == 58 ? nil : ContractID("K\(index % 4)"), service: .data)
        }
        let inventory = CreditInventory(lines: lines, contracts: contracts, policies: policies,
                                        defaultTimeZone: "Europe/Prague", templates: try StatementTemplates())
        let classifications: [Classification] = [.network, .network, .network, .customerCaused, .forceMajeure, .planned]
        var incidents: [IncidentID: Incident] = [:]
        var intervals: [LineOutageInterval] = []
        for id in 1...40 {
            let classification = classifications[Int(random.next(Int64(classifications.count)))]
            if id != 13 {
                incidents[IncidentID(Int64(id))] = Incident(
                    id: IncidentID(Int64(id)), root: IncidentRoot(subject: .element("acc1"), kind: .unreachable),
                    group: "g", severity: .minor, planned: random.next(8) == 0, classification: classification,
                    startedAt: Date(timeIntervalSince1970: 0), detectedAt: Date(timeIntervalSince1970: 0),
                    updatedAt: Date(timeIntervalSince1970: 0))
            }
            let element = random.next(6)
            let begin = start - 86_400_000 + random.next(length + 86_400_000)
            for line in (element * 10)..<(element * 10 + 10) where random.next(4) != 0 {
                for _ in 0..<(1 + random.next(2)) {
                    let from = begin + random.next(7_200_000) - 3_600_000
                    let end: Int64? = id % 11 == 0 ? nil : from + random.next(30 * 3_600_000) + random.next(1_000)
                    intervals.append(LineOutageInterval(line: LineID("L\(line)"), customer: CustomerID("C\(line / 3)"),
                                                        incident: IncidentID(Int64(id)), startMilliseconds: from,
                                                        endMilliseconds: end))
                }
            }
        }
        intervals.sort { ($0.line, $0.startMilliseconds, $0.incident) < ($1.line, $1.startMilliseconds, $1.incident) }
        var seen = Set<String>()
        intervals = intervals.filter { seen.insert("\($0.line) \($0.incident) \($0.startMilliseconds)").inserted }
        let maintenance = [
            MaintenanceWindow(id: "MW1", start: bounds.start.addingTimeInterval(5 * 86_400),
                              end: bounds.start.addingTimeInterval(9 * 86_400), elements: ["acc2"], lines: [],
                              reason: "upgrade"),
            MaintenanceWindow(id: "MW2", start: bounds.start.addingTimeInterval(12 * 86_400),
                              end: bounds.start.addingTimeInterval(20 * 86_400), elements: [], lines: ["L41"], reason: ""),
        ]
        return (inventory, LineOutageIntervals(intervals: intervals, incidents: incidents), maintenance)
    }

    @Test func aBillingRunGivesTheRowsOfTheFullAccount() async throws {
        var random = Generator(state: 20_261_031)
        let period = BillingPeriod("2026-10")!
        let now = Date(timeIntervalSince1970: period.bounds(in: Self.prague).end.timeIntervalSince1970 - 3 * 86_400)
        var lines = 0
        for _ in 0..<40 {
            let (inventory, data, maintenance) = try Self.scenario(&random)
            let full = try CreditRun.compute(period: period, inventory: inventory, data: data, maintenance: maintenance,
                                             now: now, detail: true)
            // As the store reads them: each line's intervals in no particular order.
            var table = LineOutageTable(data)
            for line in table.lines.indices {
                let range = table.lineBounds[line]..<table.lineBounds[line + 1]
                table.intervalIncidents[range].reverse()
                table.intervalStarts[range].reverse()
                table.intervalEnds[range].reverse()
            }
            let run = try CreditRun.compute(period: period, inventory: inventory, table: table, maintenance: maintenance,
                                            now: now, detail: false)
            #expect(run.map(\.row) == full.map(\.row))
            #expect(run.map(\.outage.counted) == full.map(\.outage.counted))
            #expect(try CreditRun.rows(period: period, inventory: inventory, table: table, maintenance: maintenance,
                                       now: now) == full.map(\.row))
            // On every core in blocks of 7 lines, 3 blocks at a time: the same rows in the same order.
            var blocks: [[CreditRow]] = []
            try await CreditRun.rowBlocks(period: period, inventory: inventory, table: table, maintenance: maintenance,
                                          now: now, linesPerBlock: 7, width: 3, transform: { $0 },
                                          consume: { blocks.append($0) })
            #expect(blocks.flatMap { $0 } == full.map(\.row))
            #expect(blocks.count == (table.lines.count + 6) / 7)
            lines += full.count
        }
        // The scenarios reach what they are meant to: many lines, exclusions, notes and bill texts.
        #expect(lines > 1_000)
    }

    @Test func zoneOffsetsFoundOnceAreTheZonesOwn() {
        for name in ["Europe/Prague", "America/New_York", "Australia/Lord_Howe", "America/Sao_Paulo", "UTC"] {
            let zone = TimeZone(identifier: name)!
            for month in ["2018-10", "2019-02", "2019-11", "2026-03", "2026-10", "2026-11"] {
                let bounds = BillingPeriod(month)!.bounds(in: zone)
                let start = Int64(bounds.start.timeIntervalSince1970)
                let end = Int64(bounds.end.timeIntervalSince1970)
                let offsets = ZoneOffsets(zone, from: start, to: end)
                var mismatches: [Int64] = []
                for instant in stride(from: start - 3_600, through: end + 3_600, by: 900) {
                    for probe in [instant, instant - 1] where offsets.offset(at: probe)
                        != zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(probe))) {
                        mismatches.append(probe)
                    }
                }
                #expect(mismatches.isEmpty, "\(name) \(month)")
            }
        }
    }

    @Test func csvFieldsAreQuotedOnlyWhenTheyMustBe() {
        let row = CreditRow(customer: "C,1", line: "L\"1\"", contract: "K1", period: "2026-11", kind: .adjustment,
                            adjusts: "2026-10", outageSeconds: -120, availabilityPercent: "99.9000", credit: "-40.00",
                            creditMinorUnits: -4_000, currency: "CZK", incidents: [7, 1_234_567_890_123],
                            rules: ["tiers": "40.00"], exclusions: [], note: "line\nbreak",
                            statement: "Oprava slevy: −40,00 Kč")
        let csv = CreditFeed(period: "2026-11", state: .open, asOf: "", rows: [row]).csv
        let lines = csv.split(separator: "\r\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2].isEmpty)
        #expect(lines[1] == "\"C,1\",\"L\"\"1\"\"\",K1,2026-11,-120,99.9000,-40.00,CZK,7 1234567890123,40.00,,,,"
            + "adjustment,2026-10,\"line\nbreak\",\"Oprava slevy: −40,00 Kč\"")
    }

    /// The feed's own JSON writer against Foundation's encoder (whose bytes closed periods were
    /// frozen in): random rows with every optional present or not, empty and full arrays and
    /// rules, strings with quotes, backslashes, slashes, control characters and non-ASCII.
    @Test func theFeedsJSONIsTheEncodersByteForByte() throws {
        var random = Generator(state: 20_261_202)
        let alphabet: [String] = ["a", "Z", "0", " ", ",", "\"", "\\", "/", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{01}",
                                  "\u{1F}", "\u{7F}", "é", "Kč", "–", "\u{2028}", "😀", "_"]
        func text() -> String { (0..<random.next(12)).map { _ in alphabet[Int(random.next(Int64(alphabet.count)))] }.joined() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        for round in 0..<60 {
            let rows = (0..<random.next(5)).map { _ in
                var rules: [String: String] = [:]
                for kind in CreditFeed.ruleKinds where random.next(2) == 0 { rules[kind] = text() }
                let exclusions = (0..<random.next(3)).map { _ in
                    Exclusion(kind: [.maintenance, .customerCaused, .forceMajeure, .planned][Int(random.next(4))],
                              reason: text(), seconds: random.next(1_000_000) - 10,
                              incident: random.next(2) == 0 ? nil : IncidentID(random.next(1 << 40)))
                }
                return CreditRow(customer: text(), line: text(), contract: text(), period: text(),
                                 kind: random.next(2) == 0 ? .credit : .adjustment,
                                 adjusts: random.next(2) == 0 ? nil : text(), outageSeconds: random.next(3_000_000) - 5,
                                 availabilityPercent: text(), credit: text(), creditMinorUnits: random.next(1 << 50) - (1 << 49),
                                 currency: text(), incidents: (0..<random.next(4)).map { _ in random.next(1 << 40) },
                                 rules: rules, exclusions: exclusions, note: random.next(2) == 0 ? nil : text(),
                                 statement: text())
            }
            let feed = CreditFeed(period: text(), state: round % 2 == 0 ? .open : .closed, asOf: text(), rows: rows)
            let expected = Array(try encoder.encode(feed)) + [10]
            #expect(feed.jsonBytes == expected, "\(String(decoding: expected, as: UTF8.self))")
            #expect(try CreditFeed.decode(json: feed.json) == feed)
        }
    }
}
