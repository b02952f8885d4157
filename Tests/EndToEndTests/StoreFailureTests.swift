#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// The real binary on a store that cannot be written: the daemon says so (degraded) instead of
/// losing incident changes quietly, and a stop with changes unwritten fails.
@Suite(.serialized) struct StoreFailureTests {
    static let canMount = getuid() == 0

    /// A store on a 4 MB tmpfs, filled up once the daemon is ready: the unreachable elements'
    /// transitions and incident cannot be written.
    @Test(.enabled(if: canMount, "mounting a tmpfs needs root"))
    func aFullDiskMakesTheDaemonDegradedAndAStopWithUnwrittenChangesFails() async throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        let mountPoint = fixture.folder + "/small"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(try Shell.run("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "forewarn-test", mountPoint]) == 0)
        defer { _ = try? Shell.run("/bin/umount", ["-l", mountPoint]) }
        try fixture.writeRaw("""
            daemon:
              store: unused.sqlite
              heartbeat_interval: 1s
              http_listen: 127.0.0.1:\(fixture.httpPort)
              trap_listen: 127.0.0.1:\(fixture.trapPort)
            snmp_profiles:
              - {id: default, version: 2c, community: public, timeout: 1s}
            snmp:
              confirm_interval: 2s
              confirm_attempts: 2
            correlation:
              hold_down: 1s
            elements:
              - {id: e1, address: 127.77.2.1, snmp_port: 16161, kind: access, poll_interval: 1s}
              - {id: e2, address: 127.77.2.2, snmp_port: 16161, kind: access, poll_interval: 1s}

            """)
        let store = mountPoint + "/forewarn.sqlite"
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = try RunningDaemon(arguments: ["run", "--config", fixture.configPath, "--store", store],
                                       environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)
        // Fill the file system (dd stops at ENOSPC).
        _ = try Shell.run("/bin/dd", ["if=/dev/zero", "of=\(mountPoint)/filler", "bs=64k"])

        var health = (status: 0, body: "")
        for _ in 0..<300 {
            if let answer = try? await HTTPListenerTests().get("/healthz", port: fixture.httpPort) {
                health = answer
                // Heartbeats and transitions fail first; wait for the incident the elements open.
                if answer.status == 503 && answer.body.contains("incident changes") { break }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(health.status == 503, "healthz: \(health)")
        #expect(health.body.hasPrefix("degraded: store \(store) cannot be written"), "healthz: \(health.body)")
        #expect(health.body.contains("incident changes"), "healthz: \(health.body)")

        daemon.signal(SIGTERM)
        let outcome = daemon.waitForExit(within: 25)
        #expect(!outcome.stillRunning)
        #expect(outcome.status != 0, "a stop with unwritten incident changes exited 0:\n\(outcome.log)")
        #expect(outcome.log.contains("cannot write incident changes"), "log:\n\(outcome.log)")
        #expect(outcome.log.contains("stopped with incident changes not written"), "log:\n\(outcome.log)")
    }

    /// The same full disk, freed again: the writers, backing off meanwhile, write what they kept
    /// (transitions, the incidents) and the daemon is healthy again without a restart.
    @Test(.enabled(if: canMount, "mounting a tmpfs needs root"))
    func aFullDiskFreedAgainIsWrittenAndTheDaemonRecovers() async throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        let mountPoint = fixture.folder + "/small"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(try Shell.run("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "forewarn-test", mountPoint]) == 0)
        defer { _ = try? Shell.run("/bin/umount", ["-l", mountPoint]) }
        try fixture.writeRaw("""
            daemon:
              store: unused.sqlite
              heartbeat_interval: 1s
              http_listen: 127.0.0.1:\(fixture.httpPort)
              trap_listen: 127.0.0.1:\(fixture.trapPort)
            snmp_profiles:
              - {id: default, version: 2c, community: public, timeout: 1s}
            snmp:
              confirm_interval: 2s
              confirm_attempts: 2
            correlation:
              hold_down: 1s
            elements:
              - {id: e1, address: 127.77.5.1, snmp_port: 16161, kind: access, poll_interval: 1s}
              - {id: e2, address: 127.77.5.2, snmp_port: 16161, kind: access, poll_interval: 1s}

            """)
        let store = mountPoint + "/forewarn.sqlite"
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = try RunningDaemon(arguments: ["run", "--config", fixture.configPath, "--store", store],
                                       environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)
        _ = try Shell.run("/bin/dd", ["if=/dev/zero", "of=\(mountPoint)/filler", "bs=64k"])

        func health() async -> (status: Int, body: String)? { try? await HTTPListenerTests().get("/healthz", port: fixture.httpPort) }
        var answer = (status: 0, body: "")
        for _ in 0..<300 {
            if let current = await health() {
                answer = current
                if current.status == 503 && current.body.contains("incident changes") { break }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(answer.status == 503 && answer.body.contains("incident changes"), "healthz: \(answer)")

        try FileManager.default.removeItem(atPath: mountPoint + "/filler")
        for _ in 0..<450 {
            if let current = await health() {
                answer = current
                if current.status == 200 { break }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(answer.status == 200 && answer.body == "ok\n", "healthz after space was freed: \(answer)")

        daemon.signal(SIGTERM)
        let outcome = daemon.waitForExit(within: 25)
        #expect(!outcome.stillRunning)
        #expect(outcome.status == 0, "log:\n\(outcome.log)")
        #expect(outcome.log.contains("incident changes written again"), "log:\n\(outcome.log)")
        let report = try ForewarnBinary.run(["status", "--store", store])
        // What waited while the disk was full (the incident changes /healthz named) is in the store.
        #expect(report.output.contains("incidents: ") && !report.output.contains("incidents: 0 open"), "status:\n\(report.output)")
    }
}
