import Foundation
import ForewarnModel
import GRDB
import Persistence

/// A store file SQLite can open but whose pages are damaged.
struct StoreDamage: Error, CustomStringConvertible {
    var findings: [String]

    static func isDamage(_ error: DatabaseError) -> Bool {
        error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB
    }

    var description: String {
        let shown = findings.prefix(3).joined(separator: "; ")
        return "the file is damaged (SQLite quick_check: \(shown)\(findings.count > 3 ? "; …" : "")); "
            + "restore it from a backup, or move it aside to start with an empty store"
    }
}

extension SQLiteStore {
    /// The daemon's exclusive hold on the store, or an error naming the daemon that has it.
    static func lockForDaemon(_ path: String) throws(StoreError) -> DaemonLock {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw StoreError(location: path, operation: "open", reason: describe(error))
            }
        }
        do {
            return try DaemonLock(beside: path)
        } catch {
            switch error {
            case .unusable(let lockPath, let reason):
                throw StoreError(location: path, operation: "open", reason: "cannot lock \(lockPath): \(reason)")
            case .held(let holder):
                throw StoreError(location: path, operation: "open",
                                 reason: inUse(by: holder, heartbeats: otherHeartbeats(path)))
            }
        }
    }

    /// Why a second daemon may not start: who has the store and its last sign of life.
    static func inUse(by holder: DaemonLock.Holder?, heartbeats: [Heartbeat], now: Date = Date()) -> String {
        var text = "in use by another daemon"
        if let holder {
            text += ": pid \(holder.pid) on host \(holder.hostname)"
            if let beat = heartbeats.first(where: { $0.pid == holder.pid && $0.hostname == holder.hostname }) {
                let age = (max(0, now.timeIntervalSince(beat.beatAt)) * 10).rounded() / 10
                text += " (instance \(beat.instance), \(beat.state.rawValue), last heartbeat \(age) s ago)"
            } else {
                text += " (no heartbeat from it yet)"
            }
        } else {
            text += " (starting: it has not written who it is yet)"
        }
        return text + "; two daemons on one store would mix their incidents: stop that one, "
            + "or give this one its own store (daemon.store, --store)"
    }

    /// The heartbeats in the store, read without writing anything; none when unreadable.
    private static func otherHeartbeats(_ path: String) -> [Heartbeat] {
        guard FileManager.default.fileExists(atPath: path),
              let reader = try? SQLiteStore(path: path, access: .readOnly) else { return [] }
        return (try? reader.pool.read(heartbeatRows)) ?? []
    }

    /// Every page's structure checked (`PRAGMA quick_check`: linear in the file's size, without
    /// the index-content cross-checks of `integrity_check`).
    static func checkIntegrity(_ pool: DatabasePool) throws {
        let findings: [String]
        do {
            findings = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
        } catch let error as DatabaseError where StoreDamage.isDamage(error) {
            // A page too damaged to walk stops the check itself.
            throw StoreDamage(findings: [error.message ?? error.description])
        }
        if findings != ["ok"] { throw StoreDamage(findings: findings) }
    }
}
