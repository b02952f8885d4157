import Billing
import Foundation
import ForewarnModel
import Testing

/// The bill's text in both shipped languages, in the contract's zone.
@Suite struct StatementTests {
    static let prague = TimeZone(identifier: "Europe/Prague")!
    static func at(_ text: String) -> Int64 { Int64(RFC3339.parse(text)!.timeIntervalSince1970) }
    static func spans(_ pairs: [(String, String)]) -> SecondSpans {
        SecondSpans(unioning: pairs.map { SecondSpans.Span(at($0.0), at($0.1)) })
    }

    @Test func czechAndEnglishWithDatesTimesAndAmountsOfTheirLocale() throws {
        let templates = try StatementTemplates()
        let outage = Self.spans([("2026-11-10T08:00:00Z", "2026-11-10T11:00:00Z")])
        let period = BillingPeriod("2026-11")!
        #expect(templates.render(Money(minorUnits: 4_000, currency: "CZK"), outage: outage, outageSeconds: 10_800,
                                 locale: "cs-CZ", zone: Self.prague, period: period)
                == "Výpadek služby 10. 11. 2026 9:00–12:00 (3 h), sleva 40,00 Kč")
        #expect(templates.render(Money(minorUnits: 123_450, currency: "EUR"), outage: outage, outageSeconds: 10_800,
                                 locale: "en-GB", zone: Self.prague, period: period)
                == "Service outage 10 Nov 2026 09:00–12:00 (3 h), credit €1,234.50")
        #expect(templates.render(Money(minorUnits: 0, currency: "CZK"), outage: outage, outageSeconds: 10_800,
                                 locale: "cs", zone: Self.prague, period: period).isEmpty)
    }

    @Test func manyStretchesAcrossMidnightAreListedThreeThenCounted() throws {
        let templates = try StatementTemplates()
        // The first stretch runs across local midnight (9 → 10 November): both ends carry their date.
        let outage = Self.spans([("2026-11-09T22:30:00Z", "2026-11-09T23:30:00Z"), ("2026-11-12T07:00:00Z", "2026-11-12T07:10:00Z"),
                                 ("2026-11-13T07:00:00Z", "2026-11-13T07:00:30Z"), ("2026-11-14T07:00:00Z", "2026-11-14T07:01:00Z"),
                                 ("2026-11-15T07:00:00Z", "2026-11-15T07:01:00Z")])
        let text = templates.render(Money(minorUnits: 123_456_789, currency: "CZK"), outage: outage, outageSeconds: 4_890,
                                    locale: "cs", zone: Self.prague, period: BillingPeriod("2026-11")!)
        #expect(text == "Výpadek služby 9. 11. 2026 23:30–10. 11. 2026 0:30, 12. 11. 2026 8:00–8:10, 13. 11. 2026 8:00–8:00"
                + " a další (2) (1 h 21 min 30 s), sleva 1\u{00A0}234\u{00A0}567,89 Kč")
    }
}
