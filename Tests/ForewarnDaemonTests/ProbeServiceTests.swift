import ForewarnConfig
import ForewarnModel
import Probes
import Testing
@testable import ForewarnDaemon

@Suite("Probe service plan")
struct ProbeServiceTests {
    static let configuration = try! ConfigLoader.parse(yaml: """
        probe_profiles:
          - id: default
            interval: 30s
          - id: seg
            interval: 10s
            arp_interface: eth7
        elements:
          - id: acc1
            address: 192.0.2.1
            kind: access
        customers:
          - id: C-1
        lines:
          - {id: L-icmp, customer: C-1, element: acc1, target: 127.0.0.1}
          - {id: L-tcp, customer: C-1, element: acc1, target: 127.0.0.2, probe: "tcp:7547"}
          - {id: L-arp-profile, customer: C-1, element: acc1, target: 198.19.0.11, probe: arp, probe_profile: seg}
          - {id: L-arp-subnet, customer: C-1, element: acc1, target: 198.19.0.12, probe: arp}
          - {id: L-arp-nowhere, customer: C-1, element: acc1, target: 203.0.113.9, probe: arp}
          - {id: L-none, customer: C-1, element: acc1, probe: none}
        """, file: "t.yaml", baseDirectory: ".")

    @Test("probed lines get their engine and profile; ARP lines without an interface use the connected subnet")
    func plan() {
        let subnets = [InterfaceLookup.Subnet(interface: "lan0", address: 0xC613_0002, netmask: 0xFFFF_FF00)]
        let (plan, unreachable) = ProbeService.plan(Self.configuration, subnets: subnets)
        let byID = Dictionary(uniqueKeysWithValues: plan.lines.map { ($0.id.rawValue, $0) })
        #expect(byID.keys.sorted() == ["L-arp-profile", "L-arp-subnet", "L-icmp", "L-tcp"])
        #expect(byID["L-icmp"]?.prober == .icmp)
        #expect(byID["L-tcp"]?.prober == .tcp && byID["L-tcp"]?.port == 7547)
        #expect(byID["L-arp-profile"]?.prober == .arp(interface: "eth7"))
        #expect(byID["L-arp-subnet"]?.prober == .arp(interface: "lan0"))
        #expect(unreachable == ["L-arp-nowhere"])
        #expect(plan.profiles[byID["L-arp-profile"]!.profile].id == "seg")
        #expect(plan.profiles[byID["L-icmp"]!.profile].interval == .seconds(30))
    }
}
