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
            // head holds the entries behind it (an update needs its open's ticket). Due entries
            // are walked in `ticket_outbox_pending` order and the walk stops at `limit`: a claim
            // costs the entries it takes (and those claimed by others), not the whole backlog.
            let rows = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT o.* FROM ticket_outbox o INDEXED BY ticket_outbox_pending
                WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= ?
                  AND (o.claimed_until IS NULL OR o.claimed_until <= ?)
                  AND NOT EXISTS (SELECT 1 FROM ticket_outbox p
                                  WHERE p.incident_id = o.incident_id AND p.hook = o.hook
                                    AND p.delivered_at IS NULL AND p.id < o.id)
                ORDER BY o.next_attempt_at, o.id LIMIT ?
                """), arguments: [nowMs, nowMs, limit])
            let claim = try db.cachedStatement(sql: "UPDATE ticket_outbox SET claimed_until = ? WHERE id = ?")
            return try rows.map { row in
                try claim.execute(arguments: [until, row["id"] as Int64])
                return try Self.outboxItem(row)
            }
        }
    }

    public func recordOutbox(_ writes: [OutboxWrite]) async throws(StoreError) {
        guard !writes.isEmpty else { return }
        try await write("record \(writes.count) outbox deliveries") { db in
            for write in writes {
                switch write {
                case .attempt(let id, let at):
                    try db.cachedStatement(sql: "UPDATE ticket_outbox SET uncertain = 1, attempt_started_at = ? WHERE id = ?")
                        .execute(arguments: [at.unixMilliseconds, id])
                case .done(let ids, let at, let outcome, let note, let ticket, let timeline):
                    try Self.markDone(ids, at: at, outcome: outcome, note: note, ticket: ticket, timeline: timeline, db)
                case .failed(let id, let at, let error, let retryAt, let uncertain, let timeline):
                    try Self.markFailed(id, at: at, error: error, retryAt: retryAt, uncertain: uncertain,
                                        timeline: timeline, db)
                }
            }
        }
    }

    static func markDone(_ ids: [Int64], at: Date, outcome: OutboxItem.Outcome, note: String?, ticket: TicketUpdate?,
                         timeline: TimelineEntry?, _ db: Database) throws {
        guard let first = ids.first else { return }
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT incident_id, hook FROM ticket_outbox WHERE id = ?"),
                                         arguments: [first]) else {
            throw StoredValueError(table: "ticket_outbox", key: "row \(first)", problem: "no such entry")
        }
        let done = try db.cachedStatement(sql: """
            UPDATE ticket_outbox SET delivered_at = ?, outcome = ?, last_error = COALESCE(?, last_error),
                attempts = attempts + ?, claimed_until = NULL, uncertain = 0
            WHERE id = ? AND delivered_at IS NULL
            """)
        for id in ids {
            try done.execute(arguments: [at.unixMilliseconds, outcome.rawValue, note,
                                         outcome == .sent && id == ids.last ? 1 : 0, id])
        }
        let incident: Int64 = row["incident_id"]
        if let timeline { try insertTimeline(IncidentID(incident), timeline, db) }
        guard let ticket else { return }
        let hook: String = row["hook"]
        if let ticketID = ticket.ticketID {
            try db.cachedStatement(sql: """
                INSERT INTO ticket (incident_id, hook, ticket_id, state, opened_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (incident_id, hook) DO UPDATE SET
                    ticket_id = excluded.ticket_id, state = COALESCE(excluded.state, ticket.state),
                    updated_at = excluded.updated_at
                """).execute(arguments: [incident, hook, ticketID, ticket.state, at.unixMilliseconds, at.unixMilliseconds])
        } else if let state = ticket.state {
            try db.cachedStatement(sql: "UPDATE ticket SET state = ?, updated_at = ? WHERE incident_id = ? AND hook = ?")
                .execute(arguments: [state, at.unixMilliseconds, incident, hook])
        }
    }

    static func markFailed(_ id: Int64, at: Date, error: String, retryAt: Date?, uncertain: Bool,
                           timeline: TimelineEntry?, _ db: Database) throws {
        if let timeline {
            guard let incident = try Int64.fetchOne(db.cachedStatement(sql: "SELECT incident_id FROM ticket_outbox WHERE id = ?"),
                                                    arguments: [id]) else {
                throw StoredValueError(table: "ticket_outbox", key: "row \(id)", problem: "no such entry")
            }
            try insertTimeline(IncidentID(incident), timeline, db)
        }
        try db.cachedStatement(sql: """
            UPDATE ticket_outbox SET attempts = attempts + 1, last_error = ?, claimed_until = NULL, uncertain = ?,
                next_attempt_at = COALESCE(?, next_attempt_at), failed_at = CASE WHEN ? IS NULL THEN ? END
            WHERE id = ?
            """).execute(arguments: [error, uncertain, retryAt?.unixMilliseconds, retryAt?.unixMilliseconds,
                                     at.unixMilliseconds, id])
    }

    public func outboxQueue(incident: IncidentID, hook: HookID) async throws(StoreError) -> OutboxQueue {
        try await read("read the outbox of an incident") { db in
            let entries = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT * FROM ticket_outbox WHERE incident_id = ? AND hook = ? AND delivered_at IS NULL ORDER BY id
                """), arguments: [incident.rawValue, hook.rawValue]).map(Self.outboxItem)
            let ticket = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM ticket WHERE incident_id = ? AND hook = ?"),
                                          arguments: [incident.rawValue, hook.rawValue]).map(IncidentRows.ticket)
            return OutboxQueue(entries: entries, ticket: ticket)
        }
    }

    public func outbox(_ state: OutboxItem.State, limit: Int) async throws(StoreError) -> [OutboxItem] {
        let condition = StoredRows.outboxCondition(state)
        return try await read("read \(state.rawValue) outbox entries") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ticket_outbox WHERE \(condition) ORDER BY id LIMIT ?",
                             arguments: [limit]).map(Self.outboxItem)
        }
    }

    public func scheduleOutbox(_ ids: [Int64], at: Date) async throws(StoreError) -> Int {
        try await write("schedule outbox entries") { db in
            var changed = 0
            for id in ids {
                try db.execute(sql: """
                    UPDATE ticket_outbox SET failed_at = NULL, next_attempt_at = ?, claimed_until = NULL
                    WHERE id = ? AND delivered_at IS NULL
                    """, arguments: [at.unixMilliseconds, id])
                changed += db.changesCount
            }
            return changed
        }
    }

    public func releaseOutboxClaims() async throws(StoreError) {
        try await write("release outbox claims") { db in
            try db.execute(sql: "UPDATE ticket_outbox SET claimed_until = NULL WHERE claimed_until IS NOT NULL")
        }
    }

    public func dropOutbox(_ ids: [Int64], at: Date, reason: String) async throws(StoreError) -> Int {
        try await write("drop outbox entries") { db in
            var changed = 0
            for id in ids {
                try db.execute(sql: """
                    UPDATE ticket_outbox SET delivered_at = ?, outcome = 'dropped', last_error = ?, claimed_until = NULL
                    WHERE id = ? AND delivered_at IS NULL
                    """, arguments: [at.unixMilliseconds, "dropped: \(reason)", id])
                changed += db.changesCount
            }
            return changed
        }
    }

    public func outboxBacklog() async throws(StoreError) -> [OutboxBacklog] {
        try await read("read the outbox backlog") { db in
            try Row.fetchAll(db, sql: """
                SELECT hook,
                       SUM(CASE WHEN failed_at IS NULL THEN 1 ELSE 0 END) AS pending,
                       MIN(CASE WHEN failed_at IS NULL THEN created_at END) AS oldest,
                       SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END) AS dead
                FROM ticket_outbox WHERE delivered_at IS NULL GROUP BY hook ORDER BY hook
                """).map { row in
                OutboxBacklog(hook: HookID(row["hook"] as String), pending: row["pending"],
                              oldestPending: (row["oldest"] as Int64?).map { Date(unixMilliseconds: $0) }, dead: row["dead"])
            }
        }
    }

    public func tickets(of incident: IncidentID) async throws(StoreError) -> [Ticket] {
        try await read("read tickets of incident \(incident)") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM ticket WHERE incident_id = ? ORDER BY opened_at, hook"),
                             arguments: [incident.rawValue]).map(IncidentRows.ticket)
        }
    }

    static func outboxItem(_ row: Row) throws -> OutboxItem { try StoredRows.outboxItem(RowReader("ticket_outbox", row)) }
}
