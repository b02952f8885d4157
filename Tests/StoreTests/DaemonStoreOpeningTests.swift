import ForewarnModel
import Foundation
import GRDB
import Persistence
import Stores
import Testing

/// How the daemon opens its store: exclusively (one daemon per store) and only when intact.
@Suite struct DaemonStoreOpeningTests {
    /// A store with enough transitions to span many pages, checkpointed into the main file.
    func populatedStore() async throws -> TemporaryStore {
        let temporary = try TemporaryStore()
        let store = try StoreFactory.open(temporary.path, access: .create)
        let start = Date(unixMilliseconds: 1_800_000_000_000)
        let transitions = (0..<4_000).map { index in
            StateTransition(subject: .line(LineID("L\(index)")), from: .up, to: .down,
                            at: start.addingTimeInterval(Double(index)),
                            evidence: "3 of 3 probes lost to 192.0.2.\(index % 250) over the access link")
        }
        try await store.appendTransitions(transitions)
        let queue = try DatabaseQueue(path: temporary.path)
        try await queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        return temporary
    }

    @Test func aStoreDamagedInTheMiddleIsRefusedToTheDaemon() async throws {
        let temporary = try await populatedStore()
        defer { temporary.remove() }
        // Overwrite one page in the middle of the file: page 1 (the schema) stays intact, so the
        // store opens and only a check of every page finds the damage.
        let handle = try #require(FileHandle(forUpdatingAtPath: temporary.path))
        let size = try handle.seekToEnd()
        #expect(size > 40 * 4096, "the store is \(size) bytes")
        try handle.seek(toOffset: (size / 2 / 4096) * 4096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 4096))
        try handle.close()

        let error = #expect(throws: StoreError.self) { try StoreFactory.open(temporary.path, access: .daemon) }
        #expect(error?.description.hasPrefix("store \(temporary.path): open failed: the file is damaged (SQLite quick_check: ") == true,
                "\(error?.description ?? "no error")")
    }

    @Test func anIntactStoreOpensForTheDaemon() async throws {
        let temporary = try await populatedStore()
        defer { temporary.remove() }
        let store = try StoreFactory.open(temporary.path, access: .daemon)
        #expect(try await store.transitions(of: nil, since: .distantPast).count == 4_000)
    }

    @Test func aSecondDaemonOpeningIsRefusedWhileTheFirstHoldsTheStore() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        var first: (any Store)? = try StoreFactory.open(temporary.path, access: .daemon)
        let beat = Heartbeat(instance: "noc-a", pid: getpid(), hostname: ProcessInfo.processInfo.hostName,
                             version: "0.1.0", configPath: "/etc/forewarn/forewarn.yaml", startedAt: Date(),
                             beatAt: Date(), state: .running, elements: 1, lines: 0, customers: 0, contracts: 0)
        try await first?.writeHeartbeat(beat)

        let error = #expect(throws: StoreError.self) { try StoreFactory.open(temporary.path, access: .daemon) }
        let reason = error?.reason ?? ""
        #expect(reason.hasPrefix("in use by another daemon: pid \(getpid()) on host \(ProcessInfo.processInfo.hostName)"),
                "\(reason)")
        #expect(reason.contains("instance noc-a, running, last heartbeat"), "\(reason)")
        // Readers and the CLI's writers are not daemons: they open beside it.
        _ = try StoreFactory.open(temporary.path, access: .readOnly)
        _ = try StoreFactory.open(temporary.path, access: .create)

        first = nil
        _ = try StoreFactory.open(temporary.path, access: .daemon)
    }
}
