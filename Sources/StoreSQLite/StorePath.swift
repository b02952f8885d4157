#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ForewarnModel

/// What stands where a store should be, checked before SQLite or Foundation see the path: they
/// describe a device as "permission denied" or "unable to open", and a file in place of a folder
/// as an NSCocoaErrorDomain dump.
enum StorePath {
    /// Nil when `path` is a regular file, or does not exist yet below a folder (or below a
    /// missing folder that can be created).
    static func problem(_ path: String) -> String? {
        var info = stat()
        if stat(path, &info) == 0 {
            let kind = info.st_mode & S_IFMT
            if kind == S_IFREG { return nil }
            if kind == S_IFDIR {
                return "is a folder, not a store file (name the SQLite file, such as \(folderJoined(path))forewarn.sqlite)"
            }
            return "is \(FileKind.describe(kind)), not a store file"
        }
        guard errno == ENOENT || errno == ENOTDIR else { return nil }
        // The file is missing: the nearest existing ancestor must be a folder.
        var folder = (path as NSString).deletingLastPathComponent
        while !folder.isEmpty {
            if stat(folder, &info) == 0 {
                let kind = info.st_mode & S_IFMT
                return kind == S_IFDIR ? nil : "\(folder) is \(FileKind.describe(kind)), not a folder, so the store cannot be there"
            }
            guard errno == ENOENT || errno == ENOTDIR, folder != "/" else { return nil }
            folder = (folder as NSString).deletingLastPathComponent
        }
        return nil
    }

    /// Which file a path names: its device and inode.
    struct Identity: Sendable, Equatable {
        var device: UInt64
        var inode: UInt64
    }

    static func identity(_ path: String) -> Identity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Nil while `path` still names the file opened as `opened`.
    static func problem(replacing opened: Identity, at path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            guard errno == ENOENT || errno == ENOTDIR else { return nil }
            return "the store file is gone (deleted or moved away while the daemon runs), so nothing written now could be read: "
                + "move it back if it was moved, else restart the daemon (it rebuilds open incidents from what it observes)"
        }
        guard Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) == opened else {
            return "another file has taken the store's place while the daemon runs; restart the daemon to use it"
        }
        return nil
    }

    private static func folderJoined(_ path: String) -> String { path.hasSuffix("/") ? path : path + "/" }
}
