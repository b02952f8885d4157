import ForewarnModel
import Foundation
import Persistence
import Stores
import Testing

/// `forewarn status --period`, the real binary over a store holding November 2024's incidents:
/// text within 80 columns, the JSON contract, the HTML written to a file (kept in
/// .build/report-render/ for scripts/report-render-test, which opens it in Chromium), and a bad
/// period refused with its reason.
@Suite(.serialized) struct ReportCommandTests {
    static let configuration = """
        daemon:
          store: unused.sqlite
        billing:
          time_zone: Europe/Prague
        credit_policies:
          - {id: home, rules: [{outage_days: {divisor: days-in-month, max_days: 10}}]}
        contracts:
          - {id: K1, monthly_fee: 49900, currency: CZK, availability_target: 99.5, credit_policy: home}
        reports:
          targets: {proactive_rate: 60, lines_hit: 3, fixed_within_day: 76}
        elements:
          - {id: core, address: 127.77.2.1, kind: core}
          - {id: agg1, name: "Aggregation <North> & Co", address: 127.77.2.2, kind: aggregation, upstream: [core]}
          - {id: acc1, name: Access Holešovice, address: 127.77.2.3, kind: access, upstream: [agg1]}
          - {id: acc2, name: Access Karlín, address: 127.77.2.4, kind: access, upstream: [agg1]}
        customers:
          - {id: C1, name: Pekárna U Nádraží}
          - {id: C2, name: Autoservis}
          - {id: C3, name: Knihovna}

        """

    /// Twenty lines: L01–L09 on acc1, L10–L19 on acc2, L20 on agg1; three customers; contract K1.
    static func lines() -> String {
        "lines:\n" + (1...20).map { n in
            let id = String(format: "L%02d", n)
            return "  - {id: \(id), customer: C\(n % 3 + 1), element: \(n <= 9 ? "acc1" : n <= 19 ? "acc2" : "agg1"), probe: none, contract: K1}\n"
        }.joined()
    }

    static func time(_ text: String) -> Date { RFC3339.parse(text)! }

    /// A November (Prague) of incidents: an aggregation outage, customers' calls, a customer-caused one.
    static func fill(_ store: any Store) async throws {
        func header(_ id: Int64, _ severity: Severity, root: String, started: String, detected: String, call: String?,
                    resolved: String?, classification: Classification = .network) -> Incident {
            Incident(id: IncidentID(id), state: resolved == nil ? .open : .resolved,
                     root: IncidentRoot(subject: .element(ElementID(root)), kind: .unreachable), group: "element:\(root)",
                     severity: severity, proactive: call.map { time(detected) < time($0) } ?? true,
                     classification: classification, startedAt: time(started), detectedAt: time(detected),
                     firstCallAt: call.map(time), resolvedAt: resolved.map(time), updatedAt: time(detected))
        }
        func scope(_ lines: ClosedRange<Int>, _ start: String, _ end: String?) -> [LineInterval] {
            lines.map { n in
                LineInterval(line: LineID(String(format: "L%02d", n)), customer: CustomerID("C\(n % 3 + 1)"),
                             start: time(start), end: end.map(time))
            }
        }
        let changes = [
            IncidentChange(kind: .open, incident: header(1, .major, root: "agg1", started: "2024-11-03T08:00:00Z",
                                                         detected: "2024-11-03T08:00:20Z", call: "2024-11-03T08:10:00Z",
                                                         resolved: "2024-11-03T11:00:00Z"),
                           lines: scope(1...20, "2024-11-03T08:00:00Z", "2024-11-03T11:00:00Z")),
            IncidentChange(kind: .open, incident: header(2, .minor, root: "acc1", started: "2024-11-10T21:00:00Z",
                                                         detected: "2024-11-10T21:05:00Z", call: "2024-11-10T21:02:00Z",
                                                         resolved: "2024-11-12T09:00:00Z"),
                           lines: scope(3...4, "2024-11-10T21:00:00Z", "2024-11-12T09:00:00Z")),
            IncidentChange(kind: .open, incident: header(3, .minor, root: "acc2", started: "2024-11-20T02:00:00Z",
                                                         detected: "2024-11-20T02:00:30Z", call: nil,
                                                         resolved: "2024-11-20T04:30:00Z"),
                           lines: scope(15...15, "2024-11-20T02:00:00Z", "2024-11-20T04:30:00Z")),
            IncidentChange(kind: .open, incident: header(4, .minor, root: "acc2", started: "2024-11-25T10:00:00Z",
                                                         detected: "2024-11-25T10:00:10Z", call: nil,
                                                         resolved: "2024-11-25T12:00:00Z", classification: .customerCaused),
                           lines: scope(16...16, "2024-11-25T10:00:00Z", "2024-11-25T12:00:00Z")),
        ]
        try await store.record(CorrelationBatch(changes: changes, at: time("2024-11-25T12:00:00Z")))
    }

    struct Fixture {
        let folder: String
        var config: String { folder + "/forewarn.yaml" }
        var store: String { folder + "/forewarn.sqlite" }

        init() async throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-report-\(UUID())").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try (ReportCommandTests.configuration + ReportCommandTests.lines()).write(toFile: config, atomically: true, encoding: .utf8)
            try await ReportCommandTests.fill(try StoreFactory.open(store, access: .create))
        }

        func status(_ arguments: [String]) throws -> ForewarnBinary.Result {
            try ForewarnBinary.run(["status", "--config", config, "--store", store] + arguments)
        }

        func remove() { try? FileManager.default.removeItem(atPath: folder) }
    }

    @Test func textFitsEightyColumnsAndCountsTheMonth() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let result = try fixture.status(["--period", "2024-11"])
        #expect(result.status == 0, "\(result.errors)")
        for line in result.output.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        // #1 (called after detection) and #3 (never called) of #1–#3: 66.6 %; #4 is customer-caused.
        #expect(result.output.contains("proactive rate       66.6 %      > 60 %   met         2 of 3 incidents"))
        #expect(result.output.contains("lines hit            100.00 %    < 3 %    not-judged  20 of 20 lines"))
        #expect(result.output.contains("agg1 Aggregation <North> & Co"))
        #expect(result.output.contains("acc1 Access Holešovice"))
    }

    @Test func jsonIsTheDocumentedContract() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let result = try fixture.status(["--period", "2024Q4", "--format", "json"])
        #expect(result.status == 0, "\(result.errors)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["schema"] as? String == "forewarn.report.v1")
        let period = try #require(object["period"] as? [String: Any])
        #expect(period["time_zone"] as? String == "Europe/Prague")
        #expect(period["start"] as? String == "2024-09-30T22:00:00.000Z")
        let kpis = try #require(object["kpis"] as? [String: Any])
        // Called about: #1 (fixed 2 h 50 min after the call), #2 (fixed 35 h 58 min after: not).
        let fixed = try #require(kpis["fixed_within_a_day"] as? [String: Any])
        #expect(fixed["count"] as? Int == 1 && fixed["of"] as? Int == 2 && fixed["status"] as? String == "not-met")
        #expect((kpis["lines_hit"] as? [String: Any])?["status"] as? String == "not-met")
        // Billing credited the open November (outage days) on the lines hit.
        let credits = try #require(kpis["credits"] as? [[String: Any]])
        #expect(credits.first?["currency"] as? String == "CZK")
        #expect((credits.first?["minor_units"] as? Int ?? 0) > 0)
        #expect((object["credits_per_month"] as? [[String: Any]])?.map { $0["month"] as? String } == ["2024-10", "2024-11", "2024-12"])
    }

    @Test func htmlIsWrittenToTheOutputFile() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let kept = ForewarnBinary.repositoryRoot + "/.build/report-render"
        try FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: true)
        let path = kept + "/report.html"
        let result = try fixture.status(["--period", "2024Q4", "--format", "html", "--output", path])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.isEmpty)
        let html = try String(contentsOfFile: path, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("Aggregation &lt;North&gt; &amp; Co"))
        #expect(!html.contains("<script"))
        #expect(html.contains(#"id="weekly""#) && html.contains(#"id="credits-CZK""#))
    }

    @Test func aBadPeriodIsRefusedWithItsReason() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let result = try fixture.status(["--period", "2024Q5"])
        #expect(result.status == 64)
        #expect(result.errors.contains("--period must be a quarter (2026Q4), a month (2026-11) or a range of days (2026-11-01..2026-11-15), not '2024Q5'"))
        let range = try fixture.status(["--period", "2024-11-30..2024-11-01"])
        #expect(range.status == 64)
        #expect(range.errors.contains("--period 2024-11-30..2024-11-01 ends before it starts"))
        let html = try fixture.status(["--format", "html"])
        #expect(html.status == 64)
        #expect(html.errors.contains("--format html needs --period"))
    }
}
