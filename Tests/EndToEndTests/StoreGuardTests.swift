#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// The real binary and its store: one daemon per store.
@Suite(.serialized) struct StoreGuardTests {
    @Test func aSecondDaemonOnTheSameStoreRefusesToStartNamingTheFirst() throws {
        let first = try DaemonFixture()
        defer { first.remove() }
        let notify = try NotifySocket(folder: first.folder)
        let running = try RunningDaemon(first, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)

        // Another configuration (its own ports), the same store.
        let second = try DaemonFixture()
        defer { second.remove() }
        let refused = try RunningDaemon(arguments: ["run", "--config", second.configPath, "--store", first.storePath])
        let outcome = refused.waitForExit(within: 20)
        #expect(!outcome.stillRunning, "a second daemon runs on the store:\n\(outcome.log)")
        #expect(outcome.status == 1, "log:\n\(outcome.log)")
        let pid = running.process.processIdentifier
        #expect(outcome.log.contains("store \(first.storePath): open failed: in use by another daemon: pid \(pid) on host "
                                     + ProcessInfo.processInfo.hostName), "log:\n\(outcome.log)")
        #expect(outcome.log.contains("last heartbeat"), "log:\n\(outcome.log)")
        #expect(running.process.isRunning)

        // kill -9 leaves the lock file; the kernel released the lock, so the next start works.
        running.signal(SIGKILL)
        _ = running.waitForExit()
        let notifyAgain = try NotifySocket(folder: second.folder)
        let restarted = try RunningDaemon(arguments: ["run", "--config", second.configPath, "--store", first.storePath],
                                          environment: ["NOTIFY_SOCKET": notifyAgain.path])
        #expect(notifyAgain.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)
        restarted.signal(SIGTERM)
        #expect(restarted.waitForExit(within: 20).status == 0)
    }
}
