import Foundation
import ForewarnModel
import Testing
@testable import Probes

/// Real echoes on loopback (127.0.0.0/8 and ::1). Needs CAP_NET_RAW; skipped with the reason otherwise.
@Suite("ICMP on loopback", .enabled(if: Privileges.canUseRawICMP, "raw ICMP sockets need CAP_NET_RAW (run as root)"))
struct ICMPLoopbackTests {
    static func loopbackAddresses(_ count: Int, startingAt first: UInt32 = 0x7f00_0101) -> [IPAddress] {
        (0..<UInt32(count)).map { .v4(first + $0) }
    }

    @Test("2,000 loopback addresses all answer, with plausible round-trip times")
    func twoThousandAnswer() async throws {
        let prober = try ICMPProber(rate: 0)
        defer { prober.shutdown() }
        let requests = Self.loopbackAddresses(2000).map { ProbeRequest(address: $0, timeout: .seconds(2)) }
        let outcomes = await prober.probe(requests)
        #expect(outcomes.count == 2000)
        let unanswered = zip(requests, outcomes).filter { !$0.1.answered }.map { $0.0.address.description }
        #expect(unanswered.isEmpty, "unanswered: \(unanswered.prefix(10))")
        for outcome in outcomes where outcome.answered {
            #expect(outcome.sent == 1 && outcome.received == 1)
            #expect(outcome.rttMinNanoseconds > 0, "a round trip takes some time")
            #expect(outcome.rttMaxNanoseconds < 2_000_000_000, "loopback answers within the timeout")
        }
    }

    @Test("several echoes per target, several batches in flight at once")
    func countsAndConcurrentBatches() async throws {
        let prober = try ICMPProber(rate: 50_000)
        defer { prober.shutdown() }
        async let first = prober.probe(Self.loopbackAddresses(300).map {
            ProbeRequest(address: $0, count: 3, timeout: .seconds(2), spacing: .milliseconds(20))
        })
        async let second = prober.probe(Self.loopbackAddresses(300, startingAt: 0x7f01_0001).map {
            ProbeRequest(address: $0, count: 2, timeout: .seconds(2))
        })
        let (a, b) = await (first, second)
        #expect(a.allSatisfy { $0.sent == 3 && $0.received == 3 && $0.failure == nil })
        #expect(b.allSatisfy { $0.sent == 2 && $0.received == 2 && $0.failure == nil })
    }

    @Test("IPv6 loopback answers over ICMPv6")
    func ipv6Loopback() async throws {
        let prober = try ICMPProber(rate: 0)
        defer { prober.shutdown() }
        let outcomes = await prober.probe([ProbeRequest(address: IPAddress("::1")!, count: 3, timeout: .seconds(2))])
        #expect(outcomes.first?.received == 3, "\(outcomes)")
    }

    @Test("another program pinging the same addresses at the same time is not counted")
    func straysFromAnotherPinger() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/fping") else {
            print("skipping stray-reply check: fping is not installed (scripts/install-deps)")
            return
        }
        let prober = try ICMPProber(rate: 20_000)
        defer { prober.shutdown() }
        let addresses = Self.loopbackAddresses(500, startingAt: 0x7f02_0001)
        let list = addresses.map(\.description).joined(separator: " ")
        // fping sends 3 echoes to each of the same 500 addresses while we send 2 each.
        let other = Task.detached { shell("fping -q -c 3 -p 20 -i 1 -t 500 \(list)") }
        let outcomes = await prober.probe(addresses.map {
            ProbeRequest(address: $0, count: 2, timeout: .seconds(1), spacing: .milliseconds(50))
        })
        _ = await other.value
        #expect(outcomes.allSatisfy { $0.sent == 2 && $0.received == 2 && $0.duplicates == 0 },
                "\(outcomes.filter { $0.received != 2 }.prefix(5))")
        #expect(prober.statistics.answered >= 1000)
        #expect(prober.statistics.strays > 0, "fping's replies reached our raw socket and were set aside")
    }
}
