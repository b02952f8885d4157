import ForewarnModel
import Logging
import Persistence
import PostgresNIO

/// Writes a batch's incident changes inside its transaction with a few statements for a whole
/// run of changes rather than several for each change: a burst settles as thousands of changes
/// (incidents of a line or two opened, then merged into the root's), and a round trip per row
/// would keep the correlator waiting far longer than the rows take to write.
///
/// Each run is written phase by phase — headers, lines found unaffected, lines, faults,
/// timeline, merges — where one change after another writes every phase of each change in
/// turn. The rows come out the same, in the same order, because a run holds only changes that
/// do not see each other's work (`Run.admits`); the next change that would starts the next run.
/// (A fault written twice by one change is one row written once: its identity sequence skips
/// one value fewer.)
struct PostgresIncidentWriter {
    let connection: PostgresConnection
    let logger: Logger

    /// An open end (or any absent instant or id) in an array: arrays here carry no NULL element.
    static let absent = Int64.min

    func write(_ changes: [IncidentChange]) async throws {
        var run = Run()
        for change in changes {
            if !run.admits(change) {
                try await write(run)
                run = Run()
            }
            run.add(change)
        }
        try await write(run)
    }

    /// Consecutive changes whose phases may each be written at once.
    struct Run {
        var changes: [IncidentChange] = []
        var incidents: Set<Int64> = []
        /// Merged away in this run, and what they merged into.
        var absorbed: Set<Int64> = []
        var survivors: Set<Int64> = []
        var faults: Set<FaultKey> = []

        /// Not when the change would see this run's work, or this run its own: a second change to
        /// an incident, an incident that something was merged into before its own change, a merge
        /// into an incident merged away in this run or of one merged into, a fault written twice.
        func admits(_ change: IncidentChange) -> Bool {
            let id = change.incident.id.rawValue
            guard !incidents.contains(id), !survivors.contains(id) else { return false }
            if let survivor = change.absorbedInto?.rawValue, absorbed.contains(survivor) { return false }
            return faults.isDisjoint(with: change.faults.map(FaultKey.init))
        }

        mutating func add(_ change: IncidentChange) {
            let id = change.incident.id.rawValue
            changes.append(change)
            incidents.insert(id)
            if let survivor = change.absorbedInto?.rawValue {
                absorbed.insert(id)
                survivors.insert(survivor)
            }
            faults.formUnion(change.faults.map(FaultKey.init))
        }
    }

    /// A fault row's identity (its unique index): subject and start.
    struct FaultKey: Hashable {
        var type: String
        var id: String
        var start: Int64

        init(_ fault: FaultRecord) {
            (type, id, start) = (fault.subject.kind, fault.subject.identifier, fault.since.unixMilliseconds)
        }
    }

    private func write(_ run: Run) async throws {
        guard !run.changes.isEmpty else { return }
        try await headers(run.changes)
        // An interval that ends where it starts is a line found unaffected after all (its probe
        // answered): it leaves the scope rather than staying as an empty outage.
        var unaffected: [(incident: Int64, interval: LineInterval)] = []
        var kept: [(incident: Int64, interval: LineInterval)] = []
        for change in run.changes {
            for interval in change.lines {
                let empty = interval.end.map { $0.unixMilliseconds <= interval.start.unixMilliseconds } ?? false
                if empty {
                    unaffected.append((change.incident.id.rawValue, interval))
                } else {
                    kept.append((change.incident.id.rawValue, interval))
                }
            }
        }
        try await remove(unaffected)
        try await lines(kept)
        try await faults(run.changes)
        try await timeline(run.changes)
        try await merges(run.changes.compactMap { change in
            change.absorbedInto.map { (change.incident.id.rawValue, $0.rawValue) }
        })
    }

    /// An incident's columns after its id, in the order `headers` gives them: each one written
    /// again when the incident is (whatever else a row holds is kept).
    static let headerColumns = [
        "state", "root_type", "root_id", "root_kind", "severity", "planned", "proactive", "flapping", "classification",
        "started_at", "detected_at", "first_call_at", "acknowledged_at", "resolved_at", "merged_into", "updated_at",
        "group_key", "entered_by", "entered_at",
    ]

    private func headers(_ changes: [IncidentChange]) async throws {
        let columns = Self.headerColumns.joined(separator: ", ")
        let replaced = Self.headerColumns.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        for chunk in changes.map(\.incident).chunked(2_000) {
            try await connection.query("""
                INSERT INTO incident (id, \(unescaped: columns))
                SELECT id, state, root_type, root_id, root_kind, severity, planned, proactive, flapping, classification,
                       started_at, detected_at, NULLIF(first_call_at, \(Self.absent)),
                       NULLIF(acknowledged_at, \(Self.absent)), NULLIF(resolved_at, \(Self.absent)),
                       NULLIF(merged_into, \(Self.absent)), updated_at, group_key,
                       CASE WHEN has_entered_by THEN entered_by END, NULLIF(entered_at, \(Self.absent))
                FROM unnest(\(chunk.map(\.id.rawValue)), \(chunk.map(\.state.rawValue)), \(chunk.map(\.root.subject.kind)),
                            \(chunk.map(\.root.subject.identifier)), \(chunk.map(\.root.kind.rawValue)),
                            \(chunk.map(\.severity.rawValue)), \(chunk.map(\.planned)), \(chunk.map(\.proactive)),
                            \(chunk.map(\.flapping)), \(chunk.map(\.classification.rawValue)),
                            \(chunk.map(\.startedAt.unixMilliseconds)), \(chunk.map(\.detectedAt.unixMilliseconds)),
                            \(chunk.map { $0.firstCallAt?.unixMilliseconds ?? Self.absent }),
                            \(chunk.map { $0.acknowledgedAt?.unixMilliseconds ?? Self.absent }),
                            \(chunk.map { $0.resolvedAt?.unixMilliseconds ?? Self.absent }),
                            \(chunk.map { $0.mergedInto?.rawValue ?? Self.absent }),
                            \(chunk.map(\.updatedAt.unixMilliseconds)), \(chunk.map(\.group)),
                            \(chunk.map { $0.enteredBy != nil }), \(chunk.map { $0.enteredBy ?? "" }),
                            \(chunk.map { $0.enteredAt?.unixMilliseconds ?? Self.absent }))
                    AS t(id, state, root_type, root_id, root_kind, severity, planned, proactive, flapping, classification,
                         started_at, detected_at, first_call_at, acknowledged_at, resolved_at, merged_into, updated_at,
                         group_key, has_entered_by, entered_by, entered_at)
                ON CONFLICT (id) DO UPDATE SET \(unescaped: replaced)
                """, logger: logger)
        }
    }

    private func remove(_ unaffected: [(incident: Int64, interval: LineInterval)]) async throws {
        for chunk in unaffected.chunked(5_000) {
            try await connection.query("""
                DELETE FROM incident_line l
                USING unnest(\(chunk.map(\.incident)), \(chunk.map(\.interval.line.rawValue)),
                             \(chunk.map(\.interval.start.unixMilliseconds))) AS u(incident_id, line, start_at)
                WHERE l.incident_id = u.incident_id AND l.line = u.line AND l.start_at = u.start_at
                """, logger: logger)
        }
    }

    private func lines(_ kept: [(incident: Int64, interval: LineInterval)]) async throws {
        for chunk in kept.chunked(5_000) {
            // The last of a line's intervals with one start wins, as one statement per interval would.
            try await connection.query("""
                INSERT INTO incident_line (incident_id, line, customer, start_at, end_at)
                SELECT DISTINCT ON (incident_id, line, start_at) incident_id, line, customer, start_at, end_at
                FROM unnest(\(chunk.map(\.incident)), \(chunk.map(\.interval.line.rawValue)),
                            \(chunk.map(\.interval.customer.rawValue)), \(chunk.map(\.interval.start.unixMilliseconds)),
                            \(chunk.map { $0.interval.end?.unixMilliseconds ?? Self.absent }))
                    WITH ORDINALITY AS t(incident_id, line, customer, start_at, end_raw, n)
                    CROSS JOIN LATERAL (SELECT NULLIF(end_raw, \(Self.absent)) AS end_at) e
                ORDER BY incident_id, line, start_at, n DESC
                ON CONFLICT (incident_id, line, start_at) DO UPDATE SET end_at = excluded.end_at
                """, logger: logger)
        }
    }

    /// Each fault once, in the order first written: as first inserted (its detection), as last
    /// updated (kind, clearing, incident, flapping) — what one statement per fault leaves.
    private func faults(_ changes: [IncidentChange]) async throws {
        var rows: [(fault: FaultRecord, incident: Int64)] = []
        var position: [FaultKey: Int] = [:]
        for change in changes {
            for fault in change.faults {
                let key = FaultKey(fault)
                guard let earlier = position[key] else {
                    position[key] = rows.count
                    rows.append((fault, change.incident.id.rawValue))
                    continue
                }
                rows[earlier].fault.health = fault.health
                rows[earlier].fault.clearedAt = fault.clearedAt
                rows[earlier].fault.flapping = fault.flapping
            }
        }
        for chunk in rows.chunked(2_000) {
            try await connection.query("""
                INSERT INTO fault (subject_type, subject_id, kind, started_at, detected_at, cleared_at, incident_id, flapping)
                SELECT subject_type, subject_id, kind, started_at, detected_at, NULLIF(cleared_at, \(Self.absent)),
                       incident_id, flapping
                FROM unnest(\(chunk.map(\.fault.subject.kind)), \(chunk.map(\.fault.subject.identifier)),
                            \(chunk.map(\.fault.health.rawValue)), \(chunk.map(\.fault.since.unixMilliseconds)),
                            \(chunk.map(\.fault.detectedAt.unixMilliseconds)),
                            \(chunk.map { $0.fault.clearedAt?.unixMilliseconds ?? Self.absent }), \(chunk.map(\.incident)),
                            \(chunk.map(\.fault.flapping)))
                    WITH ORDINALITY AS t(subject_type, subject_id, kind, started_at, detected_at, cleared_at, incident_id,
                                         flapping, n)
                ORDER BY n
                ON CONFLICT (subject_type, subject_id, started_at) DO UPDATE SET
                    kind = excluded.kind, cleared_at = excluded.cleared_at, incident_id = excluded.incident_id,
                    flapping = excluded.flapping
                """, logger: logger)
        }
    }

    private func timeline(_ changes: [IncidentChange]) async throws {
        let entries = changes.flatMap { change in
            change.timeline.map { entry in
                (incident: change.incident.id.rawValue, at: entry.at.unixMilliseconds, kind: entry.kind,
                 detail: CommandCoding.json(["text": entry.detail, "change": change.kind.rawValue]))
            }
        }
        for chunk in entries.chunked(5_000) {
            try await connection.query("""
                INSERT INTO incident_event (incident_id, at, kind, detail)
                SELECT i, a, k, d FROM unnest(\(chunk.map(\.incident)), \(chunk.map(\.at)), \(chunk.map(\.kind)),
                                               \(chunk.map(\.detail)))
                    WITH ORDINALITY AS t(i, a, k, d, n)
                ORDER BY n
                """, logger: logger)
        }
    }

    /// Each merged incident's lines, faults and customer calls to the one it merged into; a line
    /// the survivor already has keeps the survivor's interval (the first merged in, else).
    private func merges(_ merged: [(from: Int64, into: Int64)]) async throws {
        for chunk in merged.chunked(5_000) {
            let from = chunk.map(\.from)
            let into = chunk.map(\.into)
            try await connection.query("""
                INSERT INTO incident_line (incident_id, line, customer, start_at, end_at)
                SELECT m.into_id, l.line, l.customer, l.start_at, l.end_at
                FROM unnest(\(from), \(into)) WITH ORDINALITY AS m(from_id, into_id, n)
                    JOIN incident_line l ON l.incident_id = m.from_id
                ORDER BY m.n
                ON CONFLICT DO NOTHING
                """, logger: logger)
            try await connection.query("DELETE FROM incident_line WHERE incident_id = ANY(\(from))", logger: logger)
            try await connection.query("""
                UPDATE fault f SET incident_id = m.into_id FROM unnest(\(from), \(into)) AS m(from_id, into_id)
                WHERE f.incident_id = m.from_id
                """, logger: logger)
            try await connection.query("""
                UPDATE customer_report r SET incident_id = m.into_id FROM unnest(\(from), \(into)) AS m(from_id, into_id)
                WHERE r.incident_id = m.from_id
                """, logger: logger)
        }
    }
}
