import ForewarnModel
import Foundation
import Testing

@Suite struct RFC3339Tests {
    @Test func writesUTCWithMilliseconds() {
        #expect(RFC3339.format(seconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(seconds: 1_800_000_000.123) == "2027-01-15T08:00:00.123Z")
        #expect(RFC3339.format(seconds: 1_800_000_000.9999) == "2027-01-15T08:00:00.999Z")
        #expect(RFC3339.format(seconds: 951_782_400.5) == "2000-02-29T00:00:00.500Z")
        #expect(RFC3339.format(seconds: -1.25) == "1969-12-31T23:59:58.750Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_800_000_000)) == "2027-01-15T08:00:00.000Z")
    }

    @Test func readsZuluOffsetsAndFractions() {
        #expect(RFC3339.parse("2027-01-15T08:00:00Z") == Date(timeIntervalSince1970: 1_800_000_000))
        #expect(RFC3339.parse("2027-01-15T08:00:00.250Z") == Date(timeIntervalSince1970: 1_800_000_000.25))
        #expect(RFC3339.parse("2027-01-15T09:30:00+01:30") == Date(timeIntervalSince1970: 1_800_000_000))
        #expect(RFC3339.parse("2027-01-15T06:00:00-02:00") == Date(timeIntervalSince1970: 1_800_000_000))
        #expect(RFC3339.parse("2000-02-29T00:00:00.5Z") == Date(timeIntervalSince1970: 951_782_400.5))
        #expect(RFC3339.parse("1969-12-31T23:59:58.750Z") == Date(timeIntervalSince1970: -1.25))
    }

    @Test(arguments: ["", "2026-12-01", "2026-12-01T08:30:00", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
                      "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-04-31T00:00:00Z", "2026-12-01T24:00:00Z",
                      "2026-12-01T08:60:00Z", "2026-12-01T08:30:60Z", "2026-12-01T08:30:00.Z", "2026-12-01T08:30:00+1:00",
                      "2026-12-01T08:30:00Zjunk", "2026-12-01 08:30:00Z", "yesterday"])
    func refusesWhatIsNotADateTime(_ text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func roundTripsWhatItWrites() {
        for seconds in stride(from: -86_400.0 * 800, through: 86_400.0 * 30_000, by: 86_399.875) {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(RFC3339.parse(RFC3339.format(date)) == date)
        }
    }
}

@Suite struct DurationTextTests {
    @Test func readsEveryUnit() {
        #expect(DurationText.parse("500ms") == .milliseconds(500))
        #expect(DurationText.parse("30s") == .seconds(30))
        #expect(DurationText.parse("5m") == .seconds(300))
        #expect(DurationText.parse("1h") == .seconds(3600))
        #expect(DurationText.parse("1d") == .seconds(86_400))
        #expect(DurationText.parse("42") == .seconds(42))
        #expect(DurationText.parse("-1s") == nil)
        #expect(DurationText.parse("1.5s") == nil)
        #expect(DurationText.format(.milliseconds(1500)) == "1500ms")
        #expect(DurationText.format(.seconds(7200)) == "2h")
        #expect(DurationText.format(.seconds(90)) == "90s")
    }
}
