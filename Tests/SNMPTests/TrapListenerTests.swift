import Foundation
import ForewarnModel
import SNMP
import Synchronization
import Testing

@Suite("Trap and inform reception with the real snmptrap", .serialized)
struct TrapListenerTests {
    /// Collects what the listener delivers.
    final class Inbox: Sendable {
        let traps = Mutex<[ReceivedTrap]>([])
        func add(_ trap: ReceivedTrap) { traps.withLock { $0.append(trap) } }
        var all: [ReceivedTrap] { traps.withLock { $0 } }

        /// Waits (without asserting on time) until `count` traps are in; a guard stops a hang.
        func wait(for count: Int) async {
            for _ in 0..<500 where all.count < count { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }

    static let snmptrapMissing = !FileManager.default.isExecutableFile(atPath: "/usr/bin/snmptrap")

    static let v3Arguments = ["-u", TestAgent.user, "-l", "authPriv", "-a", "SHA-256", "-A", TestAgent.authPass,
                              "-x", "AES", "-X", TestAgent.privPass]

    @Test func v1v2cAndV3TrapsAndInformsAreReceivedAndInformsAcknowledged() async throws {
        if Self.snmptrapMissing { print("skipped: snmptrap is not installed (apt-get install snmp)"); return }
        let engine = try SNMPEngine()
        let port = TestAgent.freeUDPPort()
        let inbox = Inbox()
        let listener = try await engine.listenForTraps(on: SocketEndpoint("127.0.0.1:\(port)")!) { inbox.add($0) }
        defer { listener.close() }
        let senderEngine = [UInt8]([0x80, 0x00, 0x1f, 0x88, 0x04, 0x66, 0x77, 0x2d, 0x74, 0x65, 0x73, 0x74])
        await engine.addTrapUsers([TestAgent.v3()], senderEngineIDs: [senderEngine])
        let to = "127.0.0.1:\(port)"
        let linkDown = ["1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.1.2", "i", "2", "1.3.6.1.2.1.2.2.1.7.2", "i", "1",
                        "1.3.6.1.2.1.2.2.1.8.2", "i", "2"]

        #expect(try TestAgent.run("snmptrap", ["-v", "2c", "-c", "public", to, ""] + linkDown) == 0)
        // snmpinform exits 0 only once the inform was acknowledged.
        #expect(try TestAgent.run("snmpinform", ["-v", "2c", "-c", "public", "-t", "2", "-r", "0", to, "", "1.3.6.1.6.3.1.1.5.4",
                                                 "1.3.6.1.2.1.2.2.1.1.3", "i", "3"]) == 0)
        #expect(try TestAgent.run("snmptrap", ["-v", "3", "-e", senderEngine.map { String(format: "%02x", $0) }.joined()]
                                     + Self.v3Arguments + [to, "", "1.3.6.1.6.3.1.1.5.1"]) == 0)
        #expect(try TestAgent.run("snmpinform", ["-v", "3", "-t", "2", "-r", "0"] + Self.v3Arguments
                                     + [to, "", "1.3.6.1.6.3.1.1.5.2"]) == 0)
        #expect(try TestAgent.run("snmptrap", ["-v", "1", "-c", "public", to, "1.3.6.1.4.1.8072.3.2.10", "192.0.2.9", "2", "0", "",
                                               "1.3.6.1.2.1.2.2.1.1.4", "i", "4"]) == 0)
        await inbox.wait(for: 5)
        let traps = inbox.all
        try #require(traps.count == 5, "received: \(traps)")

        #expect(traps[0].version == .v2c && traps[0].trapOID == MIB.linkDown && traps[0].ifIndex == 2)
        #expect(traps[0].securityName == "public" && !traps[0].isInform && traps[0].source == IPAddress("127.0.0.1"))
        #expect(traps[1].isInform && traps[1].trapOID == MIB.linkUp && traps[1].ifIndex == 3)
        #expect(traps[2].version == .v3 && traps[2].trapOID == MIB.coldStart && traps[2].securityName == TestAgent.user)
        #expect(traps[3].version == .v3 && traps[3].isInform && traps[3].trapOID == MIB.warmStart)
        #expect(traps[4].version == .v1 && traps[4].trapOID == MIB.linkDown && traps[4].ifIndex == 4)
        #expect(traps[4].agentAddress == IPAddress("192.0.2.9"))
    }

    @Test func aThousandMalformedDatagramsAreSurvived() async throws {
        if Self.snmptrapMissing { print("skipped: snmptrap is not installed (apt-get install snmp)"); return }
        let engine = try SNMPEngine()
        let port = TestAgent.freeUDPPort()
        let inbox = Inbox()
        // A source may send 10 a second after a burst of 50: the 1,000 below are rate-limited
        // however slowly a loaded machine sends them (they would need 95 s not to be).
        let listener = try await engine.listenForTraps(on: SocketEndpoint("127.0.0.1:\(port)")!, ratePerSecond: 10, burst: 50) {
            inbox.add($0)
        }
        defer { listener.close() }
        // Random bytes from 127.0.0.2, some starting like an SNMP message to reach deeper into the parser.
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var source = sockaddr_in()
        source.sin_family = sa_family_t(AF_INET)
        source.sin_addr.s_addr = UInt32(0x7f00_0002).bigEndian
        _ = withUnsafePointer(to: &source) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var destination = sockaddr_in()
        destination.sin_family = sa_family_t(AF_INET)
        destination.sin_port = port.bigEndian
        destination.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var generator = SystemRandomNumberGenerator()
        for index in 0..<1_000 {
            var bytes = (0..<Int.random(in: 1...600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if index % 2 == 0 && bytes.count > 8 { bytes[0] = 0x30; bytes[1] = 0x82; bytes[4] = 0x02; bytes[5] = 0x01; bytes[6] = UInt8(index % 4) }
            _ = withUnsafePointer(to: &destination) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if index % 100 == 99 { try await Task.sleep(for: .milliseconds(5)) } // let the socket buffer drain
        }
        // Still alive and still receiving.
        #expect(try TestAgent.run("snmptrap", ["-v", "2c", "-c", "public", "127.0.0.1:\(port)", "", "1.3.6.1.6.3.1.1.5.1"]) == 0)
        await inbox.wait(for: 1)
        #expect(inbox.all.count == 1)
        let counters = await listener.counters()
        #expect(counters.received == 1)
        #expect(counters.undecodable + counters.rateLimited >= 900)
        #expect(counters.rateLimited > 0)
    }
}
