#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// Idle connections cannot take the listener down: with the daemon's open-file limit at 1,024,
/// 1,200 clients that connect and say nothing leave `/healthz` answering and the daemon's
/// descriptors bounded (the idlest connections are closed to make room).
@Suite(.serialized) struct HTTPIdleConnectionTests {
    @Test func idleConnectionsBeyondTheDescriptorLimitLeaveHealthzAnswering() throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/bin/sh")
        daemon.arguments = ["-c", "ulimit -n 1024 && exec \"$0\" run --config \"$1\" --store \"$2\"",
                            ForewarnBinary.path, fixture.configPath, fixture.storePath]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        environment.removeValue(forKey: "JOURNAL_STREAM")
        daemon.environment = environment
        daemon.standardError = FileHandle.nullDevice
        daemon.standardOutput = FileHandle.nullDevice
        try daemon.run()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)
        // The listener may come up a moment after READY.
        var first: String?
        for _ in 0..<50 where first == nil {
            first = Self.healthz(port: fixture.httpPort)
            if first == nil { usleep(100_000) }
        }
        #expect(first == "ok")

        var idle: [Int32] = []
        defer { for descriptor in idle { close(descriptor) } }
        for _ in 0..<1_200 {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(fixture.httpPort)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            idle.append(descriptor)
        }
        usleep(300_000)
        #expect(Self.healthz(port: fixture.httpPort) == "ok")
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.processIdentifier)/fd").count) ?? 0
        #expect(descriptors < 600, "the daemon holds \(descriptors) descriptors")
        #expect(daemon.isRunning)

        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
    }

    static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// The body of GET /healthz on a new connection, or nil without an answer within 5 s.
    static func healthz(port: UInt16) -> String? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var limit = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard send(descriptor, request, request.count, 0) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 200") else { return nil }
        return text.components(separatedBy: "\r\n\r\n").last?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
