import Foundation
import ForewarnModel
@testable import SNMP
import Testing

/// SNMPv3 timeliness (RFC 3414 §3.2.7): what the engine believes about an agent's engineBoots and
/// engineTime must come from the agent, and a stale belief must heal, with a real snmpd.
@Suite("SNMPv3 engine boots and time against a real snmpd", .serialized)
struct EngineTimeTests {
    /// snmpd's `engineID fw-fixture`: enterprise 8072, format 4 (text).
    static let engineIDText = "fw-fixture"
    static let engineID: [UInt8] = [0x80, 0x00, 0x1f, 0x88, 0x04] + Array(engineIDText.utf8)
    static var engineIDHex: String { engineID.map { String(format: "%02x", $0) }.joined() }

    static let toolsMissing = !FileManager.default.isExecutableFile(atPath: "/usr/bin/snmptrap")

    static func agent(port: UInt16? = nil, boots: Int? = nil) throws -> TestAgent? {
        if let reason = TestAgent.skipReason { print("skipped: \(reason)"); return nil }
        if toolsMissing { print("skipped: snmptrap is not installed (apt-get install snmp)"); return nil }
        let state = boots.map { "engineBoots \($0)\noldEngineID 0x\(engineIDHex)" } ?? ""
        return try TestAgent(extraConfig: "engineID \(engineIDText)", port: port, persistentState: state)
    }

    /// `snmptrap -v3 -e <the agent's engine ID>` sends the agent's engine ID with the sending tool's
    /// own boots and time (here far ahead of the agent's, as `-Z` sets them).
    @Test func aV3TrapWithAPolledAgentsEngineIDDoesNotStopItsPolling() async throws {
        guard let agent = try Self.agent() else { return }
        defer { agent.stop() }
        let engine = try SNMPEngine()
        try await agent.ready(engine)
        let target = agent.target(TestAgent.v3())
        _ = try await engine.get([MIB.sysUpTime], from: target)

        let port = TestAgent.freeUDPPort()
        let inbox = TrapListenerTests.Inbox()
        let listener = try await engine.listenForTraps(on: SocketEndpoint("127.0.0.1:\(port)")!) { inbox.add($0) }
        defer { listener.close() }
        await engine.addTrapUsers([TestAgent.v3()], senderEngineIDs: [Self.engineID])
        #expect(try TestAgent.run("snmptrap", ["-v", "3", "-e", Self.engineIDHex, "-Z", "100,5"] + TrapListenerTests.v3Arguments
                                     + ["127.0.0.1:\(port)", "", "1.3.6.1.6.3.1.1.5.1"]) == 0)
        await inbox.wait(for: 1)
        try #require(inbox.all.count == 1, "the v3 trap was not received")

        // Polling goes on as before: the trap's boots and time were the sender's, not the agent's.
        for _ in 0..<3 {
            let values = try await engine.get([MIB.sysUpTime], from: target)
            #expect(values.count == 1)
        }
        #expect(await engine.engineTimeResynchronisations() == 0)
    }

    /// An agent that comes back with the same engine ID but a lower engineBoots (its persistent
    /// state lost, or the device replaced) answers with notInTimeWindow reports; the engine takes
    /// the agent's boots and time and retries, rather than timing out for ever.
    @Test func aPollAnsweredNotInTimeWindowResynchronisesAndRetries() async throws {
        guard let first = try Self.agent(boots: 50) else { return }
        let engine = try SNMPEngine()
        try await first.ready(engine)
        let target = first.target(TestAgent.v3())
        _ = try await engine.get([MIB.sysUpTime], from: target)
        let port = first.port
        first.stop()

        let second = try #require(try Self.agent(port: port))
        defer { second.stop() }
        try await second.ready(engine)
        let values = try await engine.get([MIB.sysUpTime], from: target)
        #expect(values.count == 1)
        #expect(await engine.engineTimeResynchronisations() >= 1)
    }
}

@Suite struct SNMPv3HeaderTests {
    func tlv(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] { [tag, UInt8(body.count)] + body }

    func message(engineID: [UInt8], boots: UInt8, time: [UInt8]) -> [UInt8] {
        let global = tlv(0x30, tlv(0x02, [0x01]) + tlv(0x02, [0x05, 0xdc]) + tlv(0x04, [0x07]) + tlv(0x02, [0x03]))
        let usm = tlv(0x30, tlv(0x04, engineID) + tlv(0x02, [boots]) + tlv(0x02, time) + tlv(0x04, Array("noc".utf8))
                      + tlv(0x04, [UInt8](repeating: 0, count: 12)) + tlv(0x04, []))
        return tlv(0x30, tlv(0x02, [0x03]) + global + tlv(0x04, usm) + tlv(0x04, [0xde, 0xad]))
    }

    @Test func readsTheAuthoritativeEngineBootsAndTime() {
        let bytes = message(engineID: EngineTimeTests.engineID, boots: 100, time: [0x01, 0x00])
        #expect(SNMPv3Header.authority(bytes) == .init(engineID: EngineTimeTests.engineID, boots: 100, time: 256))
        // The receiver peeks only the start of a datagram.
        #expect(SNMPv3Header.authoritativeEngineID(Array(bytes.prefix(bytes.count - 3))) == EngineTimeTests.engineID)
    }

    @Test func anythingElseHasNoAuthority() {
        let v2c = tlv(0x30, tlv(0x02, [0x01]) + tlv(0x04, Array("public".utf8)) + tlv(0xa7, []))
        #expect(SNMPv3Header.authority(v2c) == nil)
        let bytes = message(engineID: EngineTimeTests.engineID, boots: 1, time: [0x05])
        #expect(SNMPv3Header.authority(Array(bytes.prefix(30))) == nil)
        #expect(SNMPv3Header.authority([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]) == nil)
        #expect(SNMPv3Header.authority([]) == nil)
    }
}
