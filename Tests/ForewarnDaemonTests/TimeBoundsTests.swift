@testable import ForewarnDaemon
import ForewarnModel
import Foundation
import Testing

/// A call dated year 0, 1 or 9999, or ahead of the daemon's clock, is refused with the reason.
@Suite struct CallTimeBoundsTests {
    let now = Date(unixMilliseconds: 1_800_000_000_000)  // 2027-01-15T08:00:00Z

    func status(_ at: String) -> (Int, String) {
        switch CustomerCallIntake.parse(body: Data(#"{"line": "L1", "at": "\#(at)"}"#.utf8), lines: ["L1"], now: now) {
        case .success: return (202, "")
        case .failure(let response): return (response.status, response.body)
        }
    }

    @Test(arguments: ["0000-12-30T00:00:00Z", "0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z"])
    func beforeTheFloorIsRefused(_ at: String) {
        #expect(status(at) == (400, #"{"error":"'at' \#(at) is before 2000-01-01T00:00:00.000Z"}"#))
    }

    @Test(arguments: ["9999-12-31T23:59:59Z", "2027-01-15T08:05:01Z", "2027-01-16T08:00:00Z"])
    func aheadOfTheClockIsRefused(_ at: String) {
        #expect(status(at) == (400, #"{"error":"'at' \#(at) is more than 5m in the future (now 2027-01-15T08:00:00.000Z)"}"#))
    }

    @Test(arguments: ["2000-01-01T00:00:00Z", "2027-01-15T08:05:00Z", "2027-01-15T07:00:00+01:00"])
    func withinTheBoundsIsAccepted(_ at: String) {
        #expect(status(at).0 == 202, "\(status(at))")
    }

    @Test func theSkewIsConfigurable() {
        let body = Data(#"{"line": "L1", "at": "2027-01-15T08:30:00Z"}"#.utf8)
        let wide = CustomerCallIntake.parse(body: body, lines: ["L1"], now: now, bounds: TimeBounds(maxFutureSkew: .seconds(3_600)))
        #expect((try? wide.get())?.at == now.addingTimeInterval(1_800))
    }
}
