import ForewarnModel
import Foundation
import Persistence
@testable import Reports
import Testing

/// The operations report over `KPITests`' November: what explains the KPIs, and its three renderings.
@Suite struct OperationsReportTests {
    static let report = OperationsReport(KPITests.inputs)

    @Test func incidentsPerISOWeekBySeverity() {
        // 1 November 2026 is a Sunday: its week starts on Monday 26 October (W44); six weeks in all.
        #expect(Self.report.weeks.map(\.name) == ["2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48", "2026-W49"])
        #expect(Self.report.weeks.map(\.monday).first == "2026-10-26")
        // #1, #2 (major), #3, #11 in W45; #4 in W46; #10 in W48.
        #expect(Self.report.weeks.map(\.bySeverity) == [[:], [.minor: 3, .major: 1], [.minor: 1], [:], [.minor: 1], [:]])
    }

    @Test func leadTimeDistribution() {
        // -60,000 and 0 in [-60,000, 1); 240,000 in [60,000, 600,000); 219,595,000 from 3,600,000.
        #expect(Self.report.leadTimes.map(\.incidents) == [0, 0, 0, 2, 0, 1, 0, 1])
        #expect(Self.report.notCalled == 2)
    }

    @Test func availabilityPerElementAndTheWorst() {
        let report = Self.report
        // E1: 5 lines, 370,800 s down of 12,960,000: 97.1388 %; E2: 219,600 s down: 98.3055 %.
        #expect(report.elements.map(\.id) == ["E1", "E2"])
        #expect(report.elements[0].availability == Share(12_589_200, of: 12_960_000))
        #expect(report.elements[0].linesHit == 4)
        #expect(report.elements[1].outageSeconds == 219_600)
        #expect(report.worstElements.map(\.id) == ["E1", "E2"])
        #expect(report.worstElements.first?.name == "Access Holešovice")
        // Both below 99 %.
        #expect(report.bands.map(\.elements) == [0, 0, 0, 0, 0, 2])
        // C1 95.5555 %, C2 98.1944 %, C3 98.3055 %, C9 (L99, no longer configured) 99.1666 %.
        #expect(report.worstCustomers.map(\.id) == ["C1", "C2", "C3", "C9"])
        #expect(report.worstCustomers.map { $0.availability.percentText(decimals: 4)! }
                == ["95.5555", "98.1944", "98.3055", "99.1666"])
    }

    @Test func textFitsEightyColumns() {
        var inputs = KPITests.inputs
        inputs.inventory.elements[0].name = String(repeating: "Very long element name ", count: 6)
        let text = OperationsReport(inputs).text
        for line in text.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        #expect(text.contains("proactive rate       66.6 %      > 60 %   met         4 of 6 incidents"))
        #expect(text.contains("fixed within a day   50.0 %      ≥ 76 %   not-met     2 of 4 called"))
        #expect(text.contains("availability         97.8535 % over 11 lines (170.0 line-hours down)"))
        #expect(text.contains("  2026-11 (closed)  40.00 CZK, 1.50 EUR"))
    }

    @Test func jsonFollowsTheDocumentedSchema() throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(Self.report.json.utf8)) as? [String: Any])
        #expect(object["schema"] as? String == "forewarn.report.v1")
        let period = try #require(object["period"] as? [String: Any])
        #expect(period["start"] as? String == "2026-11-01T00:00:00.000Z")
        #expect(period["kind"] as? String == "month")
        let kpis = try #require(object["kpis"] as? [String: Any])
        let proactive = try #require(kpis["proactive_rate"] as? [String: Any])
        #expect(proactive["percent"] as? String == "66.6666")
        #expect(proactive["count"] as? Int == 4)
        #expect(proactive["of"] as? Int == 6)
        #expect((proactive["target"] as? [String: Any])?["percent"] as? String == "60")
        #expect((kpis["lines_hit"] as? [String: Any])?["status"] as? String == "not-judged")
        #expect((kpis["detection_lead_time"] as? [String: Any])?["p90_ms"] as? Int == 219_595_000)
        #expect((kpis["time_to_restore"] as? [String: Any])?["mean_ms"] as? Int == 34_200_000)
        #expect((kpis["incidents_by_severity"] as? [String: Int]) == ["warning": 0, "minor": 5, "major": 1, "critical": 0])
        let credits = try #require(kpis["credits"] as? [[String: Any]])
        #expect(credits.map { $0["amount"] as? String } == ["40.00", "1.50"])
        #expect((object["incidents_per_week"] as? [[String: Any]])?.count == 6)
        let buckets = try #require((object["detection_lead_times"] as? [String: Any])?["buckets"] as? [[String: Any]])
        #expect(buckets.first?["from_ms"] is NSNull)
        #expect((object["worst_customers"] as? [[String: Any]])?.first?["availability_percent"] as? String == "95.5555")
        #expect((object["credits_per_month"] as? [[String: Any]])?.first?["state"] as? String == "closed")
    }

    @Test func nothingKnownIsNullNeverAbsent() throws {
        let inputs = ReportInputs(period: try ReportPeriod(parsing: "2026-11"), zone: utc, now: t("2026-12-02T00:00:00Z"),
                                  incidents: [], lines: [], inventory: ReportInventory(lines: []))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(OperationsReport(inputs).json.utf8)) as? [String: Any])
        let kpis = try #require(object["kpis"] as? [String: Any])
        #expect(kpis["detection_lead_time"] is NSNull)
        #expect((kpis["proactive_rate"] as? [String: Any])?["percent"] is NSNull)
        #expect((kpis["time_to_detect"] as? [String: Any])?["mean_ms"] is NSNull)
    }

    @Test func htmlIsSelfContainedAndEscapesEverything() {
        var inputs = KPITests.inputs
        inputs.inventory.elements[0].name = #"<script>alert("x")</script> & 'Holešovice'"#
        let html = OperationsReport(inputs).html
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Holešovice&#39;"))
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("url("))
        #expect(html.contains("Content-Security-Policy"))
        for id in ["kpis", "weekly", "lead", "bands", "worst-elements", "worst-customers", "credits-CZK", "credits-EUR"] {
            #expect(html.contains(#"id="\#(id)""#), "\(id)")
        }
        #expect(html.components(separatedBy: "<svg").count - 1 >= 8)
        #expect(html.contains("@page { size: A4"))
    }

    @Test func theTemplatePlacesNothingUnescaped() {
        #expect(!OperationsReport.htmlTemplate.contains("{{{"))
        #expect(!OperationsReport.htmlTemplate.contains("{{&"))
    }
}
