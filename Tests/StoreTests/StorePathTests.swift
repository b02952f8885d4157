import ForewarnModel
import Foundation
import Persistence
import Stores
import Testing

/// What stands at a store's path, before the store is opened.
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
}
