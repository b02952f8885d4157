import Foundation
import ForewarnModel
import Persistence
import PostgresNIO

/// Incidents: batches with their outbox entries, recovery, id allocation, listing.
extension PostgresStore {
    public func record(_ batch: CorrelationBatch) async throws(StoreError) {
        guard !batch.isEmpty else { return }
        try await write("record \(batch.changes.count) incident changes", bulk: true) { connection in
            // Foreign keys are checked at commit (DEFERRABLE INITIALLY DEFERRED): a merge may name
            // an incident written later in the same batch.
            try await PostgresIncidentWriter(connection: connection, logger: self.logger).write(batch.changes)
            let at = batch.at.unixMilliseconds
            for chunk in batch.outbox.chunked(2_000) {
                // DO NOTHING: the unique index keeps one `open` per incident and hook, whatever happens.
                try await connection.query("""
                    INSERT INTO ticket_outbox (incident_id, hook, event, payload, created_at, next_attempt_at)
                    SELECT a, b, c, d, \(at), e FROM unnest(
                        \(chunk.map(\.incident.rawValue)), \(chunk.map(\.hook.rawValue)), \(chunk.map(\.event.rawValue)),
                        \(chunk.map(\.payload)), \(chunk.map { ($0.notBefore ?? batch.at).unixMilliseconds }))
                        WITH ORDINALITY AS t(a, b, c, d, e, n)
                    ORDER BY n
                    ON CONFLICT DO NOTHING
                    """, logger: self.logger)
            }
            for ticket in batch.tickets {
                // DO NOTHING: a ticket the store already has (delivered, or entered before) is kept.
                try await connection.query("""
                    INSERT INTO ticket (incident_id, hook, ticket_id, state, opened_at, updated_at)
                    VALUES (\(ticket.incident.rawValue), \(ticket.hook.rawValue), \(ticket.ticketID), \(ticket.state),
                            \(ticket.openedAt.unixMilliseconds), \(ticket.updatedAt.unixMilliseconds))
                    ON CONFLICT DO NOTHING
                    """, logger: self.logger)
            }
            for (report, incident) in batch.reports {
                try await connection.query("""
                    INSERT INTO customer_report (line, customer, reported_at, received_at, source, note, incident_id)
                    VALUES (\(report.line.rawValue), NULL, \(report.at.unixMilliseconds), \(at), \(report.source),
                            \(report.note), \(incident.rawValue))
                    """, logger: self.logger)
            }
            for (id, result) in batch.processedCommands {
                try await connection.query("UPDATE operator_command SET processed_at = \(at), result = \(result) WHERE id = \(id)",
                                           logger: self.logger)
            }
        }
    }

    public func recoverIncidents() async throws(StoreError) -> IncidentRecovery {
        let since = Date().addingTimeInterval(-IncidentRecovery.firstEvidenceWindow)
        return try await read("read open incidents", bulk: true) { connection in
            // One snapshot for every read below.
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: self.logger)
            do {
                let recovery = try await self.recovery(since: since, connection)
                try await connection.query("COMMIT", logger: self.logger)
                return recovery
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: self.logger)
                throw error
            }
        }
    }

    private func recovery(since: Date, _ connection: PostgresConnection) async throws -> IncidentRecovery {
        let headers = try await rows(connection, "SELECT * FROM incident WHERE state = 'open' ORDER BY id", table: "incident")
            .map(StoredRows.incident)
        var lines: [Int64: [LineInterval]] = [:]
        for reader in try await rows(connection, """
            SELECT l.* FROM incident_line l JOIN incident i ON i.id = l.incident_id
            WHERE i.state = 'open' AND l.end_at IS NULL
            """, table: "incident_line") {
            lines[try reader.value("incident_id"), default: []].append(try StoredRows.interval(reader))
        }
        var faults: [Int64: [FaultRecord]] = [:]
        for reader in try await rows(connection, """
            SELECT f.* FROM fault f JOIN incident i ON i.id = f.incident_id
            WHERE i.state = 'open' AND f.cleared_at IS NULL ORDER BY f.id
            """, table: "fault") {
            faults[try reader.value("incident_id"), default: []].append(try StoredRows.fault(reader))
        }
        let resolved = try await rows(connection, "SELECT * FROM incident WHERE state = 'resolved' ORDER BY id DESC LIMIT 1000",
                                      table: "incident").map(StoredRows.incident)
        let open = headers.map { header in
            IncidentSnapshot(incident: header, lines: lines[header.id.rawValue] ?? [], faults: faults[header.id.rawValue] ?? [])
        }
        let scopeIDs = headers.map(\.id.rawValue) + resolved.map(\.id.rawValue)
        let firstEvidence = try await rows(connection, """
            WITH recent AS (SELECT * FROM state_transition WHERE at >= \(since.unixMilliseconds)),
                 last_up AS (SELECT subject_type, subject_id, MAX(id) AS up_id FROM recent
                             WHERE to_state = 'up' GROUP BY subject_type, subject_id)
            SELECT r.* FROM recent r LEFT JOIN last_up u ON u.subject_type = r.subject_type AND u.subject_id = r.subject_id
            WHERE r.id > COALESCE(u.up_id, 0)
            ORDER BY r.at, r.id
            """, table: "state_transition").map(StoredRows.transition)
        return IncidentRecovery(open: open, recentlyResolved: resolved, scopes: try await scopes(of: scopeIDs, connection),
                                firstEvidence: firstEvidence)
    }

    /// Every line each incident has had in scope, what merged into it, which hooks it opened.
    private func scopes(of ids: [Int64], _ connection: PostgresConnection) async throws -> [IncidentID: IncidentScope] {
        var scopes: [IncidentID: IncidentScope] = [:]
        for id in ids { scopes[IncidentID(id)] = IncidentScope() }
        guard !ids.isEmpty else { return scopes }
        for reader in try await rows(connection, """
            SELECT DISTINCT incident_id, line, customer FROM incident_line WHERE incident_id = ANY(\(ids))
            """, table: "incident_line") {
            scopes[IncidentID(try reader.value("incident_id")), default: IncidentScope()]
                .lines[LineID(try reader.value("line") as String)] = CustomerID(try reader.value("customer") as String)
        }
        for reader in try await rows(connection, """
            SELECT merged_into, id FROM incident WHERE merged_into = ANY(\(ids)) ORDER BY id
            """, table: "incident") {
            scopes[IncidentID(try reader.value("merged_into")), default: IncidentScope()]
                .merged.append(IncidentID(try reader.value("id")))
        }
        // A hook has opened the incident's ticket when it was told `open`, or when the ticket
        // already existed (entered by hand with the incident).
        for reader in try await rows(connection, """
            SELECT incident_id, hook FROM ticket_outbox WHERE incident_id = ANY(\(ids)) AND event = 'open'
            UNION SELECT incident_id, hook FROM ticket WHERE incident_id = ANY(\(ids))
            """, table: "ticket_outbox") {
            scopes[IncidentID(try reader.value("incident_id")), default: IncidentScope()]
                .opened.insert(HookID(try reader.value("hook") as String))
        }
        return scopes
    }

    public func reserveIncidentIDs(_ count: Int) async throws(StoreError) -> Range<Int64> {
        precondition(count > 0, "reserve at least one incident id")
        return try await write("reserve \(count) incident ids") { connection in
            let rows = try await connection.query("""
                UPDATE id_allocation SET next_value = next_value + \(Int64(count)) WHERE name = 'incident'
                RETURNING next_value
                """, logger: self.logger).collect()
            guard let after = try rows.first?.decode(Int64.self) else {
                throw StoredValueError(table: "id_allocation", key: "name incident", problem: "missing")
            }
            return after - Int64(count) ..< after
        }
    }

    public func releaseIncidentIDs(_ unused: Range<Int64>) async throws(StoreError) {
        guard !unused.isEmpty else { return }
        try await write("release incident ids") { connection in
            try await connection.query("""
                UPDATE id_allocation SET next_value = \(unused.lowerBound)
                WHERE name = 'incident' AND next_value = \(unused.upperBound)
                """, logger: self.logger)
        }
    }

    public func incidents(openOnly: Bool, since: Date?) async throws(StoreError) -> [IncidentRecord] {
        try await read("read incidents", bulk: true) { connection in
            let sinceMs = since?.unixMilliseconds
            let headers = try await self.rows(connection, """
                SELECT * FROM incident
                WHERE (NOT \(openOnly) OR state = 'open')
                  AND (\(sinceMs)::bigint IS NULL OR resolved_at IS NULL OR resolved_at >= \(sinceMs))
                ORDER BY id DESC
                """, table: "incident").map(StoredRows.incident)
            return try await self.records(of: headers, connection)
        }
    }

    public func incident(_ id: IncidentID) async throws(StoreError) -> IncidentDetail? {
        try await read("read incident \(id)") { connection in
            guard let header = try await self.rows(connection, "SELECT * FROM incident WHERE id = \(id.rawValue)",
                                                   table: "incident").first.map(StoredRows.incident)
            else { return nil }
            let timeline = try await self.rows(connection, """
                SELECT id, at, kind, detail FROM incident_event WHERE incident_id = \(id.rawValue) ORDER BY id
                """, table: "incident_event").map { reader in
                let detail: String = try reader.value("detail")
                let object = (try? JSONSerialization.jsonObject(with: Data(detail.utf8))) as? [String: Any]
                return TimelineEntry(at: try reader.date("at"), kind: try reader.value("kind"),
                                     detail: object?["text"] as? String ?? detail)
            }
            return IncidentDetail(record: try await self.records(of: [header], connection)[0], timeline: timeline)
        }
    }

    public func manualIncidents(startingFrom from: Date, to: Date) async throws(StoreError) -> [IncidentRecord] {
        try await read("read incidents entered by hand") { connection in
            let headers = try await self.rows(connection, """
                SELECT * FROM incident WHERE entered_at IS NOT NULL
                  AND started_at BETWEEN \(from.unixMilliseconds) AND \(to.unixMilliseconds)
                ORDER BY started_at, id
                """, table: "incident").map(StoredRows.incident)
            return try await self.records(of: headers, connection)
        }
    }

    /// A delivery's line in an incident's timeline (`recordOutbox` writes it with the outcome).
    func insertTimeline(_ incident: IncidentID, _ entry: TimelineEntry, _ connection: PostgresConnection) async throws {
        try await connection.query("""
            INSERT INTO incident_event (incident_id, at, kind, detail)
            VALUES (\(incident.rawValue), \(entry.at.unixMilliseconds), \(entry.kind),
                    \(CommandCoding.json(["text": entry.detail, "change": "ticket"])))
            """, logger: logger)
    }

    /// The headers with their lines (by line, then start) and tickets (by opening, then hook),
    /// in the headers' order: two reads, whatever the number of incidents.
    func records(of headers: [Incident], _ connection: PostgresConnection) async throws -> [IncidentRecord] {
        guard !headers.isEmpty else { return [] }
        var lines: [Int64: [LineInterval]] = [:]
        var tickets: [Int64: [Ticket]] = [:]
        for chunk in headers.map(\.id.rawValue).chunked(10_000) {
            let ids = Array(chunk)
            for reader in try await rows(connection, """
                SELECT * FROM incident_line WHERE incident_id = ANY(\(ids)) ORDER BY incident_id, line, start_at
                """, table: "incident_line") {
                lines[try reader.value("incident_id"), default: []].append(try StoredRows.interval(reader))
            }
            for reader in try await rows(connection, """
                SELECT * FROM ticket WHERE incident_id = ANY(\(ids)) ORDER BY incident_id, opened_at, hook
                """, table: "ticket") {
                tickets[try reader.value("incident_id"), default: []].append(try StoredRows.ticket(reader))
            }
        }
        return headers.map { header in
            IncidentRecord(incident: header, lines: lines[header.id.rawValue] ?? [], tickets: tickets[header.id.rawValue] ?? [])
        }
    }
}
