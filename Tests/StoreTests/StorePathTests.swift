import ForewarnModel
import Foundation
import Persistence
import Stores
import Testing

/// What stands at a store's path, before the store is opened and while it is in use.
@Suite struct StorePathTests {
    @Test func aDeviceAFolderOrAFileOnThePathIsNamedForWhatItIs() throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        func reason(_ path: String, _ access: StoreAccess) -> String? {
            let error = #expect(throws: StoreError.self) { try StoreFactory.open(path, access: access) }
            return error?.description
        }
        // SQLite said "disk I/O error" (or "no such table") and left /dev/zero-journal behind.
        #expect(reason("/dev/zero", .readOnly) == "store /dev/zero: open failed: is a character device, not a store file")
        #expect(reason(temporary.folder, .create)
                == "store \(temporary.folder): open failed: is a folder, not a store file (name the SQLite file, such as \(temporary.folder)/forewarn.sqlite)")
        // Foundation's createDirectory said "Error Domain=NSCocoaErrorDomain Code=516 …".
        let file = temporary.folder + "/plain"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(reason(file + "/deeper/forewarn.sqlite", .daemon)
                == "store \(file)/deeper/forewarn.sqlite: open failed: \(file) is a file, not a folder, so the store cannot be there")
        #expect(!FileManager.default.fileExists(atPath: file + ".lock"))
    }

    static func transition(_ seconds: Double) -> StateTransition {
        StateTransition(subject: .line("L1"), from: .up, to: .down, at: Date(timeIntervalSince1970: 1_800_000_000 + seconds),
                        evidence: "3 of 3 probes lost")
    }

    /// SQLite goes on writing into a store file deleted or moved away under it, where nothing
    /// will read it: writes fail instead, and succeed again once the same file is back.
    @Test func writesFailWhileTheFileIsGoneAndResumeWhenItIsBack() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let store = try StoreFactory.open(temporary.path, access: .daemon)
        try await store.appendTransitions([Self.transition(0)])

        let aside = temporary.folder + "/moved-away.sqlite"
        try FileManager.default.moveItem(atPath: temporary.path, toPath: aside)
        let error = await #expect(throws: StoreError.self) { try await store.appendTransitions([Self.transition(1)]) }
        #expect(error?.description == "store \(temporary.path): append 1 state transitions failed: the store file is gone "
                + "(deleted or moved away while the daemon runs), so nothing written now could be read: move it back if it was moved, "
                + "else restart the daemon (it rebuilds open incidents from what it observes)")

        // Another file in its place is not the store this daemon has open.
        try Data().write(to: URL(fileURLWithPath: temporary.path))
        let replaced = await #expect(throws: StoreError.self) { try await store.appendTransitions([Self.transition(1)]) }
        #expect(replaced?.reason == "another file has taken the store's place while the daemon runs; restart the daemon to use it")

        try FileManager.default.removeItem(atPath: temporary.path)
        try FileManager.default.moveItem(atPath: aside, toPath: temporary.path)
        try await store.appendTransitions([Self.transition(2)])
        #expect(try await store.transitions(of: nil, since: .distantPast).map(\.at) == [0, 2].map { Self.transition($0).at })
    }
}
