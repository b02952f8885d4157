import ForewarnModel
import SNMP
import Synchronization
import Testing

@Suite("SNMP engine against a real snmpd", .serialized)
struct EngineTests {
    let engine: SNMPEngine

    init() throws {
        engine = try SNMPEngine(configuration: .init(maxOutstanding: 64))
    }

    @Test func v2cGet() async throws {
        guard let agent = try Self.agent() else { return }
        defer { agent.stop() }
        try await agent.ready(engine)
        let values = try await engine.get([MIB.sysUpTime, MIB.sysName], from: agent.target(TestAgent.v2c))
        #expect(values.count == 2)
        guard case .timeTicks = values[0].value else { Issue.record("sysUpTime is \(values[0].value)"); return }
        #expect(values[1].value.text == "fixture-agent")
    }

    @Test func v1GetAndMissingObject() async throws {
        guard let agent = try Self.agent() else { return }
        defer { agent.stop() }
        try await agent.ready(engine)
        let values = try await engine.get([MIB.sysName], from: agent.target(TestAgent.v1))
        #expect(values.first?.value.text == "fixture-agent")
        let error = await #expect(throws: SNMPError.self) {
            try await engine.get(["1.3.6.1.2.1.1.99.0"], from: agent.target(TestAgent.v1))
        }
        #expect(error?.cause == .noSuchName("1.3.6.1.2.1.1.99.0"))
    }

    @Test func bulkWalkOfIfTable() async throws {
        guard let agent = try Self.agent() else { return }
        defer { agent.stop() }
        try await agent.ready(engine)
        let rows = try await engine.walk(MIB.ifTable, from: agent.target(TestAgent.v2c), maxRepetitions: 10)
        let loopback = rows.filter { $0.oid == MIB.ifDescr.appending(1) }
        #expect(loopback.first?.value.text == "lo")
        #expect(rows.contains { $0.oid == MIB.ifInErrors.appending(1) && $0.value == .counter32(4_294_967_290) })
        #expect(rows.allSatisfy { MIB.ifTable.contains($0.oid) })
        // The same walk with GETNEXT (SNMPv1) gives the same objects.
        let v1Rows = try await engine.walk(MIB.ifTable, from: agent.target(TestAgent.v1))
        #expect(v1Rows.map(\.oid) == rows.filter { if case .counter64 = $0.value { false } else { true } }.map(\.oid))
    }

    @Test func wrongCommunityTimesOut() async throws {
        guard let agent = try Self.agent() else { return }
        defer { agent.stop() }
        try await agent.ready(engine)
        var profile = TestAgent.v2c
        profile.credentials = .community("wrong")
        profile.timeout = .milliseconds(200)
        let error = await #expect(throws: SNMPError.self) {
            try await engine.get([MIB.sysUpTime], from: agent.target(profile))
        }
        #expect(error?.cause == .timeout(after: .milliseconds(200), attempts: 2))
        #expect(error?.description.contains("wrong community") == true)
    }

    @Test(arguments: [(true, false), (false, true)])
    func v3AuthPrivGet(sha256: Bool, aes256: Bool) async throws {
        guard let agent = try Self.agent() else { return }
        defer { agent.stop() }
        try await agent.ready(engine)
        let target = agent.target(TestAgent.v3(sha256: sha256, aes256: aes256))
        let values = try await engine.get([MIB.sysName], from: target)
        #expect(values.first?.value.text == "fixture-agent")
        // The engine ID is cached: a second request needs no discovery.
        let again = try await engine.get([MIB.sysUpTime], from: target)
        #expect(again.count == 1)
    }

    @Test func v3WrongKeyIsAnAuthenticationError() async throws {
        guard let agent = try Self.agent() else { return }
        defer { agent.stop() }
        try await agent.ready(engine)
        let error = await #expect(throws: SNMPError.self) {
            try await engine.get([MIB.sysName], from: agent.target(TestAgent.v3(authKey: "not-the-key-0000")))
        }
        guard case .authentication = error?.cause else {
            Issue.record("expected an authentication error, got \(String(describing: error))")
            return
        }
        #expect(error?.isRetryable == false)
    }

    @Test func aSilentV3AgentDoesNotHoldUpOthers() async throws {
        guard let agent = try Self.agent() else { return }
        defer { agent.stop() }
        try await agent.ready(engine)
        // The silent agent holds its request for 2 × 1.5 s: room for the live one to be answered
        // first even on a loaded machine, were the engine to wait for the silent one it could not.
        var silentProfile = TestAgent.v3()
        silentProfile.timeout = .milliseconds(1_500)
        let silent = SNMPTarget(name: "silent", address: .v4(0x7f00_0001), port: TestAgent.freeUDPPort(), profile: silentProfile)
        let order = Mutex<[String]>([])
        async let silentResult: SNMPError? = {
            do throws(SNMPError) { _ = try await engine.get([MIB.sysUpTime], from: silent); return nil } catch { order.withLock { $0.append("silent") }; return error }
        }()
        try await Task.sleep(for: .milliseconds(20)) // the discovery of the silent agent is under way
        _ = try await engine.get([MIB.sysUpTime], from: agent.target(TestAgent.v3()))
        order.withLock { $0.append("live") }
        let error = await silentResult
        #expect(error?.cause == .timeout(after: .milliseconds(1_500), attempts: 2))
        #expect(order.withLock { $0 } == ["live", "silent"])
    }

    @Test func manyConcurrentRequests() async throws {
        guard let agent = try Self.agent() else { return }
        defer { agent.stop() }
        try await agent.ready(engine)
        let target = agent.target(TestAgent.v2c)
        let answered = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<2_000 {
                group.addTask { try await engine.get([MIB.sysUpTime], from: target).count }
            }
            return try await group.reduce(0, +)
        }
        #expect(answered == 2_000)
    }

    static func agent() throws -> TestAgent? {
        if let reason = TestAgent.skipReason {
            print("skipped: \(reason)")
            return nil
        }
        return try TestAgent()
    }
}

@Suite("forewarn poll")
struct OneShotPollTests {
    @Test func answeredAndSilentTargetsAndTheSummary() async throws {
        if let reason = TestAgent.skipReason { print("skipped: \(reason)"); return }
        let agent = try TestAgent()
        defer { agent.stop() }
        let engine = try SNMPEngine()
        try await agent.ready(engine)
        var silent = TestAgent.v2c
        silent.timeout = .milliseconds(100)
        let targets = [agent.target(TestAgent.v2c, name: "agg1"),
                       SNMPTarget(name: "ghost", address: .v4(0x7f00_0009), port: agent.port, profile: silent)]
        let (results, summary) = await OneShotPoll.run(targets, engine: engine)
        #expect(summary.targets == 2 && summary.answered == 1 && summary.timedOut == 1 && summary.failed == 0)
        #expect(results[0].sysName == "fixture-agent")
        #expect(results[0].ports.first { $0.ifIndex == 1 }?.ifName == "lo")
        #expect(results[0].ports.first { $0.ifIndex == 1 }?.inErrors == 4_294_967_290)
        let text = OneShotPoll.text(results, summary)
        #expect(text.contains("agg1 (127.0.0.1:\(agent.port)): answered"))
        #expect(text.contains("ghost (127.0.0.9:\(agent.port)): NO ANSWER"))
        #expect(text.split(separator: "\n").last?.hasPrefix("summary: 1 answered, 1 timed out, 0 failed, 2 targets in ") == true)
        #expect(OneShotPoll.json(results, summary).contains("\"timed_out\" : 1"))
    }
}
