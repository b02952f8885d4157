#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// The real binary when a part of it cannot run, or its store disappears under it: the
/// heartbeat and `/healthz` tell the truth at once, and nothing spins.
@Suite(.serialized) struct DaemonFailureTests {
    /// A loopback TCP port held open by the test, as another program would hold it.
    final class HeldPort {
        let descriptor: Int32
        let port: UInt16

        init() throws {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                    guard bind(descriptor, pointer, length) == 0, listen(descriptor, 1) == 0 else { return -1 }
                    return getsockname(descriptor, pointer, &length)
                }
            }
            guard bound == 0 else {
                close(descriptor)
                throw POSIXError(.init(rawValue: errno) ?? .EIO)
            }
            self.descriptor = descriptor
            port = UInt16(bigEndian: address.sin_port)
        }

        deinit { close(descriptor) }
    }

    /// `http_listen` on a port another program holds: exit 1 naming the address, and the
    /// heartbeat says `failed` at once (it said `running` for 30 s, so `status` exited 0).
    @Test func anHTTPAddressInUseStopsTheDaemonAndItsHeartbeatSaysFailed() throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        let held = try HeldPort()
        try fixture.writeRaw("""
            daemon:
              store: unused.sqlite
              heartbeat_interval: 1s
              http_listen: 127.0.0.1:\(held.port)
              trap_listen: 127.0.0.1:\(fixture.trapPort)
            elements:
              - {id: e1, address: 127.77.3.1, snmp_port: 16161, kind: access}

            """)
        let daemon = try RunningDaemon(fixture, environment: [:])
        let outcome = daemon.waitForExit(within: 20)
        #expect(!outcome.stillRunning)
        #expect(outcome.status == 1)
        #expect(outcome.log.contains("forewarn: stopped: cannot listen on daemon.http_listen 127.0.0.1:\(held.port): address already in use"),
                "log:\n\(outcome.log)")

        let report = try ForewarnBinary.run(["status", "--store", fixture.storePath])
        #expect(report.status == 3, "status:\n\(report.output)\(report.errors)")
        #expect(report.output.contains("DAEMON NOT RUNNING: FAILED, stopped on an error (its log says which)"), "status:\n\(report.output)")
        let json = try ForewarnBinary.run(["status", "--store", fixture.storePath, "--json"])
        #expect(json.output.contains("\"state\" : \"failed\"") && json.output.contains("\"alive\" : false"), "\(json.output)")
    }

    /// CPU seconds a process has used (user and system), from /proc.
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The store's folder deleted under a running daemon whose elements keep changing: SQLite
    /// went on writing into the deleted file (lost at the next start) while `/healthz` said ok.
    /// Now writes fail, the daemon is degraded and says why, retries back off (a few lines a
    /// minute, little CPU), and a stop with changes unwritten exits non-zero.
    @Test func aStoreDeletedUnderTheDaemonMakesItDegradedWithoutSpinning() async throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        let folder = fixture.folder + "/store"
        let store = folder + "/forewarn.sqlite"
        try fixture.writeRaw("""
            daemon:
              store: unused.sqlite
              heartbeat_interval: 1s
              http_listen: 127.0.0.1:\(fixture.httpPort)
              trap_listen: 127.0.0.1:\(fixture.trapPort)
            snmp_profiles:
              - {id: default, version: 2c, community: public, timeout: 100ms, retries: 0}
            snmp:
              confirm_interval: 200ms
              confirm_attempts: 1
            correlation:
              hold_down: 200ms
            elements:

            """ + (1...20).map { "  - {id: e\($0), address: 127.77.4.\($0), snmp_port: 16161, kind: access, poll_interval: 1s}\n" }
                .joined())
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = try RunningDaemon(arguments: ["run", "--config", fixture.configPath, "--store", store],
                                       environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)
        // The store goes before the unreachable elements are judged down: their transitions
        // and incidents come after it.
        try FileManager.default.removeItem(atPath: folder)

        var health = (status: 0, body: "")
        for _ in 0..<100 {
            if let answer = try? await HTTPListenerTests().get("/healthz", port: fixture.httpPort) {
                health = answer
                if answer.status == 503 { break }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(health.status == 503, "healthz: \(health)")
        #expect(health.body.hasPrefix("degraded: store \(store) cannot be written"), "healthz: \(health.body)")
        #expect(health.body.contains("the store file is gone (deleted or moved away while the daemon runs)"), "healthz: \(health.body)")
        // systemd's status line says so too.
        let status = notify.waitFor("STATUS=degraded", within: 5)
        #expect(status.last?.contains("STATUS=degraded: store \(store) cannot be written") == true, "notify: \(status)")

        // Twenty elements polled every second, their incidents and heartbeats waiting to be
        // written: ten seconds of that take a small share of one core.
        let pid = daemon.process.processIdentifier
        let before = Self.cpuSeconds(pid) ?? 0
        try await Task.sleep(for: .seconds(10))
        let used = (Self.cpuSeconds(pid) ?? 0) - before
        #expect(used < 2.5, "the daemon used \(used) s of CPU in 10 s on a store it cannot write")

        daemon.signal(SIGTERM)
        let outcome = daemon.waitForExit(within: 25)
        #expect(!outcome.stillRunning)
        #expect(outcome.status != 0, "a stop with unwritten changes exited 0:\n\(outcome.log)")
        let failures = outcome.log.split(separator: "\n").filter { $0.contains("cannot write") }
        #expect(failures.count <= 10, "store failures logged \(failures.count) times:\n\(failures.joined(separator: "\n"))")
        #expect(outcome.log.contains("the store file is gone"), "log:\n\(outcome.log)")
    }
}
