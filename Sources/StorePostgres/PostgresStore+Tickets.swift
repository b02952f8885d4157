import Foundation
import ForewarnModel
import Persistence
import PostgresNIO

/// The ticket outbox and the tickets delivery learned of.
extension PostgresStore {
    public func claimOutbox(limit: Int, now: Date, lease: Duration) async throws(StoreError) -> [OutboxItem] {
        let nowMs = now.unixMilliseconds
        let until = now.addingTimeInterval(lease.inSeconds).unixMilliseconds
        return try await write("claim outbox entries") { connection in
            // The head of each incident and hook's queue: its oldest undelivered entry (a dead head
            // holds the entries behind it). SKIP LOCKED: two deliverers never wait on, nor take,
            // one entry.
            try await self.rows(connection, """
                UPDATE ticket_outbox SET claimed_until = \(until) WHERE id IN (
                    SELECT o.id FROM ticket_outbox o
                    WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= \(nowMs)
                      AND (o.claimed_until IS NULL OR o.claimed_until <= \(nowMs))
                      AND NOT EXISTS (SELECT 1 FROM ticket_outbox p
                                      WHERE p.incident_id = o.incident_id AND p.hook = o.hook
                                        AND p.delivered_at IS NULL AND p.id < o.id)
                    ORDER BY o.next_attempt_at, o.id LIMIT \(Int64(limit))
                    FOR UPDATE SKIP LOCKED)
                RETURNING *
                """, table: "ticket_outbox").map(StoredRows.outboxItem)
                .sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    public func recordOutbox(_ writes: [OutboxWrite]) async throws(StoreError) {
        guard !writes.isEmpty else { return }
        try await write("record \(writes.count) outbox deliveries") { connection in
            for write in writes {
                switch write {
                case .attempt(let id, let at):
                    try await connection.query("""
                        UPDATE ticket_outbox SET uncertain = true, attempt_started_at = \(at.unixMilliseconds) WHERE id = \(id)
                        """, logger: self.logger)
                case .done(let ids, let at, let outcome, let note, let ticket, let timeline):
                    try await self.markDone(ids, at: at, outcome: outcome, note: note, ticket: ticket, timeline: timeline,
                                            connection)
                case .failed(let id, let at, let error, let retryAt, let uncertain, let timeline):
                    try await self.markFailed(id, at: at, error: error, retryAt: retryAt, uncertain: uncertain,
                                              timeline: timeline, connection)
                }
            }
        }
    }

    private func markDone(_ ids: [Int64], at: Date, outcome: OutboxItem.Outcome, note: String?, ticket: TicketUpdate?,
                          timeline: TimelineEntry?, _ connection: PostgresConnection) async throws {
        guard let first = ids.first, let last = ids.last else { return }
        guard let row = try await rows(connection, "SELECT incident_id, hook FROM ticket_outbox WHERE id = \(first)",
                                       table: "ticket_outbox").first else {
            throw StoredValueError(table: "ticket_outbox", key: "row \(first)", problem: "no such entry")
        }
        let atMs = at.unixMilliseconds
        try await connection.query("""
            UPDATE ticket_outbox SET delivered_at = \(atMs), outcome = \(outcome.rawValue),
                last_error = COALESCE(\(note), last_error),
                attempts = attempts + CASE WHEN \(outcome == .sent) AND id = \(last) THEN 1 ELSE 0 END,
                claimed_until = NULL, uncertain = false
            WHERE id = ANY(\(ids)) AND delivered_at IS NULL
            """, logger: logger)
        let incident: Int64 = try row.value("incident_id")
        if let timeline { try await insertTimeline(IncidentID(incident), timeline, connection) }
        guard let ticket else { return }
        let hook: String = try row.value("hook")
        if let ticketID = ticket.ticketID {
            try await connection.query("""
                INSERT INTO ticket (incident_id, hook, ticket_id, state, opened_at, updated_at)
                VALUES (\(incident), \(hook), \(ticketID), \(ticket.state), \(atMs), \(atMs))
                ON CONFLICT (incident_id, hook) DO UPDATE SET
                    ticket_id = excluded.ticket_id, state = COALESCE(excluded.state, ticket.state),
                    updated_at = excluded.updated_at
                """, logger: logger)
        } else if let state = ticket.state {
            try await connection.query("""
                UPDATE ticket SET state = \(state), updated_at = \(atMs) WHERE incident_id = \(incident) AND hook = \(hook)
                """, logger: logger)
        }
    }

    private func markFailed(_ id: Int64, at: Date, error: String, retryAt: Date?, uncertain: Bool,
                            timeline: TimelineEntry?, _ connection: PostgresConnection) async throws {
        if let timeline {
            guard let row = try await rows(connection, "SELECT incident_id FROM ticket_outbox WHERE id = \(id)",
                                           table: "ticket_outbox").first else {
                throw StoredValueError(table: "ticket_outbox", key: "row \(id)", problem: "no such entry")
            }
            try await insertTimeline(IncidentID(try row.value("incident_id")), timeline, connection)
        }
        let retry = retryAt?.unixMilliseconds
        try await connection.query("""
            UPDATE ticket_outbox SET attempts = attempts + 1, last_error = \(error), claimed_until = NULL,
                uncertain = \(uncertain), next_attempt_at = COALESCE(\(retry), next_attempt_at),
                failed_at = CASE WHEN \(retry)::bigint IS NULL THEN \(at.unixMilliseconds) END
            WHERE id = \(id)
            """, logger: logger)
    }

    public func outboxQueue(incident: IncidentID, hook: HookID) async throws(StoreError) -> OutboxQueue {
        try await read("read the outbox of an incident") { connection in
            let entries = try await self.rows(connection, """
                SELECT * FROM ticket_outbox
                WHERE incident_id = \(incident.rawValue) AND hook = \(hook.rawValue) AND delivered_at IS NULL ORDER BY id
                """, table: "ticket_outbox").map(StoredRows.outboxItem)
            let ticket = try await self.rows(connection, """
                SELECT * FROM ticket WHERE incident_id = \(incident.rawValue) AND hook = \(hook.rawValue)
                """, table: "ticket").first.map(StoredRows.ticket)
            return OutboxQueue(entries: entries, ticket: ticket)
        }
    }

    public func outbox(_ state: OutboxItem.State, limit: Int) async throws(StoreError) -> [OutboxItem] {
        let condition = StoredRows.outboxCondition(state)
        return try await read("read \(state.rawValue) outbox entries") { connection in
            try await self.rows(connection, "SELECT * FROM ticket_outbox WHERE \(unescaped: condition) ORDER BY id LIMIT \(Int64(limit))",
                                table: "ticket_outbox").map(StoredRows.outboxItem)
        }
    }

    public func scheduleOutbox(_ ids: [Int64], at: Date) async throws(StoreError) -> Int {
        try await write("schedule outbox entries") { connection in
            try await connection.query("""
                UPDATE ticket_outbox SET failed_at = NULL, next_attempt_at = \(at.unixMilliseconds), claimed_until = NULL
                WHERE id = ANY(\(ids)) AND delivered_at IS NULL RETURNING id
                """, logger: self.logger).collect().count
        }
    }

    public func releaseOutboxClaims() async throws(StoreError) {
        try await write("release outbox claims") { connection in
            try await connection.query("UPDATE ticket_outbox SET claimed_until = NULL WHERE claimed_until IS NOT NULL",
                                       logger: self.logger)
        }
    }

    public func dropOutbox(_ ids: [Int64], at: Date, reason: String) async throws(StoreError) -> Int {
        try await write("drop outbox entries") { connection in
            try await connection.query("""
                UPDATE ticket_outbox SET delivered_at = \(at.unixMilliseconds), outcome = 'dropped',
                    last_error = \("dropped: \(reason)"), claimed_until = NULL
                WHERE id = ANY(\(ids)) AND delivered_at IS NULL RETURNING id
                """, logger: self.logger).collect().count
        }
    }

    public func outboxBacklog() async throws(StoreError) -> [OutboxBacklog] {
        try await read("read the outbox backlog") { connection in
            try await self.rows(connection, """
                SELECT hook,
                       SUM(CASE WHEN failed_at IS NULL THEN 1 ELSE 0 END)::bigint AS pending,
                       MIN(CASE WHEN failed_at IS NULL THEN created_at END) AS oldest,
                       SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END)::bigint AS dead
                FROM ticket_outbox WHERE delivered_at IS NULL GROUP BY hook ORDER BY hook
                """, table: "ticket_outbox").map { reader in
                OutboxBacklog(hook: HookID(try reader.value("hook") as String), pending: try reader.int("pending"),
                              oldestPending: try reader.optionalDate("oldest"), dead: try reader.int("dead"))
            }
        }
    }

    public func tickets(of incident: IncidentID) async throws(StoreError) -> [Ticket] {
        try await read("read tickets of incident \(incident)") { connection in
            try await self.rows(connection, """
                SELECT * FROM ticket WHERE incident_id = \(incident.rawValue) ORDER BY opened_at, hook
                """, table: "ticket").map(StoredRows.ticket)
        }
    }
}

/// Operator commands queued by the CLI for the daemon, and operators' maintenance windows.
extension PostgresStore {
    public func enqueue(_ command: OperatorCommand, at: Date) async throws(StoreError) -> Int64 {
        let (kind, payload) = CommandCoding.encode(command)
        return try await write("queue \(kind) command") { connection in
            if case .maintenanceAdd(let window) = command {
                try await connection.query("""
                    INSERT INTO maintenance_window (id, start_at, end_at, elements, lines, reason, source, created_at)
                    VALUES (\(window.id.rawValue), \(window.start.unixMilliseconds), \(window.end.unixMilliseconds),
                            \(CommandCoding.json(window.elements.map(\.rawValue))),
                            \(CommandCoding.json(window.lines.map(\.rawValue))), \(window.reason), 'operator',
                            \(at.unixMilliseconds))
                    """, logger: self.logger)
            }
            if case .maintenanceEnd(let id, let end) = command {
                try await connection.query("""
                    UPDATE maintenance_window SET end_at = LEAST(end_at, GREATEST(start_at, \(end.unixMilliseconds)))
                    WHERE id = \(id.rawValue)
                    """, logger: self.logger)
            }
            let rows = try await connection.query("""
                INSERT INTO operator_command (kind, payload, created_at) VALUES (\(kind), \(payload), \(at.unixMilliseconds))
                RETURNING id
                """, logger: self.logger).collect()
            return try rows[0].decode(Int64.self)
        }
    }

    public func pendingCommands(limit: Int) async throws(StoreError) -> [QueuedCommand] {
        try await read("read pending commands") { connection in
            try await self.rows(connection, """
                SELECT * FROM operator_command WHERE processed_at IS NULL ORDER BY id LIMIT \(Int64(limit))
                """, table: "operator_command").map(StoredRows.queuedCommand)
        }
    }

    public func commandResult(_ id: Int64) async throws(StoreError) -> CommandResult? {
        try await read("read command \(id)") { connection in
            try await self.rows(connection, """
                SELECT processed_at, result FROM operator_command WHERE id = \(id) AND processed_at IS NOT NULL
                """, table: "operator_command").first.map { reader in
                CommandResult(processedAt: try reader.date("processed_at"), result: try reader.optional("result") ?? "")
            }
        }
    }

    public func maintenanceWindows() async throws(StoreError) -> [MaintenanceWindow] {
        try await read("read maintenance windows") { connection in
            try await self.rows(connection, "SELECT * FROM maintenance_window WHERE source = 'operator' ORDER BY start_at, id",
                                table: "maintenance_window").map(StoredRows.maintenanceWindow)
        }
    }
}
