import Foundation
import ForewarnModel
import SNMP

/// A real snmpd on 127.0.0.1 with a fixture configuration in a temporary directory, stopped
/// (and its directory removed) by `stop()` or when the value is released, even after a failure.
final class TestAgent: @unchecked Sendable {
    // @unchecked: `process` and `directory` are set once in init and only read afterwards.
    static let snmpdPath = ["/usr/sbin/snmpd", "/usr/local/sbin/snmpd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static var skipReason: String? { snmpdPath == nil ? "snmpd is not installed (apt-get install snmpd)" : nil }

    static let user = "fwtest"
    static let authPass = "auth-pass-1234"
    static let privPass = "priv-pass-1234"
    static let community = "public"
    static let writeCommunity = "fw-write"

    let port: UInt16
    let directory: URL
    private let process: Process

    init(extraConfig: String = "", bindAll: Bool = false) throws {
        guard let snmpd = Self.snmpdPath else { throw CocoaError(.fileNoSuchFile) }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-snmpd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let state = directory.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        port = Self.freeUDPPort()
        let config = """
            rocommunity \(Self.community) default
            rwcommunity \(Self.writeCommunity) 127.0.0.1
            createUser \(Self.user) SHA-256 \(Self.authPass) AES \(Self.privPass)
            rouser \(Self.user) priv
            createUser \(Self.user)256 SHA \(Self.authPass) AES256 \(Self.privPass)
            rouser \(Self.user)256 priv
            dontLogTCPWrappersConnects yes
            sysName fixture-agent
            override -rw .1.3.6.1.2.1.2.2.1.14.1 counter 4294967290
            override .1.3.6.1.2.1.2.2.1.20.1 counter 7
            \(extraConfig)
            """
        let configPath = directory.appendingPathComponent("agent.conf")
        try config.write(to: configPath, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: snmpd)
        process.arguments = ["-f", "-Lf", directory.appendingPathComponent("log").path, "-C", "-c", configPath.path,
                             "-p", directory.appendingPathComponent("pid").path, "-I", "-smux",
                             bindAll ? "udp:\(port)" : "udp:127.0.0.1:\(port)"]
        var environment = ProcessInfo.processInfo.environment
        environment["MIBS"] = ""
        environment["SNMP_PERSISTENT_DIR"] = state.path
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    deinit { stop() }

    func stop() {
        if process.isRunning {
            // SIGKILL: the test runner's blocked signal mask is inherited, so snmpd may not see SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    var endpoint: String { "127.0.0.1:\(port)" }

    func target(_ profile: SNMPProfile, name: String = "agent", address: IPAddress = .v4(0x7f00_0001)) -> SNMPTarget {
        SNMPTarget(name: name, address: address, port: port, profile: profile)
    }

    static let v2c = SNMPProfile(id: "v2", version: .v2c, credentials: .community(community), timeout: .milliseconds(500), retries: 1)
    static let v1 = SNMPProfile(id: "v1", version: .v1, credentials: .community(community), timeout: .milliseconds(500), retries: 1)
    static func v3(authKey: String = authPass, sha256: Bool = true, aes256: Bool = false) -> SNMPProfile {
        SNMPProfile(id: "v3", version: .v3,
                    credentials: .user(name: aes256 ? user + "256" : user, level: .authPriv, auth: sha256 ? .sha256 : .sha,
                                       authKey: authKey, privacy: aes256 ? .aes256 : .aes128, privacyKey: privPass),
                    timeout: .milliseconds(500), retries: 1)
    }

    /// Waits until the agent answers (it starts within ~50 ms); throws its log if it never does.
    func ready(_ engine: SNMPEngine) async throws {
        for _ in 0..<50 {
            if (try? await engine.get([MIB.sysUpTime], from: target(Self.v2c))) != nil { return }
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("log"), encoding: .utf8)) ?? ""
        throw AgentDidNotStart(log: log)
    }

    struct AgentDidNotStart: Error { var log: String }

    /// Runs a net-snmp command-line tool (snmpset, snmptrap) to completion.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/\(tool)")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["MIBS"] = ""
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func freeUDPPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                _ = bind(fd, raw, length)
                _ = getsockname(fd, raw, &length)
            }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}
