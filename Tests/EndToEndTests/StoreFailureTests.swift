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
        let mountPoint = try Self.smallTmpfs(in: fixture)
        defer { _ = try? Shell.run("/bin/umount", ["-l", mountPoint]) }
        let (store, daemon) = try Self.startDaemon(fixture, storeIn: mountPoint, elementsAt: "127.77.2")
        // Fill the file system (dd stops at ENOSPC).
        _ = try Shell.run("/bin/dd", ["if=/dev/zero", "of=\(mountPoint)/filler", "bs=64k"])

        // Heartbeats and transitions fail first; wait for the incident the elements open.
        let health = try await Self.health(port: fixture.httpPort, tries: 300) {
            $0.status == 503 && $0.body.contains("incident changes")
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
        let mountPoint = try Self.smallTmpfs(in: fixture)
        defer { _ = try? Shell.run("/bin/umount", ["-l", mountPoint]) }
        let (store, daemon) = try Self.startDaemon(fixture, storeIn: mountPoint, elementsAt: "127.77.5")
        _ = try Shell.run("/bin/dd", ["if=/dev/zero", "of=\(mountPoint)/filler", "bs=64k"])

        var answer = try await Self.health(port: fixture.httpPort, tries: 300) {
            $0.status == 503 && $0.body.contains("incident changes")
        }
        #expect(answer.status == 503 && answer.body.contains("incident changes"), "healthz: \(answer)")

        try FileManager.default.removeItem(atPath: mountPoint + "/filler")
        answer = try await Self.health(port: fixture.httpPort, tries: 450) { $0.status == 200 }
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

    /// A 4 MB tmpfs in the fixture's folder; the caller unmounts it.
    static func smallTmpfs(in fixture: DaemonFixture) throws -> String {
        let mountPoint = fixture.folder + "/small"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(try Shell.run("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "forewarn-test", mountPoint]) == 0)
        return mountPoint
    }

    /// The daemon with its store in `folder`, two unreachable elements at `prefix`.1 and .2, ready.
    static func startDaemon(_ fixture: DaemonFixture, storeIn folder: String,
                            elementsAt prefix: String) throws -> (store: String, daemon: RunningDaemon) {
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
              - {id: e1, address: \(prefix).1, snmp_port: 16161, kind: access, poll_interval: 1s}
              - {id: e2, address: \(prefix).2, snmp_port: 16161, kind: access, poll_interval: 1s}

            """)
        let store = folder + "/forewarn.sqlite"
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = try RunningDaemon(arguments: ["run", "--config", fixture.configPath, "--store", store],
                                       environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)
        return (store, daemon)
    }

    /// `/healthz` asked every 100 ms until `done` holds or `tries` run out; the last answer.
    static func health(port: UInt16, tries: Int,
                       until done: ((status: Int, body: String)) -> Bool) async throws -> (status: Int, body: String) {
        var answer = (status: 0, body: "")
        for _ in 0..<tries {
            if let current = try? await HTTPListenerTests().get("/healthz", port: port) {
                answer = current
                if done(current) { break }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return answer
    }
}
