@testable import Correlation
import Foundation
import Testing

@Suite struct RFC3339TextTests {
    @Test func writesUTCWithMilliseconds() {
        #expect(RFC3339Text.format(0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339Text.format(1_800_000_000.123) == "2027-01-15T08:00:00.123Z")
        #expect(RFC3339Text.format(1_800_000_000.9999) == "2027-01-15T08:00:00.999Z")
        #expect(RFC3339Text.format(951_782_400.5) == "2000-02-29T00:00:00.500Z")
        #expect(RFC3339Text.format(-1.25) == "1969-12-31T23:59:58.750Z")
    }
}
