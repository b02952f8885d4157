import Foundation
import ForewarnModel
import SNMP
import Synchronization

/// A real snmpd on 127.0.0.1 with a fixture configuration in a temporary directory, stopped
/// (and its directory removed) by `stop()` or when the value is released, even after a failure.
final class TestAgent: Sendable {
    static let snmpdPath = ["/usr/sbin/snmpd", "/usr/local/sbin/snmpd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static var skipReason: String? { snmpdPath == nil ? "snmpd is not installed (apt-get install snmpd)" : nil }

    static let user = "fwtest"
    static let authPass = "auth-pass-1234"
    static let privPass = "priv-pass-1234"
    static let community = "public"
    static let writeCommunity = "fw-write"

    let port: UInt16
    let directory: URL

    /// Sets the writable ifInErrors.1 with a raw SNMPv2c SET of a Counter32 (snmpset has no
    /// Counter32 type), so a test can make the counter wrap. Fire and forget.
    func setInErrors(_ value: UInt32) {
        func tlv(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] {
            precondition(body.count < 128)
            return [tag, UInt8(body.count)] + body
        }
        let oid: [UInt8] = [0x2b, 6, 1, 2, 1, 2, 2, 1, 14, 1]
        let number = withUnsafeBytes(of: value.bigEndian) { [0] + Array($0) }
        let varbind = tlv(0x30, tlv(0x06, oid) + tlv(0x41, number))
        let pdu = tlv(0xa3, tlv(0x02, [1]) + tlv(0x02, [0]) + tlv(0x02, [0]) + tlv(0x30, varbind))
        let message = tlv(0x30, tlv(0x02, [1]) + tlv(0x04, Array(Self.writeCommunity.utf8)) + pdu)
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, message, message.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
    private let pid: pid_t
    private let stopped = Mutex(false)

    /// `persistentState` holds lines snmpd otherwise keeps in its persistent file, e.g. `engineBoots 50`
    /// (with `-C` snmpd reads no persistent file, so they go on the command line's `-c` list).
    init(extraConfig: String = "", bindAll: Bool = false, port: UInt16? = nil, persistentState: String = "") throws {
        guard let snmpd = Self.snmpdPath else { throw CocoaError(.fileNoSuchFile) }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-snmpd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let state = directory.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        self.port = port ?? Self.freeUDPPort()
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
        var configPaths = configPath.path
        if !persistentState.isEmpty {
            let persistentPath = directory.appendingPathComponent("persistent.conf")
            try (persistentState + "\n").write(to: persistentPath, atomically: true, encoding: .utf8)
            configPaths += "," + persistentPath.path
        }
        let arguments = ["-f", "-Lf", directory.appendingPathComponent("log").path, "-C", "-c", configPaths,
                         "-p", directory.appendingPathComponent("pid").path, "-I", "-smux",
                         bindAll ? "udp:\(self.port)" : "udp:127.0.0.1:\(self.port)"]
        pid = try Self.spawn(snmpd, arguments, environment: ["MIBS=", "SNMP_PERSISTENT_DIR=\(state.path)"])
    }

    deinit { stop() }

    var isRunning: Bool {
        stopped.withLock { stopped in !stopped && waitpid(pid, nil, WNOHANG) == 0 }
    }

    func stop() {
        stopped.withLock { stopped in
            guard !stopped else { return }
            stopped = true
            // SIGKILL: the test runner's blocked signal mask is inherited, so snmpd may not see SIGTERM.
            kill(pid, SIGKILL)
            while waitpid(pid, nil, 0) < 0 && errno == EINTR {}
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
        for _ in 0..<50 where isRunning {
            if (try? await engine.get([MIB.sysUpTime], from: target(Self.v2c))) != nil { return }
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("log"), encoding: .utf8)) ?? ""
        throw AgentDidNotStart(log: log)
    }

    struct AgentDidNotStart: Error { var log: String }

    /// Runs a net-snmp command-line tool (snmpset, snmptrap) to completion. posix_spawn and
    /// waitpid rather than Foundation's Process, whose reaper thread blocks in wait4 on the
    /// long-running snmpd and then never sees the short tool exit.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let pid = try spawn("/usr/bin/\(tool)", arguments, environment: ["MIBS=", "PATH=/usr/bin:/bin"])
        var exit: Int32 = 0
        while waitpid(pid, &exit, 0) < 0 && errno == EINTR {}
        return (exit & 0x7f) == 0 ? (exit >> 8) & 0xff : -1
    }

    /// Runs a shell command line to completion (the lab script).
    static func runShell(_ command: String) throws -> Int32 {
        let pid = try spawn("/bin/sh", ["-c", command],
                            environment: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "MIBS="])
        var exit: Int32 = 0
        while waitpid(pid, &exit, 0) < 0 && errno == EINTR {}
        return (exit & 0x7f) == 0 ? (exit >> 8) & 0xff : -1
    }

    static func spawn(_ path: String, _ arguments: [String], environment: [String]) throws -> pid_t {
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard status == 0 else { throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EINVAL) }
        return pid
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
