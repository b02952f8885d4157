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

/// Times given on the command line are bounded: no year 1 or 9999.
@Suite struct CommandLineTimeBoundsTests {
    @Test func callsListingsAndMaintenanceRefuseTimesOutOfBounds() throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        try fixture.writeRaw("""
            daemon:
              store: unused.sqlite
            elements:
              - {id: acc1, address: 192.0.2.1, kind: access}
            customers:
              - {id: C1}
            lines:
              - {id: L1, customer: C1, element: acc1, probe: none}

            """)
        let common = ["--config", fixture.configPath, "--store", fixture.storePath]
        let cases: [([String], String)] = [
            (["report-call", "--line", "L1", "--at", "0001-01-01T00:00:00Z"], "--at 0001-01-01T00:00:00Z is before 2000-01-01T00:00:00.000Z"),
            (["report-call", "--line", "L1", "--at", "9999-12-31T00:00:00Z"], "--at 9999-12-31T00:00:00Z is more than"),
            (["report-call", "--line", "L1", "--at", "2026-02-30T00:00:00Z"], "--at must be an RFC 3339 time"),
            (["incidents", "--since", "0000-01-01T00:00:00Z"], "--since 0000-01-01T00:00:00Z is before 2000-01-01"),
            (["maintenance", "add", "--id", "w1", "--element", "acc1", "--start", "1970-01-01T00:00:00Z",
              "--end", "2000-06-01T00:00:00Z"], "--start 1970-01-01T00:00:00Z is before 2000-01-01"),
            (["maintenance", "add", "--id", "w1", "--element", "acc1", "--start", "2027-01-01T00:00:00Z",
              "--end", "9999-01-01T00:00:00Z"], "--end 9999-01-01T00:00:00Z is more than 3653 days in the future"),
        ]
        for (arguments, message) in cases {
            let result = try ForewarnBinary.run(arguments + common)
            #expect(result.status != 0, "\(arguments) was accepted: \(result.output)")
            #expect(result.errors.contains(message), "\(arguments): \(result.errors)")
        }
    }
}

/// Every command but `run` and `maintenance add` refuses a store that does not exist: a
/// mistyped `--store` must not queue a call where no daemon looks. `maintenance add` plans work
/// before the daemon's first start: it creates the store, and says so.
@Suite struct MissingStoreTests {
    @Test func aMistypedStoreIsRefusedAndNotCreated() throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        try fixture.writeRaw("""
            daemon:
              store: \(fixture.storePath)
            elements:
              - {id: acc1, address: 192.0.2.1, kind: access}
            customers:
              - {id: C1}
            lines:
              - {id: L1, customer: C1, element: acc1, probe: none}

            """)
        let typo = fixture.folder + "/forewarn.sqlit"
        for arguments in [["report-call", "--line", "L1"], ["incident", "ack", "1"], ["outbox", "retry", "1"],
                          ["maintenance", "end", "--id", "w1"]] {
            let result = try ForewarnBinary.run(arguments + ["--config", fixture.configPath, "--store", typo])
            #expect(result.status == 1, "\(arguments): \(result.output) \(result.errors)")
            #expect(result.errors.contains("store \(typo): open failed: no such file"), "\(arguments): \(result.errors)")
            #expect(!FileManager.default.fileExists(atPath: typo), "\(arguments) created \(typo)")
        }
        // Planning before the first start creates the store, and says so.
        let planned = try ForewarnBinary.run(["maintenance", "add", "--id", "w1", "--element", "acc1", "--start",
                                              "2027-01-01T00:00:00Z", "--end", "2027-01-01T02:00:00Z",
                                              "--config", fixture.configPath])
        #expect(planned.status == 0, "\(planned.errors)")
        #expect(planned.errors.contains("store \(fixture.storePath) did not exist and was created"), "\(planned.errors)")
        #expect(FileManager.default.fileExists(atPath: fixture.storePath))
    }
}
