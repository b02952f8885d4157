import Foundation
import ForewarnModel
import SNMP
import Testing

/// `snmp.trap_communities`: v1 and v2c traps are taken only with a known community, and an
/// inform with a wrong one is not acknowledged (the sender sees a timeout). SNMPv3 is
/// authenticated by its users and unaffected.
@Suite("Trap authentication by community with the real snmptrap and snmpinform", .serialized)
struct TrapCommunityTests {
    @Test func onlyKnownCommunitiesAreTakenAndAcknowledged() async throws {
        if TrapListenerTests.snmptrapMissing { print("skipped: snmptrap is not installed (apt-get install snmp)"); return }
        let engine = try SNMPEngine()
        let port = TestAgent.freeUDPPort()
        let inbox = TrapListenerTests.Inbox()
        let listener = try await engine.listenForTraps(on: SocketEndpoint("127.0.0.1:\(port)")!,
                                                       communities: [Secret("n0c-traps"), Secret("legacy")]) { inbox.add($0) }
        defer { listener.close() }
        let to = "127.0.0.1:\(port)"

        // Wrong community: dropped, and the inform times out unacknowledged.
        #expect(try TestAgent.run("snmptrap", ["-v", "2c", "-c", "public", to, "", "1.3.6.1.6.3.1.1.5.3"]) == 0)
        #expect(try TestAgent.run("snmpinform", ["-v", "2c", "-c", "public", "-t", "1", "-r", "0", to, "",
                                                 "1.3.6.1.6.3.1.1.5.4"]) != 0)
        #expect(try TestAgent.run("snmptrap", ["-v", "1", "-c", "public", to, "1.3.6.1.4.1.8072.3.2.10", "192.0.2.9", "2",
                                               "0", ""]) == 0)
        // Known communities: taken, and the inform acknowledged.
        #expect(try TestAgent.run("snmptrap", ["-v", "2c", "-c", "n0c-traps", to, "", "1.3.6.1.6.3.1.1.5.3"]) == 0)
        #expect(try TestAgent.run("snmpinform", ["-v", "2c", "-c", "legacy", "-t", "2", "-r", "0", to, "",
                                                 "1.3.6.1.6.3.1.1.5.4"]) == 0)
        #expect(try TestAgent.run("snmptrap", ["-v", "1", "-c", "n0c-traps", to, "1.3.6.1.4.1.8072.3.2.10", "192.0.2.9",
                                               "3", "0", ""]) == 0)
        await inbox.wait(for: 3)
        let traps = inbox.all
        #expect(traps.map(\.securityName) == ["n0c-traps", "legacy", "n0c-traps"], "\(traps)")
        #expect(traps.map(\.trapOID) == [MIB.linkDown, MIB.linkUp, MIB.linkUp])
        let counters = await listener.counters()
        #expect(counters.wrongCommunity == 3, "\(counters)")
    }
}
