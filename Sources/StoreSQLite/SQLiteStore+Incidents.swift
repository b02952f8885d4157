import Foundation
import ForewarnModel
import GRDB
import Persistence

/// Incidents: batches with their outbox entries, recovery, id allocation, listing.
extension SQLiteStore {
    public func record(_ batch: CorrelationBatch) async throws(StoreError) {
        guard !batch.isEmpty else { return }
        try await write("record \(batch.changes.count) incident changes") { db in
            // A merge may name an incident written later in the same batch.
            try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
            let writer = IncidentWriter(db: db, at: batch.at)
            for change in batch.changes { try writer.apply(change) }
            let outbox = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO ticket_outbox (incident_id, hook, event, payload, created_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
            for entry in batch.outbox {
                // OR IGNORE: the unique index keeps one `open` per incident and hook, whatever happens.
                try outbox.execute(arguments: [entry.incident.rawValue, entry.hook.rawValue, entry.event.rawValue,
                                               entry.payload, batch.at.unixMilliseconds,
                                               (entry.notBefore ?? batch.at).unixMilliseconds])
            }
            // OR IGNORE: a ticket the store already has (delivered, or entered before) is kept.
            let tickets = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO ticket (incident_id, hook, ticket_id, state, opened_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
            for ticket in batch.tickets {
                try tickets.execute(arguments: [ticket.incident.rawValue, ticket.hook.rawValue, ticket.ticketID,
                                                ticket.state, ticket.openedAt.unixMilliseconds,
                                                ticket.updatedAt.unixMilliseconds])
            }
            for (report, incident) in batch.reports {
                try db.execute(sql: """
                    INSERT INTO customer_report (line, customer, reported_at, received_at, source, note, incident_id)
                    VALUES (?, NULL, ?, ?, ?, ?, ?)
                    """, arguments: [report.line.rawValue, report.at.unixMilliseconds, batch.at.unixMilliseconds,
                                     report.source, report.note, incident.rawValue])
            }
            for (id, result) in batch.processedCommands {
                try db.execute(sql: "UPDATE operator_command SET processed_at = ?, result = ? WHERE id = ?",
                               arguments: [batch.at.unixMilliseconds, result, id])
            }
        }
    }

    public func recoverIncidents() async throws(StoreError) -> IncidentRecovery {
        let since = Date().addingTimeInterval(-IncidentRecovery.firstEvidenceWindow)
        return try await read("read open incidents") { db in
            let headers = try Row.fetchAll(db, sql: "SELECT * FROM incident WHERE state = 'open' ORDER BY id")
                .map(IncidentRows.incident)
            var lines: [Int64: [LineInterval]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT l.* FROM incident_line l JOIN incident i ON i.id = l.incident_id
                WHERE i.state = 'open' AND l.end_at IS NULL
                """) {
                lines[row["incident_id"], default: []].append(try IncidentRows.interval(row))
            }
            var faults: [Int64: [FaultRecord]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT f.* FROM fault f JOIN incident i ON i.id = f.incident_id
                WHERE i.state = 'open' AND f.cleared_at IS NULL
                """) {
                faults[row["incident_id"], default: []].append(try IncidentRows.fault(row))
            }
            let resolved = try Row.fetchAll(db, sql: """
                SELECT * FROM incident WHERE state = 'resolved' ORDER BY id DESC LIMIT 1000
                """).map(IncidentRows.incident)
            let open = headers.map { header in
                IncidentSnapshot(incident: header, lines: lines[header.id.rawValue] ?? [],
                                 faults: faults[header.id.rawValue] ?? [])
            }
            let scopeIDs = headers.map(\.id.rawValue) + resolved.map(\.id.rawValue)
            return IncidentRecovery(open: open, recentlyResolved: resolved, scopes: try Self.scopes(of: scopeIDs, db),
                                    firstEvidence: try Self.firstEvidence(since: since, db))
        }
    }

    /// Per subject still bad: its transitions since its last `up` within the window.
    static func firstEvidence(since: Date, _ db: Database) throws -> [StateTransition] {
        try Row.fetchAll(db, sql: """
            WITH recent AS (SELECT * FROM state_transition WHERE at >= ?),
                 last_up AS (SELECT subject_type, subject_id, MAX(id) AS up_id FROM recent
                             WHERE to_state = 'up' GROUP BY subject_type, subject_id)
            SELECT r.* FROM recent r LEFT JOIN last_up u ON u.subject_type = r.subject_type AND u.subject_id = r.subject_id
            WHERE r.id > COALESCE(u.up_id, 0)
            ORDER BY r.at, r.id
            """, arguments: [since.unixMilliseconds]).map { row in
            try StoredRows.transition(RowReader("state_transition", row, key: "id \(row["id"] ?? "?")"))
        }
    }

    /// Every line each incident has had in scope, what merged into it, which hooks it opened.
    static func scopes(of ids: [Int64], _ db: Database) throws -> [IncidentID: IncidentScope] {
        var scopes: [IncidentID: IncidentScope] = [:]
        let lineStatement = try db.cachedStatement(sql: "SELECT DISTINCT line, customer FROM incident_line WHERE incident_id = ?")
        let mergedStatement = try db.cachedStatement(sql: "SELECT id FROM incident WHERE merged_into = ? ORDER BY id")
        // A hook has opened the incident's ticket when it was told `open`, or when the ticket
        // already existed (entered by hand with the incident).
        let openedStatement = try db.cachedStatement(sql: """
            SELECT hook FROM ticket_outbox WHERE incident_id = ? AND event = 'open'
            UNION SELECT hook FROM ticket WHERE incident_id = ?
            """)
        for id in ids {
            var scope = IncidentScope()
            for row in try Row.fetchAll(lineStatement, arguments: [id]) {
                scope.lines[LineID(row["line"] as String)] = CustomerID(row["customer"] as String)
            }
            scope.merged = try Int64.fetchAll(mergedStatement, arguments: [id]).map { IncidentID($0) }
            scope.opened = Set(try String.fetchAll(openedStatement, arguments: [id, id]).map { HookID($0) })
            scopes[IncidentID(id)] = scope
        }
        return scopes
    }

    public func reserveIncidentIDs(_ count: Int) async throws(StoreError) -> Range<Int64> {
        precondition(count > 0, "reserve at least one incident id")
        return try await write("reserve \(count) incident ids") { db in
            guard let next = try Int64.fetchOne(db, sql: "SELECT next_value FROM id_allocation WHERE name = 'incident'")
            else { throw StoredValueError(table: "id_allocation", key: "name incident", problem: "missing") }
            try db.execute(sql: "UPDATE id_allocation SET next_value = ? WHERE name = 'incident'",
                           arguments: [next + Int64(count)])
            return next ..< next + Int64(count)
        }
    }

    public func releaseIncidentIDs(_ unused: Range<Int64>) async throws(StoreError) {
        guard !unused.isEmpty else { return }
        try await write("release incident ids") { db in
            try db.execute(sql: "UPDATE id_allocation SET next_value = ? WHERE name = 'incident' AND next_value = ?",
                           arguments: [unused.lowerBound, unused.upperBound])
        }
    }

    public func incidents(openOnly: Bool, since: Date?) async throws(StoreError) -> [IncidentRecord] {
        try await read("read incidents") { db in
            var conditions = ["1 = 1"]
            var arguments: StatementArguments = []
            if openOnly { conditions.append("state = 'open'") }
            if let since {
                conditions.append("(resolved_at IS NULL OR resolved_at >= ?)")
                arguments += [since.unixMilliseconds]
            }
            let sql = "SELECT * FROM incident WHERE " + conditions.map { "(\($0))" }.joined(separator: " AND ")
                + " ORDER BY id DESC"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                try Self.record(of: try IncidentRows.incident(row), db)
            }
        }
    }

    public func incident(_ id: IncidentID) async throws(StoreError) -> IncidentDetail? {
        try await read("read incident \(id)") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM incident WHERE id = ?", arguments: [id.rawValue])
            else { return nil }
            let timeline = try Row.fetchAll(db, sql: "SELECT id, at, kind, detail FROM incident_event WHERE incident_id = ? ORDER BY id",
                                            arguments: [id.rawValue]).map { row in
                let reader = RowReader("incident_event", row)
                let detail: String = try reader.value("detail")
                let object = (try? JSONSerialization.jsonObject(with: Data(detail.utf8))) as? [String: Any]
                return TimelineEntry(at: try reader.date("at"), kind: try reader.value("kind"),
                                     detail: object?["text"] as? String ?? detail)
            }
            return IncidentDetail(record: try Self.record(of: try IncidentRows.incident(row), db), timeline: timeline)
        }
    }

    public func manualIncidents(startingFrom from: Date, to: Date) async throws(StoreError) -> [IncidentRecord] {
        try await read("read incidents entered by hand") { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM incident WHERE entered_at IS NOT NULL AND started_at BETWEEN ? AND ?
                ORDER BY started_at, id
                """, arguments: [from.unixMilliseconds, to.unixMilliseconds]).map { row in
                try Self.record(of: try IncidentRows.incident(row), db)
            }
        }
    }

    /// A delivery's line in an incident's timeline (`recordOutbox` writes it with the outcome).
    static func insertTimeline(_ incident: IncidentID, _ entry: TimelineEntry, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO incident_event (incident_id, at, kind, detail) VALUES (?, ?, ?, ?)")
            .execute(arguments: [incident.rawValue, entry.at.unixMilliseconds, entry.kind,
                                 CommandCoding.json(["text": entry.detail, "change": "ticket"])])
    }

    static func record(of incident: Incident, _ db: Database) throws -> IncidentRecord {
        let lines = try Row.fetchAll(
            try db.cachedStatement(sql: "SELECT * FROM incident_line WHERE incident_id = ? ORDER BY line, start_at"),
            arguments: [incident.id.rawValue]).map(IncidentRows.interval)
        let tickets = try Row.fetchAll(
            try db.cachedStatement(sql: "SELECT * FROM ticket WHERE incident_id = ? ORDER BY opened_at, hook"),
            arguments: [incident.id.rawValue]).map(IncidentRows.ticket)
        return IncidentRecord(incident: incident, lines: lines, tickets: tickets)
    }
}

/// Writes one incident change inside the batch's transaction.
struct IncidentWriter {
    let db: Database
    let at: Date

    func apply(_ change: IncidentChange) throws {
        let incident = change.incident
        let id = incident.id.rawValue
        // Cached: a batch may write thousands of incidents (an import), each prepared once.
        try db.cachedStatement(sql: """
            INSERT INTO incident (id, state, root_type, root_id, root_kind, severity, planned, proactive, flapping,
                                  classification, started_at, detected_at, first_call_at, acknowledged_at,
                                  resolved_at, merged_into, updated_at, group_key, entered_by, entered_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                state = excluded.state, root_type = excluded.root_type, root_id = excluded.root_id,
                root_kind = excluded.root_kind, severity = excluded.severity, planned = excluded.planned,
                proactive = excluded.proactive, flapping = excluded.flapping,
                classification = excluded.classification, started_at = excluded.started_at,
                detected_at = excluded.detected_at, first_call_at = excluded.first_call_at,
                acknowledged_at = excluded.acknowledged_at, resolved_at = excluded.resolved_at,
                merged_into = excluded.merged_into, updated_at = excluded.updated_at, group_key = excluded.group_key,
                entered_by = excluded.entered_by, entered_at = excluded.entered_at
            """).execute(arguments: [
                id, incident.state.rawValue, incident.root.subject.kind, incident.root.subject.identifier,
                incident.root.kind.rawValue, incident.severity.rawValue, incident.planned, incident.proactive,
                incident.flapping, incident.classification.rawValue, incident.startedAt.unixMilliseconds,
                incident.detectedAt.unixMilliseconds, incident.firstCallAt?.unixMilliseconds,
                incident.acknowledgedAt?.unixMilliseconds, incident.resolvedAt?.unixMilliseconds,
                incident.mergedInto?.rawValue, incident.updatedAt.unixMilliseconds, incident.group,
                incident.enteredBy, incident.enteredAt?.unixMilliseconds,
            ])
        if !change.lines.isEmpty {
            let statement = try db.cachedStatement(sql: """
                INSERT INTO incident_line (incident_id, line, customer, start_at, end_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (incident_id, line, start_at) DO UPDATE SET end_at = excluded.end_at
                """)
            // An interval that ends where it starts is a line found unaffected after all (its
            // probe answered): it leaves the scope rather than staying as an empty outage.
            let unaffected = try db.cachedStatement(sql: """
                DELETE FROM incident_line WHERE incident_id = ? AND line = ? AND start_at = ?
                """)
            for interval in change.lines {
                if let end = interval.end, end.unixMilliseconds <= interval.start.unixMilliseconds {
                    try unaffected.execute(arguments: [id, interval.line.rawValue, interval.start.unixMilliseconds])
                    continue
                }
                try statement.execute(arguments: [id, interval.line.rawValue, interval.customer.rawValue,
                                                  interval.start.unixMilliseconds, interval.end?.unixMilliseconds])
            }
        }
        for fault in change.faults {
            try db.execute(sql: """
                INSERT INTO fault (subject_type, subject_id, kind, started_at, detected_at, cleared_at, incident_id, flapping)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (subject_type, subject_id, started_at) DO UPDATE SET
                    kind = excluded.kind, cleared_at = excluded.cleared_at, incident_id = excluded.incident_id,
                    flapping = excluded.flapping
                """, arguments: [fault.subject.kind, fault.subject.identifier, fault.health.rawValue,
                                 fault.since.unixMilliseconds, fault.detectedAt.unixMilliseconds,
                                 fault.clearedAt?.unixMilliseconds, id, fault.flapping])
        }
        if !change.timeline.isEmpty {
            let statement = try db.cachedStatement(sql: """
                INSERT INTO incident_event (incident_id, at, kind, detail) VALUES (?, ?, ?, ?)
                """)
            for entry in change.timeline {
                try statement.execute(arguments: [id, entry.at.unixMilliseconds, entry.kind,
                                                  CommandCoding.json(["text": entry.detail, "change": change.kind.rawValue])])
            }
        }
        if let survivor = change.absorbedInto?.rawValue {
            try db.execute(sql: """
                INSERT OR IGNORE INTO incident_line (incident_id, line, customer, start_at, end_at)
                SELECT ?, line, customer, start_at, end_at FROM incident_line WHERE incident_id = ?
                """, arguments: [survivor, id])
            try db.execute(sql: "DELETE FROM incident_line WHERE incident_id = ?", arguments: [id])
            try db.execute(sql: "UPDATE fault SET incident_id = ? WHERE incident_id = ?", arguments: [survivor, id])
            try db.execute(sql: "UPDATE customer_report SET incident_id = ? WHERE incident_id = ?", arguments: [survivor, id])
        }
    }
}
