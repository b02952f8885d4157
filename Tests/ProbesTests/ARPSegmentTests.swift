import Foundation
import ForewarnModel
import Testing
@testable import Probes

/// An L2 access segment built in namespaces of the test's own: a bridge with the prober's address
/// in one namespace, three CPEs (one namespace each) on veth ports of the bridge.
@Suite("ARP probes on a bridged segment", .enabled(if: Privileges.canCreateNamespaces, "needs root: ip netns, pcap"))
struct ARPSegmentTests {
    final class Segment: Sendable {
        let noc: TestNamespace
        let cpes: [TestNamespace]
        let addresses = ["198.18.1.11", "198.18.1.12", "198.18.1.13"]

        init?() {
            guard let noc = TestNamespace("noc") else { return nil }
            var cpes: [TestNamespace] = []
            for _ in 0..<3 {
                guard let cpe = TestNamespace("cpe") else {
                    cpes.forEach { $0.remove() }
                    noc.remove()
                    return nil
                }
                cpes.append(cpe)
            }
            self.noc = noc
            self.cpes = cpes
            noc.run("ip link add br0 type bridge && ip addr add 198.18.1.1/24 dev br0 && ip link set br0 up")
            for (index, cpe) in cpes.enumerated() {
                shell("ip -n \(noc.name) link add p\(index) type veth peer name eth0 netns \(cpe.name)")
                noc.run("ip link set p\(index) master br0 && ip link set p\(index) up")
                cpe.run("ip addr add \(addresses[index])/24 dev eth0 && ip link set eth0 up")
            }
        }

        func remove() {
            cpes.forEach { $0.remove() }
            noc.remove()
        }
    }

    @Test("every CPE on the segment answers; a removed one is missed")
    func seesCPEsAndMissesRemovedOne() async throws {
        guard let segment = Segment() else { return }
        defer { segment.remove() }
        let capturePath = NSTemporaryDirectory() + "fw-arp-\(getpid()).pcap"
        defer { unlink(capturePath) }
        let capture = try PacketCapture(path: capturePath)
        let prober = try NetworkNamespace.with(segment.noc.name) { () throws(ProbeError) in
            try ARPProber(interface: "br0", rate: 1000, capture: capture)
        }
        defer { prober.shutdown() }
        #expect(prober.source.address == "198.18.1.1")
        let requests = segment.addresses.map { ProbeRequest(address: IPAddress($0)!, count: 2, timeout: .seconds(1)) }
            + [ProbeRequest(address: IPAddress("198.18.1.99")!, count: 1, timeout: .milliseconds(300))]
        let first = await prober.probe(requests)
        #expect(first[0..<3].allSatisfy { $0.sent == 2 && $0.received == 2 }, "\(first)")
        #expect(first[3].sent == 1 && first[3].received == 0, "nobody has 198.18.1.99")
        #expect(first[0..<3].allSatisfy { $0.rttMinNanoseconds > 0 && $0.rttMaxNanoseconds < 1_000_000_000 })

        // Take the second CPE off the segment: its veth is deleted at once (deleting its namespace
        // would not do: the kernel tears namespaces down in the background).
        #expect(segment.noc.run("ip link del p1"))
        // Under load the bridge may still be forwarding frames queued for the old port: let them
        // drain before the second round, whose answers are what is checked.
        try await Task.sleep(for: .milliseconds(500))
        let second = await prober.probe(requests)
        #expect(second[0].received == 2 && second[2].received == 2)
        #expect(second[1].sent == 2 && second[1].received == 0, "the removed CPE is missed: \(second[1])")

        prober.shutdown()
        capture.close()
        let saved = try Savefile.read(path: capturePath)
        #expect(saved.isEthernet)
        let verdicts = saved.frames.map { ReplyParser.classify($0.bytes) }
        let answered = Set(verdicts.compactMap { verdict -> String? in
            if case .arpReply(let sender, _) = verdict { return sender }
            return nil
        })
        #expect(answered == ["198.18.1.11", "198.18.1.12", "198.18.1.13"], "the capture holds the replies")
    }

    @Test("an interface that does not exist is a clear error")
    func missingInterface() {
        #expect(throws: ProbeError.self) { try ARPProber(interface: "fw-no-such0", rate: 10) }
        do {
            _ = try ARPProber(interface: "fw-no-such0", rate: 10)
        } catch {
            #expect(error.description.contains("fw-no-such0"))
        }
    }
}
