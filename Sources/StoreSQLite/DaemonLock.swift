#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One daemon per store: an exclusive `flock` on `STORE.lock`, beside the SQLite file, held for
/// as long as the store is open. The kernel releases it when the process goes, however it goes
/// (kill -9 included), so a lock file left behind never blocks a start. The holder writes who it
/// is into the file, so that a daemon refused can name it.
final class DaemonLock: Sendable {
    /// Who holds a lock, as its holder wrote it.
    struct Holder {
        var pid: Int32
        var hostname: String
    }

    enum Failure: Error {
        /// Another process holds the lock; who it is, when it could be read.
        case held(by: Holder?)
        case unusable(path: String, reason: String)
    }

    let path: String
    private let descriptor: Int32

    init(beside storePath: String) throws(Failure) {
        path = storePath + ".lock"
        // O_CLOEXEC: a hook command started by the daemon must not inherit (and outlive with) the lock.
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .unusable(path: path, reason: String(cString: strerror(errno)))
        }
        // Root (an operator's command run with sudo while the daemon is stopped) leaves the lock
        // file to the store's owner, as SQLite does with the files beside the store: the daemon's
        // user must be able to open it at its next start.
        var store = stat()
        if geteuid() == 0, stat(storePath, &store) == 0 { _ = fchown(descriptor, store.st_uid, store.st_gid) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            defer { close(descriptor) }
            if code == EWOULDBLOCK { throw .held(by: Self.readHolder(descriptor)) }
            throw .unusable(path: path, reason: String(cString: strerror(code)))
        }
        self.descriptor = descriptor
        let text = "pid=\(getpid())\nhost=\(ProcessInfo.processInfo.hostName)\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    deinit { close(descriptor) }

    private static func readHolder(_ descriptor: Int32) -> Holder? {
        var buffer = [UInt8](repeating: 0, count: 1_024)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        var fields: [String: String] = [:]
        for line in String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let pid = fields["pid"].flatMap({ Int32($0) }), let hostname = fields["host"] else { return nil }
        return Holder(pid: pid, hostname: hostname)
    }
}
