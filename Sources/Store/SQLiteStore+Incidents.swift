import Foundation
import ForewarnModel
import GRDB

/// Incidents, their outbox rows, recovery and listing.
extension SQLiteStore {
    public func record(_ batch: CorrelationBatch) async throws(StoreError) {
        guard !batch.isEmpty else { return }
        try await runAsync("record \(batch.changes.count) incident changes") { [pool] in
            try await pool.write { db in
                // A merge may name an incident written later in the same batch.
                try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                let writer = IncidentWriter(db: db, hooks: batch.hooks, at: batch.at)
                for change in batch.changes { try writer.apply(change) }
                // Announcements after every row of the batch, so a payload sees merges complete.
                for change in batch.changes { try writer.announce(change) }
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
    }

    public func recoverIncidents() async throws(StoreError) -> IncidentRecovery {
        try await runAsync("read open incidents") { [pool] in
            try await pool.read { db in
                let headers = try Row.fetchAll(db, sql: "SELECT * FROM incident WHERE state = 'open' ORDER BY id")
                    .compactMap(IncidentRows.incident)
                var lines: [Int64: [LineInterval]] = [:]
                for row in try Row.fetchAll(db, sql: """
                    SELECT l.* FROM incident_line l JOIN incident i ON i.id = l.incident_id
                    WHERE i.state = 'open' AND l.end_at IS NULL
                    """) {
                    lines[row["incident_id"], default: []].append(IncidentRows.interval(row))
                }
                var faults: [Int64: [FaultRecord]] = [:]
                for row in try Row.fetchAll(db, sql: """
                    SELECT f.* FROM fault f JOIN incident i ON i.id = f.incident_id
                    WHERE i.state = 'open' AND f.cleared_at IS NULL
                    """) {
                    if let fault = IncidentRows.fault(row) { faults[row["incident_id"], default: []].append(fault) }
                }
                let resolved = try Row.fetchAll(db, sql: """
                    SELECT * FROM incident WHERE state = 'resolved' ORDER BY id DESC LIMIT 1000
                    """).compactMap(IncidentRows.incident)
                let next = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM incident") ?? 1
                let open = headers.map { header in
                    IncidentSnapshot(incident: header, lines: lines[header.id.rawValue] ?? [],
                                     faults: faults[header.id.rawValue] ?? [])
                }
                return IncidentRecovery(open: open, recentlyResolved: resolved, nextIncidentID: next)
            }
        }
    }

    public func incidents(openOnly: Bool, since: Date?) async throws(StoreError) -> [IncidentRecord] {
        try await runAsync("read incidents") { [pool] in
            try await pool.read { db in
                var conditions = ["1 = 1"]
                var arguments: StatementArguments = []
                if openOnly { conditions.append("state = 'open'") }
                if let since {
                    conditions.append("(resolved_at IS NULL OR resolved_at >= ?)")
                    arguments += [since.unixMilliseconds]
                }
                let sql = "SELECT * FROM incident WHERE " + conditions.map { "(\($0))" }.joined(separator: " AND ")
                    + " ORDER BY id DESC"
                let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
                let lineStatement = try db.cachedStatement(sql: """
                    SELECT * FROM incident_line WHERE incident_id = ? ORDER BY line, start_at
                    """)
                let ticketStatement = try db.cachedStatement(sql: """
                    SELECT ticket_id, delivered_at FROM ticket_outbox
                    WHERE incident_id = ? AND event = 'open' AND delivered_at IS NOT NULL ORDER BY delivered_at LIMIT 1
                    """)
                return try rows.compactMap { row -> IncidentRecord? in
                    guard let incident = IncidentRows.incident(row) else { return nil }
                    let lines = try Row.fetchAll(lineStatement, arguments: [incident.id.rawValue]).map(IncidentRows.interval)
                    let delivered = try Row.fetchOne(ticketStatement, arguments: [incident.id.rawValue])
                    let ticketedAt = (row["ticketed_at"] as Int64?) ?? (delivered?["delivered_at"] as Int64?)
                    return IncidentRecord(incident: incident, lines: lines,
                                          ticketID: (row["ticket_id"] as String?) ?? (delivered?["ticket_id"] as String?),
                                          ticketState: row["ticket_state"],
                                          ticketedAt: ticketedAt.map { Date(unixMilliseconds: $0) })
                }
            }
        }
    }

    public func incident(_ id: IncidentID) async throws(StoreError)
        -> (record: IncidentRecord, timeline: [TimelineEntry])?
    {
        try await runAsync("read incident \(id)") { [pool] in
            try await pool.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM incident WHERE id = ?", arguments: [id.rawValue]),
                      let incident = IncidentRows.incident(row) else { return nil }
                let lines = try Row.fetchAll(db, sql: "SELECT * FROM incident_line WHERE incident_id = ? ORDER BY line, start_at",
                                             arguments: [id.rawValue]).map(IncidentRows.interval)
                let timeline = try Row.fetchAll(db, sql: "SELECT at, kind, detail FROM incident_event WHERE incident_id = ? ORDER BY id",
                                                arguments: [id.rawValue]).map { row in
                    let detail: String = row["detail"]
                    let object = (try? JSONSerialization.jsonObject(with: Data(detail.utf8))) as? [String: Any]
                    return TimelineEntry(at: Date(unixMilliseconds: row["at"]), kind: row["kind"],
                                         detail: object?["text"] as? String ?? detail)
                }
                let record = IncidentRecord(incident: incident, lines: lines, ticketID: row["ticket_id"],
                                            ticketState: row["ticket_state"],
                                            ticketedAt: (row["ticketed_at"] as Int64?).map { Date(unixMilliseconds: $0) })
                return (record, timeline)
            }
        }
    }

    // MARK: operator commands

    public func enqueue(_ command: OperatorCommand, at: Date) async throws(StoreError) -> Int64 {
        let (kind, payload) = CommandCoding.encode(command)
        return try await runAsync("queue \(kind) command") { [pool] in
            try await pool.write { db in
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
    }

    public func pendingCommands(limit: Int) async throws(StoreError) -> [QueuedCommand] {
        try await runAsync("read pending commands") { [pool] in
            try await pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT * FROM operator_command WHERE processed_at IS NULL ORDER BY id LIMIT ?
                    """, arguments: [limit]).map { row in
                    let decoded = CommandCoding.decode(kind: row["kind"], payload: row["payload"])
                    return QueuedCommand(id: row["id"], createdAt: Date(unixMilliseconds: row["created_at"]),
                                         command: decoded.command, problem: decoded.problem)
                }
            }
        }
    }

    public func maintenanceWindows() async throws(StoreError) -> [MaintenanceWindow] {
        try await runAsync("read maintenance windows") { [pool] in
            try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM maintenance_window WHERE source = 'operator' ORDER BY start_at, id")
                    .map { row in
                        MaintenanceWindow(id: MaintenanceID(row["id"] as String),
                                          start: Date(unixMilliseconds: row["start_at"]),
                                          end: Date(unixMilliseconds: row["end_at"]),
                                          elements: CommandCoding.strings(row["elements"]).map { ElementID($0) },
                                          lines: CommandCoding.strings(row["lines"]).map { LineID($0) },
                                          reason: row["reason"])
                    }
            }
        }
    }
}

/// Writes one incident change inside the batch's transaction.
struct IncidentWriter {
    let db: Database
    let hooks: [Hook]
    let at: Date

    func apply(_ change: IncidentChange) throws {
        let incident = change.incident
        let id = incident.id.rawValue
        try db.execute(sql: """
            INSERT INTO incident (id, state, root_type, root_id, root_kind, severity, planned, proactive, flapping,
                                  classification, started_at, detected_at, first_call_at, acknowledged_at,
                                  resolved_at, merged_into, updated_at, group_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                state = excluded.state, root_type = excluded.root_type, root_id = excluded.root_id,
                root_kind = excluded.root_kind, severity = excluded.severity, planned = excluded.planned,
                proactive = excluded.proactive, flapping = excluded.flapping,
                classification = excluded.classification, started_at = excluded.started_at,
                detected_at = excluded.detected_at, first_call_at = excluded.first_call_at,
                acknowledged_at = excluded.acknowledged_at, resolved_at = excluded.resolved_at,
                merged_into = excluded.merged_into, updated_at = excluded.updated_at, group_key = excluded.group_key
            """, arguments: [
                id, incident.state.rawValue, incident.root.subject.kind, incident.root.subject.identifier,
                incident.root.kind.rawValue, incident.severity.rawValue, incident.planned, incident.proactive,
                incident.flapping, incident.classification.rawValue, incident.startedAt.unixMilliseconds,
                incident.detectedAt.unixMilliseconds, incident.firstCallAt?.unixMilliseconds,
                incident.acknowledgedAt?.unixMilliseconds, incident.resolvedAt?.unixMilliseconds,
                incident.mergedInto?.rawValue, incident.updatedAt.unixMilliseconds, incident.group,
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

    func announce(_ change: IncidentChange) throws {
        let id = change.incident.id.rawValue
        for event in change.announce {
            let subscribed = hooks.filter { $0.events.contains(event) }
            guard !subscribed.isEmpty else { continue }
            let payload = try payload(for: change, event: event)
            for hook in subscribed {
                // OR IGNORE: the unique index keeps one `open` per incident and hook, whatever happens.
                try db.execute(sql: """
                    INSERT OR IGNORE INTO ticket_outbox (incident_id, hook, event, payload, created_at, next_attempt_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [id, hook.id.rawValue, event.rawValue, payload, at.unixMilliseconds,
                                     at.unixMilliseconds])
            }
        }
    }

    /// What a hook template gets: the incident as it stands after the change.
    func payload(for change: IncidentChange, event: Hook.Event) throws -> String {
        let incident = change.incident
        let id = incident.id.rawValue
        let lines = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT line) FROM incident_line WHERE incident_id = ?",
                                     arguments: [id]) ?? 0
        let customers = try Int.fetchOne(db, sql: """
            SELECT COUNT(DISTINCT customer) FROM incident_line WHERE incident_id = ?
            """, arguments: [id]) ?? 0
        let merged = try Int64.fetchAll(db, sql: "SELECT id FROM incident WHERE merged_into = ? ORDER BY id",
                                        arguments: [id])
        var object: [String: Any] = [
            "event": event.rawValue, "change": change.kind.rawValue, "id": id, "state": incident.state.rawValue,
            "root": ["type": incident.root.subject.kind, "id": incident.root.subject.identifier,
                     "kind": incident.root.kind.rawValue],
            "severity": incident.severity.rawValue, "lines": lines, "customers": customers,
            "classification": incident.classification.rawValue, "flapping": incident.flapping,
            "started_at": RFC3339.format(incident.startedAt), "detected_at": RFC3339.format(incident.detectedAt),
            "merged": merged,
            "summary": change.timeline.map(\.detail).joined(separator: "\n"),
        ]
        object["resolved_at"] = incident.resolvedAt.map(RFC3339.format) ?? NSNull()
        object["merged_into"] = incident.mergedInto.map { $0.rawValue as Any } ?? NSNull()
        return CommandCoding.json(object)
    }
}

/// Reading incident rows back.
enum IncidentRows {
    static func incident(_ row: Row) -> Incident? {
        guard let subject = SQLiteStore.subject(type: row["root_type"], id: row["root_id"]),
              let kind = RootKind(rawValue: row["root_kind"]) else { return nil }
        return Incident(
            id: IncidentID(row["id"]), state: Incident.State(rawValue: row["state"]) ?? .open,
            root: IncidentRoot(subject: subject, kind: kind), group: (row["group_key"] as String?) ?? "",
            severity: Severity(rawValue: row["severity"]) ?? .warning, planned: row["planned"],
            proactive: row["proactive"], flapping: row["flapping"],
            classification: Classification(rawValue: row["classification"]) ?? .network,
            startedAt: Date(unixMilliseconds: row["started_at"]), detectedAt: Date(unixMilliseconds: row["detected_at"]),
            firstCallAt: (row["first_call_at"] as Int64?).map { Date(unixMilliseconds: $0) },
            acknowledgedAt: (row["acknowledged_at"] as Int64?).map { Date(unixMilliseconds: $0) },
            resolvedAt: (row["resolved_at"] as Int64?).map { Date(unixMilliseconds: $0) },
            mergedInto: (row["merged_into"] as Int64?).map { IncidentID($0) },
            updatedAt: Date(unixMilliseconds: row["updated_at"]))
    }

    static func interval(_ row: Row) -> LineInterval {
        LineInterval(line: LineID(row["line"] as String), customer: CustomerID(row["customer"] as String),
                     start: Date(unixMilliseconds: row["start_at"]),
                     end: (row["end_at"] as Int64?).map { Date(unixMilliseconds: $0) })
    }

    static func fault(_ row: Row) -> FaultRecord? {
        guard let subject = SQLiteStore.subject(type: row["subject_type"], id: row["subject_id"]) else { return nil }
        return FaultRecord(subject: subject, health: Health(rawValue: row["kind"]) ?? .down,
                           since: Date(unixMilliseconds: row["started_at"]),
                           detectedAt: Date(unixMilliseconds: row["detected_at"]),
                           clearedAt: (row["cleared_at"] as Int64?).map { Date(unixMilliseconds: $0) },
                           flapping: (row["flapping"] as Bool?) ?? false)
    }
}

/// RFC 3339 in UTC with milliseconds, as every Forewarn output writes instants.
public enum RFC3339 {
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
