#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// The `forewarn` executable built beside this test bundle (or `$FOREWARN_BIN`).
enum ForewarnBinary {
    static var path: String {
        if let explicit = ProcessInfo.processInfo.environment["FOREWARN_BIN"] { return explicit }
        let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("forewarn").path
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized.path

    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs the CLI to completion.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                      errors: String(decoding: errorData, as: UTF8.self))
    }
}

/// A temporary folder holding a configuration and a store for one daemon under test.
struct DaemonFixture {
    let folder: String
    var configPath: String { folder + "/forewarn.yaml" }
    var storePath: String { folder + "/forewarn.sqlite" }

    /// A free loopback TCP port for this daemon's HTTP listener.
    let httpPort: UInt16
    /// A free loopback UDP port for its trap receiver.
    let trapPort: UInt16
    let httpToken = "e2e-token-0123456789abcdef"
    /// Every kind of secret the configuration holds, none of which may appear in any output.
    static let secrets = ["e2e-token-0123456789abcdef", "e2e-community-secret", "e2e-auth-key-secret", "e2e-priv-key-secret"]

    init(elements: Int = 2) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-e2e-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        httpPort = try FreePort.get(.tcp)
        trapPort = try FreePort.get(.udp)
        try writeConfiguration(elements: elements)
    }

    /// A small valid configuration; the store path is set on the command line with --store.
    func writeConfiguration(elements: Int) throws {
        var yaml = """
            daemon:
              store: unused.sqlite
              heartbeat_interval: 1s
              log_level: debug
              http_listen: 127.0.0.1:\(httpPort)
              http_token: \(httpToken)
              trap_listen: 127.0.0.1:\(trapPort)
            snmp_profiles:
              - {id: default, version: 2c, community: e2e-community-secret, timeout: 1s}
              - {id: v3, version: 3, user: noc, auth_key: e2e-auth-key-secret, priv_key: e2e-priv-key-secret}
            snmp:
              trap_v3_profiles: [v3]
            elements:

            """
        for index in 1...elements {
            // Loopback addresses where no agent answers: polls time out, nothing leaves the machine.
            yaml += "  - {id: e\(index), address: 127.77.0.\(index), snmp_port: 16161, kind: access}\n"
        }
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func writeRaw(_ text: String) throws { try text.write(toFile: configPath, atomically: true, encoding: .utf8) }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}

/// A stand-in for systemd's notify socket: an AF_UNIX datagram socket the daemon writes to.
final class NotifySocket {
    let path: String
    private let descriptor: Int32

    init(folder: String) throws {
        path = folder + "/notify.sock"
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard descriptor >= 0, bound == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    deinit { close(descriptor) }

    /// The next datagram, or nil when none arrives within `seconds`.
    func receive(within seconds: Int) -> String? {
        var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptorSet, 1, Int32(seconds * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    /// Reads datagrams until one contains `needle`; returns everything read on the way.
    func waitFor(_ needle: String, within seconds: Int) -> [String] {
        var seen: [String] = []
        let deadline = Date().addingTimeInterval(TimeInterval(seconds))
        while Date() < deadline, let message = receive(within: max(1, Int(deadline.timeIntervalSinceNow.rounded(.up)))) {
            seen.append(message)
            if message.contains(needle) { break }
        }
        return seen
    }
}

/// A daemon started in the background, stopped with SIGKILL if a test leaves it running.
final class RunningDaemon {
    let process = Process()
    private let errorPipe = Pipe()

    init(_ fixture: DaemonFixture, environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: ForewarnBinary.path)
        process.arguments = ["run", "--config", fixture.configPath, "--store", fixture.storePath]
        var merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        merged.removeValue(forKey: "JOURNAL_STREAM")
        process.environment = merged
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    /// `forewarn` with these arguments, in the background (a daemon started by hand).
    init(arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: ForewarnBinary.path)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        merged.removeValue(forKey: "JOURNAL_STREAM")
        process.environment = merged
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits at most `seconds` for the exit; a process still running then is killed (SIGKILL)
    /// and reported with `stillRunning` (a bound, so that a daemon that should have refused to
    /// start fails the test instead of hanging it).
    func waitForExit(within seconds: Double) -> (status: Int32, log: String, stillRunning: Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        let stillRunning = process.isRunning
        if stillRunning { kill(process.processIdentifier, SIGKILL) }
        let (status, log) = waitForExit()
        return (status, log, stillRunning)
    }

    /// Waits for the exit and returns its status and everything it logged.
    func waitForExit() -> (status: Int32, log: String) {
        let log = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, log)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

enum FreePort {
    enum Kind { case tcp, udp }

    /// Asks the kernel for a free loopback port (bind to port 0, read it, release it).
    static func get(_ kind: Kind) throws -> UInt16 {
        let descriptor = socket(AF_INET, Int32((kind == .tcp ? SOCK_STREAM : SOCK_DGRAM).rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(descriptor, pointer, length) == 0 else { return -1 }
                return getsockname(descriptor, pointer, &length)
            }
        }
        guard result == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        return UInt16(bigEndian: address.sin_port)
    }
}

enum Shell {
    /// Runs a program to completion with its output discarded; returns its exit status.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
