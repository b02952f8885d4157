import ForewarnModel
import Foundation
import Persistence
@testable import Reports
import Testing

/// Several instances on one PostgreSQL store, as `status` shows them: each one's role and share,
/// which runs the correlator, and a warning when none does.
@Suite struct ClusterStatusTests {
    static let now = StatusReportTests.now

    static func beat(_ instance: String, age: TimeInterval = 2) -> Heartbeat {
        var beat = StatusReportTests.beat(age: age)
        beat.instance = instance
        return beat
    }

    static func member(_ instance: String, _ role: ClusterMember.Role, elements: Int, lines: Int,
                       leaving: Bool = false) -> ClusterMember {
        ClusterMember(instance: instance, hostname: "noc1.example.net", pid: 4242, startedAt: now.addingTimeInterval(-600),
                      role: role, elements: elements, lines: lines, leaving: leaving, age: .milliseconds(400))
    }

    @Test func everyInstanceShowsItsRoleAndShareAndTheCorrelatorIsNamed() throws {
        var inputs = StatusInputs(store: "postgresql://forewarn@db1:5432/noc", now: Self.now,
                                  heartbeats: [Self.beat("noc-a"), Self.beat("noc-b"), Self.beat("noc-c")])
        inputs.members = [Self.member("noc-a", .correlator, elements: 40, lines: 1_300),
                          Self.member("noc-b", .poller, elements: 41, lines: 1_350),
                          Self.member("noc-c", .poller, elements: 39, lines: 1_350)]
        let report = StatusReport(inputs)
        #expect(report.correlator == "noc-a")
        let text = report.text()
        #expect(text.contains("\n  cluster: correlator; polls 40 elements, probes 1,300 lines, beat 400 ms ago\n"), "\(text)")
        #expect(text.contains("\n  cluster: poller; polls 41 elements, probes 1,350 lines, beat 400 ms ago\n"))
        #expect(!text.contains("NO CORRELATOR"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        #expect(json["correlator"] as? String == "noc-a")
        let daemons = try #require(json["daemons"] as? [[String: Any]])
        let cluster = try #require(daemons.first { $0["instance"] as? String == "noc-b" }?["cluster"] as? [String: Any])
        #expect(cluster["role"] as? String == "poller" && cluster["elements"] as? Int == 41 && cluster["lines"] as? Int == 1_350)
        #expect(cluster["leaving"] as? Bool == false && cluster["beat_age_seconds"] as? Double == 0.4)
    }

    @Test func collectionHealthAddsUpTheLiveInstancesShares() {
        func beat(_ instance: String, age: TimeInterval, reachable: Int, down: Int, trap: String) -> Heartbeat {
            var beat = Self.beat(instance, age: age)
            beat.collection = CollectionHealth(elementsReachable: reachable, linesUp: 100, linesDown: down, pollsPerSecond: 1.5,
                                               lastTrapAt: t(trap), snmpTimeouts: 2)
            return beat
        }
        var inputs = StatusInputs(store: "s", now: Self.now, heartbeats: [
            beat("noc-a", age: 1, reachable: 40, down: 3, trap: "2026-11-27T11:59:00Z"),
            beat("noc-b", age: 2, reachable: 41, down: 0, trap: "2026-11-27T11:59:30Z"),
            beat("noc-c", age: 45, reachable: 39, down: 9, trap: "2026-11-27T11:58:00Z"),  // stale: left out
        ])
        inputs.members = [Self.member("noc-a", .correlator, elements: 40, lines: 103),
                          Self.member("noc-b", .poller, elements: 41, lines: 100),
                          Self.member("noc-c", .poller, elements: 39, lines: 109)]
        let report = StatusReport(inputs)
        #expect(report.collection == CollectionHealth(elementsReachable: 81, linesUp: 200, linesDown: 3, pollsPerSecond: 3,
                                                      lastTrapAt: t("2026-11-27T11:59:30Z"), snmpTimeouts: 4))
        #expect(report.text().contains("collection (the 2 instances' shares together):\n  elements: 81 reachable"))
    }

    @Test func noLiveCorrelatorIsSaidInRedAndAloneOnAStoreNothingChanges() throws {
        var inputs = StatusInputs(store: "s", now: Self.now, heartbeats: [Self.beat("noc-a", age: 40), Self.beat("noc-b")])
        // The holder's heartbeat is stale (killed): its last beat said correlator.
        inputs.members = [Self.member("noc-a", .correlator, elements: 60, lines: 2_000),
                          Self.member("noc-b", .poller, elements: 60, lines: 2_000)]
        let report = StatusReport(inputs)
        #expect(report.correlator == nil)
        #expect(report.text(colour: true).contains("\u{1B}[31mNO CORRELATOR: no live instance holds the correlator's lock"))
        let alone = StatusReport(StatusInputs(store: "s", now: Self.now, heartbeats: [Self.beat("noc1")]))
        #expect(alone.correlator == nil && !alone.text().contains("cluster") && !alone.text().contains("NO CORRELATOR"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(alone.json.utf8)) as? [String: Any])
        #expect(json["correlator"] is NSNull)
        #expect((json["daemons"] as? [[String: Any]])?.first?["cluster"] is NSNull)
    }
}
