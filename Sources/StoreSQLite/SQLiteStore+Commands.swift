import Foundation
import ForewarnModel
import GRDB
import Persistence

/// Operator commands queued by the CLI for the daemon, and operators' maintenance windows.
extension SQLiteStore {
    public func enqueue(_ command: OperatorCommand, at: Date) async throws(StoreError) -> Int64 {
        let (kind, payload) = CommandCoding.encode(command)
        return try await write("queue \(kind) command") { db in
            if case .maintenanceAdd(let window) = command {
                try db.execute(sql: """
                    INSERT INTO maintenance_window (id, start_at, end_at, elements, lines, reason, source, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'operator', ?)
                    """, arguments: [window.id.rawValue, window.start.unixMilliseconds, window.end.unixMilliseconds,
                                     CommandCoding.json(window.elements.map(\.rawValue)),
                                     CommandCoding.json(window.lines.map(\.rawValue)), window.reason,
                                     at.unixMilliseconds])
            }
            if case .maintenanceEnd(let id, let end) = command {
                try db.execute(sql: "UPDATE maintenance_window SET end_at = MIN(end_at, MAX(start_at, ?)) WHERE id = ?",
                               arguments: [end.unixMilliseconds, id.rawValue])
            }
            try db.execute(sql: "INSERT INTO operator_command (kind, payload, created_at) VALUES (?, ?, ?)",
                           arguments: [kind, payload, at.unixMilliseconds])
            return db.lastInsertedRowID
        }
    }

    public func pendingCommands(limit: Int) async throws(StoreError) -> [QueuedCommand] {
        try await read("read pending commands") { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM operator_command WHERE processed_at IS NULL ORDER BY id LIMIT ?
                """, arguments: [limit]).map { try StoredRows.queuedCommand(RowReader("operator_command", $0)) }
        }
    }

    public func commandResult(_ id: Int64) async throws(StoreError) -> CommandResult? {
        try await read("read command \(id)") { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT processed_at, result FROM operator_command WHERE id = ? AND processed_at IS NOT NULL
                """, arguments: [id]) else { return nil }
            let reader = RowReader("operator_command", row, key: "row \(id)")
            return CommandResult(processedAt: try reader.date("processed_at"),
                                 result: try reader.optional("result") ?? "")
        }
    }

    public func maintenanceWindows() async throws(StoreError) -> [MaintenanceWindow] {
        try await read("read maintenance windows") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM maintenance_window WHERE source = 'operator' ORDER BY start_at, id")
                .map { try StoredRows.maintenanceWindow(RowReader("maintenance_window", $0)) }
        }
    }
}
