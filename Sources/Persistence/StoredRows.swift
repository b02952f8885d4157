import Foundation
import ForewarnModel

/// A stored value that this version cannot read: an unknown enum value, a missing column. Reads
/// are strict: such a row is an error naming the table and row, never silently a default (a
/// classification read as `network` would pay a credit).
public struct StoredValueError: Error, CustomStringConvertible {
    public var table: String
    public var key: String
    public var problem: String

    public init(table: String, key: String, problem: String) {
        (self.table, self.key, self.problem) = (table, key, problem)
    }

    public var description: String { "table \(table), \(key): \(problem)" }
}

/// One row of one table, read strictly. Each store reads its own primitive values; the records
/// are made from them once, here, for every store (`StoredRows`).
public protocol StoredRow {
    var table: String { get }
    /// How the row is named in a message.
    var key: String { get }
    func int64(_ column: String) throws -> Int64
    func optionalInt64(_ column: String) throws -> Int64?
    func text(_ column: String) throws -> String
    func optionalText(_ column: String) throws -> String?
    func bool(_ column: String) throws -> Bool
}

extension StoredRow {
    public func fail(_ problem: String) -> StoredValueError { StoredValueError(table: table, key: key, problem: problem) }

    public func int(_ column: String) throws -> Int { Int(try int64(column)) }

    public func date(_ column: String) throws -> Date { Date(unixMilliseconds: try int64(column)) }

    public func optionalDate(_ column: String) throws -> Date? { try optionalInt64(column).map { Date(unixMilliseconds: $0) } }

    public func choice<E: RawRepresentable & CaseIterable>(_ column: String, _ type: E.Type) throws -> E
    where E.RawValue == String {
        let text = try text(column)
        guard let choice = E(rawValue: text) else {
            throw fail("unknown \(column) '\(text)' (known: \(E.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return choice
    }

    /// A JSON array of strings in a column; anything else is an error naming the row.
    public func strings(_ column: String) throws -> [String] {
        guard let strings = CommandCoding.strings(try text(column)) else {
            throw fail("column \(column) is not a JSON array of strings")
        }
        return strings
    }

    public func subject(type typeColumn: String, id idColumn: String) throws -> Subject {
        let type = try text(typeColumn)
        let id = try text(idColumn)
        guard let subject = StoredRows.subject(type: type, id: id) else {
            throw fail(["element", "port", "line"].contains(type) ? "\(idColumn) '\(id)' is not ELEMENT/PORT"
                                                                    : "unknown \(typeColumn) '\(type)'")
        }
        return subject
    }
}

/// The records every store reads back, made from stored rows the same way in each.
public enum StoredRows {
    /// The columns an incident header is read from, in this order.
    public static let headerColumnNames = ["id", "state", "root_type", "root_id", "root_kind", "group_key", "severity",
                                           "planned", "proactive", "flapping", "classification", "started_at", "detected_at",
                                           "first_call_at", "acknowledged_at", "resolved_at", "merged_into", "updated_at",
                                           "entered_by", "entered_at"]
    public static let headerColumns = headerColumnNames.joined(separator: ", ")

    /// The `ticket_outbox` rows in `state` (the same SQL in both stores' dialects).
    public static func outboxCondition(_ state: OutboxItem.State) -> String {
        switch state {
        case .pending: "delivered_at IS NULL AND failed_at IS NULL"
        case .delivered: "delivered_at IS NOT NULL"
        case .dead: "delivered_at IS NULL AND failed_at IS NOT NULL"
        }
    }

    public static func subject(type: String, id: String) -> Subject? {
        switch type {
        case "element": return .element(ElementID(id))
        case "line": return .line(LineID(id))
        case "port":
            guard let slash = id.firstIndex(of: "/"), let port = PortReference(id[id.index(after: slash)...]) else { return nil }
            return .port(ElementID(String(id[..<slash])), port)
        default: return nil
        }
    }

    public static func incident(_ row: some StoredRow) throws -> Incident {
        Incident(
            id: IncidentID(try row.int64("id")), state: try row.choice("state", Incident.State.self),
            root: IncidentRoot(subject: try row.subject(type: "root_type", id: "root_id"),
                               kind: try row.choice("root_kind", RootKind.self)),
            group: try row.text("group_key"),
            severity: try row.choice("severity", Severity.self), planned: try row.bool("planned"),
            proactive: try row.bool("proactive"), flapping: try row.bool("flapping"),
            classification: try row.choice("classification", Classification.self),
            startedAt: try row.date("started_at"), detectedAt: try row.date("detected_at"),
            firstCallAt: try row.optionalDate("first_call_at"), acknowledgedAt: try row.optionalDate("acknowledged_at"),
            resolvedAt: try row.optionalDate("resolved_at"), mergedInto: try row.optionalInt64("merged_into").map { IncidentID($0) },
            updatedAt: try row.date("updated_at"), enteredBy: try row.optionalText("entered_by"),
            enteredAt: try row.optionalDate("entered_at"))
    }

    public static func interval(_ row: some StoredRow) throws -> LineInterval {
        LineInterval(line: LineID(try row.text("line")), customer: CustomerID(try row.text("customer")),
                     start: try row.date("start_at"), end: try row.optionalDate("end_at"))
    }

    public static func fault(_ row: some StoredRow) throws -> FaultRecord {
        FaultRecord(subject: try row.subject(type: "subject_type", id: "subject_id"), health: try row.choice("kind", Health.self),
                    since: try row.date("started_at"), detectedAt: try row.date("detected_at"),
                    clearedAt: try row.optionalDate("cleared_at"), flapping: try row.bool("flapping"))
    }

    public static func ticket(_ row: some StoredRow) throws -> Ticket {
        Ticket(incident: IncidentID(try row.int64("incident_id")), hook: HookID(try row.text("hook")),
               ticketID: try row.text("ticket_id"), state: try row.optionalText("state"),
               openedAt: try row.date("opened_at"), updatedAt: try row.date("updated_at"))
    }

    public static func transition(_ row: some StoredRow) throws -> StateTransition {
        StateTransition(subject: try row.subject(type: "subject_type", id: "subject_id"),
                        from: try row.choice("from_state", Health.self), to: try row.choice("to_state", Health.self),
                        at: try row.date("at"), evidence: try row.text("evidence"))
    }

    public static func outboxItem(_ row: some StoredRow) throws -> OutboxItem {
        let deliveredAt = try row.optionalDate("delivered_at")
        let failedAt = try row.optionalDate("failed_at")
        let entry = OutboxEntry(incident: IncidentID(try row.int64("incident_id")), hook: HookID(try row.text("hook")),
                                event: try row.choice("event", Hook.Event.self), payload: try row.text("payload"))
        let outcome = try row.optionalText("outcome").map { text -> OutboxItem.Outcome in
            guard let outcome = OutboxItem.Outcome(rawValue: text) else { throw row.fail("unknown outcome '\(text)'") }
            return outcome
        }
        return OutboxItem(id: try row.int64("id"), entry: entry,
                          state: deliveredAt != nil ? .delivered : (failedAt != nil ? .dead : .pending),
                          outcome: outcome, createdAt: try row.date("created_at"), attempts: try row.int("attempts"),
                          nextAttemptAt: try row.date("next_attempt_at"), deliveredAt: deliveredAt,
                          failedAt: failedAt, lastError: try row.optionalText("last_error"),
                          uncertain: try row.bool("uncertain"))
    }

    public static func ledgerEntry(_ row: some StoredRow) throws -> LedgerEntry {
        let incidentText = try row.text("incident_ids")
        let incidents = try incidentText.split(separator: " ").map { text in
            guard let id = Int64(text) else { throw row.fail("column incident_ids holds '\(incidentText)'") }
            return IncidentID(id)
        }
        return LedgerEntry(period: try row.text("period"), line: LineID(try row.text("line")),
                           customer: CustomerID(try row.text("customer")), contract: ContractID(try row.text("contract")),
                           kind: try row.choice("kind", LedgerEntry.Kind.self),
                           amount: Money(minorUnits: try row.int64("amount_minor"), currency: try row.text("currency")),
                           outageMilliseconds: try row.int64("outage_ms"), reason: try row.text("reason"),
                           createdAt: try row.date("created_at"), adjusts: try row.optionalText("adjusts_period"),
                           incidents: incidents)
    }

    public static func maintenanceWindow(_ row: some StoredRow) throws -> MaintenanceWindow {
        MaintenanceWindow(id: MaintenanceID(try row.text("id")), start: try row.date("start_at"), end: try row.date("end_at"),
                          elements: try row.strings("elements").map { ElementID($0) },
                          lines: try row.strings("lines").map { LineID($0) }, reason: try row.text("reason"))
    }

    public static func queuedCommand(_ row: some StoredRow) throws -> QueuedCommand {
        // A command this version cannot read is handed over with the reason, and refused.
        let decoded = CommandCoding.decode(kind: try row.text("kind"), payload: try row.text("payload"))
        return QueuedCommand(id: try row.int64("id"), createdAt: try row.date("created_at"), command: decoded.command,
                             problem: decoded.problem)
    }
}
