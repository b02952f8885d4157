import Foundation
import ForewarnModel
import GRDB
import Persistence

/// The ticket outbox and the tickets delivery learned of.
extension SQLiteStore {
    public func claimOutbox(limit: Int, now: Date, lease: Duration) async throws(StoreError) -> [OutboxItem] {
        let nowMs = now.unixMilliseconds
        let until = now.addingTimeInterval(lease.inSeconds).unixMilliseconds
        return try await write("claim outbox entries") { db in
            // The head of each incident and hook's queue: its oldest undelivered entry. A dead
            // head holds the entries behind it (an update needs its open's ticket).
            let rows = try Row.fetchAll(db, sql: """
                SELECT o.* FROM ticket_outbox o
                JOIN (SELECT incident_id, hook, MIN(id) AS head FROM ticket_outbox
                      WHERE delivered_at IS NULL GROUP BY incident_id, hook) h ON h.head = o.id
                WHERE o.failed_at IS NULL AND o.next_attempt_at <= ?
                  AND (o.claimed_until IS NULL OR o.claimed_until <= ?)
                ORDER BY o.next_attempt_at, o.id LIMIT ?
                """, arguments: [nowMs, nowMs, limit])
            let claim = try db.cachedStatement(sql: "UPDATE ticket_outbox SET claimed_until = ? WHERE id = ?")
            return try rows.map { row in
                try claim.execute(arguments: [until, row["id"] as Int64])
                return try Self.outboxItem(row)
            }
        }
    }

    public func markDelivered(_ id: Int64, at: Date, ticket: TicketUpdate?) async throws(StoreError) {
        try await write("mark outbox entry \(id) delivered") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT incident_id, hook FROM ticket_outbox WHERE id = ?",
                                             arguments: [id]) else {
                throw StoredValueError(table: "ticket_outbox", key: "row \(id)", problem: "no such entry")
            }
            try db.execute(sql: """
                UPDATE ticket_outbox SET delivered_at = ?, attempts = attempts + 1, claimed_until = NULL WHERE id = ?
                """, arguments: [at.unixMilliseconds, id])
            guard let ticket else { return }
            if let ticketID = ticket.ticketID {
                try db.execute(sql: """
                    INSERT INTO ticket (incident_id, hook, ticket_id, state, opened_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (incident_id, hook) DO UPDATE SET
                        ticket_id = excluded.ticket_id, state = COALESCE(excluded.state, ticket.state),
                        updated_at = excluded.updated_at
                    """, arguments: [row["incident_id"] as Int64, row["hook"] as String, ticketID, ticket.state,
                                     at.unixMilliseconds, at.unixMilliseconds])
            } else if let state = ticket.state {
                try db.execute(sql: "UPDATE ticket SET state = ?, updated_at = ? WHERE incident_id = ? AND hook = ?",
                               arguments: [state, at.unixMilliseconds, row["incident_id"] as Int64, row["hook"] as String])
            }
        }
    }

    public func markFailed(_ id: Int64, at: Date, error: String, retryAt: Date?) async throws(StoreError) {
        try await write("mark outbox entry \(id) failed") { db in
            try db.execute(sql: """
                UPDATE ticket_outbox SET attempts = attempts + 1, last_error = ?, claimed_until = NULL,
                    next_attempt_at = COALESCE(?, next_attempt_at), failed_at = CASE WHEN ? IS NULL THEN ? END
                WHERE id = ?
                """, arguments: [error, retryAt?.unixMilliseconds, retryAt?.unixMilliseconds, at.unixMilliseconds, id])
        }
    }

    public func outbox(_ state: OutboxItem.State, limit: Int) async throws(StoreError) -> [OutboxItem] {
        let condition: String
        switch state {
        case .pending: condition = "delivered_at IS NULL AND failed_at IS NULL"
        case .delivered: condition = "delivered_at IS NOT NULL"
        case .dead: condition = "delivered_at IS NULL AND failed_at IS NOT NULL"
        }
        return try await read("read \(state.rawValue) outbox entries") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ticket_outbox WHERE \(condition) ORDER BY id LIMIT ?",
                             arguments: [limit]).map(Self.outboxItem)
        }
    }

    public func tickets(of incident: IncidentID) async throws(StoreError) -> [Ticket] {
        try await read("read tickets of incident \(incident)") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ticket WHERE incident_id = ? ORDER BY opened_at, hook",
                             arguments: [incident.rawValue]).map(IncidentRows.ticket)
        }
    }

    static func outboxItem(_ row: Row) throws -> OutboxItem {
        let reader = RowReader("ticket_outbox", row)
        let deliveredAt = try reader.optionalDate("delivered_at")
        let failedAt = try reader.optionalDate("failed_at")
        let entry = OutboxEntry(incident: IncidentID(try reader.value("incident_id")),
                                hook: HookID(try reader.value("hook") as String),
                                event: try reader.choice("event", Hook.Event.self), payload: try reader.value("payload"))
        return OutboxItem(id: try reader.value("id"), entry: entry,
                          state: deliveredAt != nil ? .delivered : (failedAt != nil ? .dead : .pending),
                          createdAt: try reader.date("created_at"), attempts: try reader.value("attempts"),
                          nextAttemptAt: try reader.date("next_attempt_at"), deliveredAt: deliveredAt,
                          failedAt: failedAt, lastError: try reader.optional("last_error"))
    }
}
