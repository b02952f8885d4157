import Foundation
import ForewarnModel
import Persistence

/// What `forewarn status` shows: the daemons' heartbeats and what they monitor.
public struct StatusReport: Sendable, Encodable {
    public struct Daemon: Sendable, Encodable {
        public var instance: String
        public var pid: Int32
        public var hostname: String
        public var version: String
        public var state: String
        public var config: String
        public var startedAt: String
        public var heartbeatAt: String
        public var heartbeatAgeSeconds: Double
        public var alive: Bool
        public var inventory: [String: Int]

        enum CodingKeys: String, CodingKey {
            case instance, pid, hostname, version, state, config, alive, inventory
            case startedAt = "started_at", heartbeatAt = "heartbeat_at", heartbeatAgeSeconds = "heartbeat_age_seconds"
        }
    }

    /// Open incidents at a glance; `forewarn incidents` lists them.
    public struct OpenIncidents: Sendable, Encodable {
        public var open: Int
        /// In a maintenance window: no ticket, no credit.
        public var planned: Int
        public var bySeverity: [String: Int]

        enum CodingKeys: String, CodingKey {
            case open, planned
            case bySeverity = "by_severity"
        }
    }

    /// The ticket outbox per hook: entries waiting, the oldest one's age, dead letters.
    public struct Tickets: Sendable, Encodable {
        public var hook: String
        public var pending: Int
        public var oldestPendingSeconds: Double?
        public var dead: Int

        enum CodingKeys: String, CodingKey {
            case hook, pending, dead
            case oldestPendingSeconds = "oldest_pending_seconds"
        }
    }

    public var store: String
    public var generatedAt: String
    public var daemons: [Daemon]
    public var incidents: OpenIncidents
    public var tickets: [Tickets]

    enum CodingKeys: String, CodingKey {
        case store, daemons, incidents, tickets
        case generatedAt = "generated_at"
    }

    /// A daemon counts as alive while its last beat is younger than this many heartbeat periods.
    public static let staleAfter: TimeInterval = 30

    public init(store: any HeartbeatStore & IncidentStore & TicketOutboxStore, now: Date = Date()) async throws(StoreError) {
        self.store = store.location
        generatedAt = RFC3339.format(now)
        daemons = try await store.heartbeats().map { beat in
            let age = max(0, now.timeIntervalSince(beat.beatAt))
            return Daemon(instance: beat.instance, pid: beat.pid, hostname: beat.hostname, version: beat.version,
                          state: beat.state.rawValue, config: beat.configPath,
                          startedAt: RFC3339.format(beat.startedAt), heartbeatAt: RFC3339.format(beat.beatAt),
                          heartbeatAgeSeconds: (age * 10).rounded() / 10,
                          alive: beat.state != .stopped && beat.state != .failed && age < Self.staleAfter,
                          inventory: ["elements": beat.elements, "lines": beat.lines, "customers": beat.customers,
                                      "contracts": beat.contracts])
        }
        let open = try await store.incidents(openOnly: true, since: nil).map(\.incident)
        incidents = OpenIncidents(open: open.count, planned: open.filter(\.planned).count,
                                  bySeverity: Dictionary(grouping: open, by: \.severity.rawValue).mapValues(\.count))
        tickets = try await store.outboxBacklog().map { backlog in
            Tickets(hook: backlog.hook.rawValue, pending: backlog.pending,
                    oldestPendingSeconds: backlog.oldestPending.map { (max(0, now.timeIntervalSince($0)) * 10).rounded() / 10 },
                    dead: backlog.dead)
        }
    }

    public var anyAlive: Bool { daemons.contains(where: \.alive) }

    public var text: String {
        var lines = ["store: \(store)"]
        if daemons.isEmpty { lines.append("no daemon has written a heartbeat to this store") }
        for daemon in daemons {
            var health = daemon.alive ? "alive" : (daemon.state == "stopped" ? "stopped" : "NOT RESPONDING")
            if daemon.state == Heartbeat.State.failed.rawValue { health = "FAILED (stopped on an error; its log says which)" }
            if daemon.alive && daemon.state == Heartbeat.State.degraded.rawValue {
                health = "alive but DEGRADED (some writes to this store fail; its log and /healthz say which)"
            }
            lines.append("daemon \(daemon.instance) (pid \(daemon.pid), \(daemon.version)): \(health), "
                         + "state \(daemon.state), last heartbeat \(daemon.heartbeatAgeSeconds) s ago (\(daemon.heartbeatAt))")
            let inventory = daemon.inventory
            func count(_ key: String, _ noun: String) -> String {
                let number = inventory[key] ?? 0
                return "\(number) \(noun)\(number == 1 ? "" : "s")"
            }
            lines.append("  monitoring \(count("elements", "element")), \(count("lines", "line")), "
                         + "\(count("customers", "customer")), \(count("contracts", "contract")) from \(daemon.config)")
        }
        var summary = "incidents: \(incidents.open) open"
        if incidents.open > 0 {
            let severities = Severity.allCases.reversed().compactMap { severity in
                incidents.bySeverity[severity.rawValue].map { "\($0) \(severity.rawValue)" }
            }
            summary += " (" + (severities + (incidents.planned > 0 ? ["\(incidents.planned) planned"] : []))
                .joined(separator: ", ") + ")"
        }
        lines.append(summary)
        for backlog in tickets {
            var text = "tickets \(backlog.hook): \(backlog.pending) waiting"
            if let age = backlog.oldestPendingSeconds { text += " (oldest \(age) s)" }
            if backlog.dead > 0 { text += ", \(backlog.dead) DEAD LETTER\(backlog.dead == 1 ? "" : "S") (forewarn outbox --dead)" }
            lines.append(text)
        }
        return lines.joined(separator: "\n")
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
