import Foundation
import ForewarnConfig
import ForewarnModel
@testable import Probes
import Testing
@testable import ForewarnDaemon

@Suite("forewarn probe")
struct ProbeRunTests {
    static let configuration: Configuration = {
        let yaml = """
            probing:
              arp_interface: eth9
            probe_profiles:
              - id: quick
                interval: 10s
                timeout: 300ms
                count: 2
            elements:
              - id: acc1
                address: 192.0.2.1
                kind: access
            customers:
              - id: C-1
            lines:
              - id: L-1
                customer: C-1
                element: acc1
                target: 127.0.0.1
                probe_profile: quick
              - id: L-2
                customer: C-1
                element: acc1
                target: 127.0.0.2
                probe: tcp:7547
              - id: L-3
                customer: C-1
                element: acc1
                probe: none
            """
        return try! ConfigLoader.parse(yaml: yaml, file: "test.yaml", baseDirectory: ".")
    }()

    @Test("line ids take their configured method and profile; addresses take the command's")
    func resolveTargets() {
        let (targets, problems) = ProbeRun.resolve(["L-1", "L-2", "::1", "L-3", "nonsense"], inventory: ProbeRun.Inventory(Self.configuration),
                                                   options: ProbeRun.Options(count: nil, timeout: nil, method: .icmp))
        #expect(targets.map(\.text) == ["L-1", "L-2", "::1"])
        #expect(targets[0].method == .icmp && targets[0].count == 2 && targets[0].timeout == .milliseconds(300))
        #expect(targets[1].method == .tcp(port: 7547) && targets[1].count == 1)
        #expect(targets[2].line == nil && targets[2].count == 3)
        #expect(problems.map(\.description) == [
            "L-3: line L-3 is not probed (probe: none or no target)",
            "nonsense: neither a configured line id nor an IP address (host names are not looked up)",
        ])
    }

    @Test("--count and --timeout override the profile; ARP addresses need IPv4 and an interface")
    func overridesAndARP() {
        let options = ProbeRun.Options(count: 5, timeout: .seconds(2), method: .arp)
        let (targets, problems) = ProbeRun.resolve(["L-1", "127.0.0.3", "::1"], inventory: ProbeRun.Inventory(Self.configuration), options: options)
        #expect(targets[0].count == 5 && targets[0].timeout == .seconds(2))
        #expect(targets[1].method == .arp && targets[1].interface == "eth9")
        #expect(problems.map(\.description) == ["::1: ARP needs an IPv4 address"])
        let (_, withoutConfig) = ProbeRun.resolve(["127.0.0.3"], inventory: nil, options: options)
        #expect(withoutConfig.map(\.description) == ["127.0.0.3: ARP needs an interface: 127.0.0.3 is on no connected subnet (--interface)"])
    }

    @Test("results print in fping's layout with a summary")
    func textLayout() {
        let target = ProbeRun.Target(text: "L-1", line: "L-1", method: .icmp, address: .v4(0x7f00_0001), interface: nil,
                                     count: 3, timeout: .seconds(1), spacing: .zero)
        var answered = ProbeOutcome(sent: 3)
        answered.addAnswer(rttNanoseconds: 1_000_000)
        answered.addAnswer(rttNanoseconds: 2_000_000)
        var silent = target
        silent.text = "127.0.0.9"
        silent.line = nil
        silent.address = .v4(0x7f00_0009)
        let text = ProbeRun.text([ProbeRun.Result(target: target, outcome: answered),
                                  ProbeRun.Result(target: silent, outcome: ProbeOutcome(sent: 3))])
        #expect(text == """
            L-1             : xmt/rcv/%loss = 3/2/33%, min/avg/max = 1.000/1.500/2.000 ms  (127.0.0.1, icmp)
            127.0.0.9       : xmt/rcv/%loss = 3/0/100%  (icmp)
            2 targets, 1 alive, 1 unreachable; 6 sent, 2 received, 66% loss; min/avg/max = 1.000/1.500/2.000 ms
            """)
    }

    @Test("a round over loopback lines and addresses", .enabled(if: geteuid() == 0, "raw ICMP needs root"))
    func loopbackRound() async throws {
        let options = ProbeRun.Options(count: 2, timeout: .seconds(1), method: .icmp)
        let (targets, _) = ProbeRun.resolve(["L-1", "127.0.0.5", "::1"], inventory: ProbeRun.Inventory(Self.configuration), options: options)
        let results = try await ProbeRun.execute(targets, options: options, probing: Self.configuration.probing)
        #expect(results.allSatisfy { $0.outcome.sent == 2 && $0.outcome.received == 2 })
        #expect(ProbeRun.json(results).contains("\"loss_percent\" : 0"))
    }
}
