#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ForewarnModel
import Synchronization
import Testing
@testable import Probes

@Suite("Timeouts and TCP probes")
struct TimeoutAndTCPTests {
    @Test("an address with no responder times out while its neighbour answers",
          .enabled(if: Privileges.canUseRawICMP && Privileges.canCreateNamespaces, "needs root: raw ICMP and ip netns"))
    func icmpTimeout() async throws {
        guard let namespace = TestNamespace("icmp") else { return }
        defer { namespace.remove() }
        #expect(namespace.addSilentAddress("198.18.0.1"))
        let prober = try NetworkNamespace.with(namespace.name) { () throws(ProbeError) in try ICMPProber(rate: 0) }
        defer { prober.shutdown() }
        let outcomes = await prober.probe([
            ProbeRequest(address: IPAddress("198.18.0.1")!, count: 2, timeout: .milliseconds(300)),
            ProbeRequest(address: IPAddress("127.0.0.1")!, count: 2, timeout: .milliseconds(300)),
        ])
        #expect(outcomes[0].sent == 2 && outcomes[0].received == 0, "\(outcomes[0])")
        #expect(outcomes[1].sent == 2 && outcomes[1].received == 2, "\(outcomes[1])")
        #expect(prober.statistics.timedOut == 2)
    }

    @Test("a multi-probe request whose probes cannot be sent (no route) still completes",
          .enabled(if: Privileges.canUseRawICMP && Privileges.canCreateNamespaces, "needs root: raw ICMP and ip netns"))
    func unsendableMultiProbeRequestCompletes() async throws {
        guard let namespace = TestNamespace("noroute") else { return }
        defer { namespace.remove() }
        // The namespace has only its loopback: 198.18.5.5 has no route, so sendto fails.
        let prober = try NetworkNamespace.with(namespace.name) { () throws(ProbeError) in try ICMPProber(rate: 0) }
        defer { prober.shutdown() }
        let result = Mutex<[ProbeOutcome]?>(nil)
        let task = Task {
            let outcomes = await prober.probe([
                ProbeRequest(address: IPAddress("198.18.5.5")!, count: 3, timeout: .milliseconds(200), spacing: .milliseconds(50)),
            ])
            result.withLock { $0 = outcomes }
        }
        // A bound on waiting, not what is tested: the batch used to wait forever for probes never sent.
        for _ in 0..<100 where result.withLock({ $0 == nil }) { try await Task.sleep(for: .milliseconds(50)) }
        let outcomes = result.withLock { $0 }
        #expect(outcomes != nil, "the batch never completed")
        if outcomes == nil { prober.shutdown() }
        await task.value
        let outcome = try #require(result.withLock { $0 }?.first)
        #expect(outcome.sent == 3 && outcome.received == 0, "\(outcome)")
        #expect(outcome.failure != nil)
    }

    @Test("TCP: an open port and a refused port both count as reachable")
    func tcpOpenAndRefused() async throws {
        let listener = try Listener()
        defer { listener.close() }
        let prober = try TCPProber(rate: 0)
        defer { prober.shutdown() }
        let closedPort = try Listener.unusedPort()
        let outcomes = await prober.probe([
            ProbeRequest(address: .v4(0x7f00_0001), port: listener.port, count: 3, timeout: .seconds(2)),
            ProbeRequest(address: .v4(0x7f00_0001), port: closedPort, count: 1, timeout: .seconds(2)),
            ProbeRequest(address: IPAddress("::1")!, port: closedPort, count: 1, timeout: .seconds(2)),
        ])
        #expect(outcomes[0].sent == 3 && outcomes[0].received == 3, "\(outcomes[0])")
        #expect(outcomes[1].received == 1, "refused is reachable: \(outcomes[1])")
        #expect(outcomes[2].received == 1, "\(outcomes[2])")
        #expect(outcomes.allSatisfy { $0.rttMinNanoseconds > 0 })
    }

    @Test("TCP: many connects in flight beyond the concurrency cap all complete")
    func tcpMany() async throws {
        let prober = try TCPProber(rate: 0, concurrency: 64)
        defer { prober.shutdown() }
        let closedPort = try Listener.unusedPort()
        let requests = (0..<1000).map { ProbeRequest(address: .v4(0x7f03_0001 + UInt32($0)), port: closedPort, timeout: .seconds(2)) }
        let outcomes = await prober.probe(requests)
        #expect(outcomes.filter(\.answered).count == 1000)
    }

    @Test("TCP: silently dropped SYNs time out as unreachable",
          .enabled(if: Privileges.canCreateNamespaces, "needs root: ip netns"))
    func tcpTimeout() async throws {
        guard let namespace = TestNamespace("tcp") else { return }
        defer { namespace.remove() }
        #expect(namespace.addSilentAddress("198.18.0.2"))
        let prober = try NetworkNamespace.with(namespace.name) { () throws(ProbeError) in try TCPProber(rate: 0) }
        defer { prober.shutdown() }
        let outcomes = await prober.probe([ProbeRequest(address: IPAddress("198.18.0.2")!, port: 7547, count: 1,
                                                        timeout: .milliseconds(300))])
        #expect(outcomes[0].sent == 1 && outcomes[0].received == 0, "\(outcomes[0])")
    }
}

/// A TCP listener on 127.0.0.1, port chosen by the kernel; accepts nothing (the backlog completes handshakes).
struct Listener {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(descriptor, pointer, length) == 0 && listen(descriptor, 128) == 0
                    && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        self.descriptor = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    func close() { _ = Glibc.close(descriptor) }

    /// A port nothing listens on: bound and released again.
    static func unusedPort() throws -> UInt16 {
        let listener = try Listener()
        listener.close()
        return listener.port
    }
}

/// Linux's unprivileged ICMP datagram socket, the fallback without CAP_NET_RAW; allowed per
/// network namespace by net.ipv4.ping_group_range, so a namespace of the test's own can allow it.
@Suite("ICMP datagram sockets", .enabled(if: Privileges.canCreateNamespaces, "needs root: ip netns"))
struct ICMPDatagramTests {
    @Test("where ping_group_range allows it, the datagram socket probes like the raw one")
    func datagramSocket() async throws {
        guard let namespace = TestNamespace("dgram") else { return }
        defer { namespace.remove() }
        #expect(namespace.run("sysctl -qw net.ipv4.ping_group_range=\"0 2147483647\""))
        let prober = try NetworkNamespace.with(namespace.name) { () throws(ProbeError) in try ICMPProber(rate: 0, socket: "datagram") }
        defer { prober.shutdown() }
        #expect(prober.socketMode == "datagram")
        let outcomes = await prober.probe((1...200).map { ProbeRequest(address: .v4(0x7f00_0000 + UInt32($0)), count: 2, timeout: .seconds(2)) })
        #expect(outcomes.allSatisfy { $0.sent == 2 && $0.received == 2 }, "\(outcomes.filter { $0.received != 2 }.prefix(3))")
    }

    @Test("when neither socket may be opened the error names CAP_NET_RAW and ping_group_range")
    func neitherSocket() throws {
        guard let namespace = TestNamespace("noping") else { return }
        defer { namespace.remove() }
        #expect(namespace.run("sysctl -qw net.ipv4.ping_group_range=\"1 0\""))
        do {
            let prober = try NetworkNamespace.with(namespace.name) { () throws(ProbeError) in try ICMPProber(rate: 0, socket: "datagram") }
            prober.shutdown()
            Issue.record("a datagram socket opened although ping_group_range forbids it")
        } catch {
            #expect(error.description.contains("CAP_NET_RAW"))
            #expect(error.description.contains("ping_group_range"))
        }
    }
}

@Suite("Duplicated replies", .enabled(if: Privileges.canUseRawICMP && Privileges.canCreateNamespaces, "needs root: raw ICMP and ip netns"))
struct DuplicateReplyTests {
    @Test("every echo reply sent twice (nftables dup): each echo counts as answered once, the copies as duplicates")
    func duplicatedReplies() async throws {
        guard let namespace = TestNamespace("dup") else { return }
        defer { namespace.remove() }
        #expect(namespace.run("nft add table ip fwdup && nft add chain ip fwdup out \"{ type filter hook output priority 0 ; }\" "
                              + "&& nft add rule ip fwdup out icmp type echo-reply dup to 127.0.0.1 device lo"))
        let prober = try NetworkNamespace.with(namespace.name) { () throws(ProbeError) in try ICMPProber(rate: 0) }
        defer { prober.shutdown() }
        let outcomes = await prober.probe((1...200).map {
            ProbeRequest(address: .v4(0x7f00_0000 + UInt32($0)), count: 3, timeout: .seconds(1), spacing: .milliseconds(20))
        })
        #expect(outcomes.allSatisfy { $0.sent == 3 && $0.received == 3 }, "\(outcomes.filter { $0.received != 3 }.prefix(3))")
        // A copy that arrives after its round closed is a stray, not a duplicate of anything open.
        let statistics = prober.statistics
        #expect(statistics.answered == 600)
        #expect(statistics.duplicates >= 400, "\(statistics)")
        #expect(outcomes.reduce(0) { $0 + $1.duplicates } == statistics.duplicates)
    }
}
