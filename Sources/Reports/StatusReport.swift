import Foundation
import ForewarnModel
import Persistence

/// What `forewarn status` and `GET /api/v1/status` show: the daemon and its collection health,
/// the open incidents most severe first, the ticket outbox, credits of the month to date and the
/// quarter's KPIs. Pure: made from `StatusInputs` at an injected `now`, tested without a daemon.
public struct StatusReport: Sendable {
    public struct Daemon: Sendable, Hashable {
        public var heartbeat: Heartbeat
        public var ageSeconds: Double
        public var uptimeSeconds: Double
        /// A heartbeat older than this is stale: the daemon is not running, whatever its state says.
        public var staleAfterSeconds: Double
        /// Sharing a PostgreSQL store: its role and share as its last cluster beat said.
        public var member: ClusterMember?
        public var stale: Bool { ageSeconds >= staleAfterSeconds }
        /// Running (or degraded) with a fresh heartbeat.
        public var alive: Bool {
            !stale && heartbeat.state != .stopped && heartbeat.state != .failed
        }
    }

    /// One open incident as the NOC needs it at a glance.
    public struct OpenIncident: Sendable, Hashable {
        public var incident: Incident
        /// Lines in scope now (their interval has not ended), and ever in this incident.
        public var linesOut: Int
        public var linesInScope: Int
        /// Customers of the lines out now.
        public var customersOut: Int
        public var ageSeconds: Int64
        public var acknowledgedBy: String?
        public var ticket: Ticket?
        public var delivery: Delivery

        /// Detected before any customer called, or reported by one first.
        public var origin: String { incident.proactive ? "proactive" : "customer-reported" }
    }

    /// Where the incident's announcements to the ticketing hooks stand.
    public enum Delivery: String, Sendable, Hashable {
        /// A hook gave up on one of its entries: `forewarn outbox --dead`.
        case dead
        /// Entries waiting (or being retried).
        case pending
        /// Everything sent, and a ticket came back.
        case delivered
        /// No hook announced it (no hook configured, or none routes it).
        case none
    }

    public var store: String
    public var now: Date
    public var daemons: [Daemon]
    public var incidents: [OpenIncident]
    public var backlog: [OutboxBacklog]
    public var credits: MonthCredits?
    public var kpis: QuarterKPIs?
    public var accountedAt: Date?
    /// Why credits or KPIs are missing (no configuration readable), for the reader.
    public var notes: [String]

    /// A heartbeat counts as stale after this long at least, or three heartbeat intervals.
    public static let staleAfter: TimeInterval = 30

    public init(_ inputs: StatusInputs) {
        store = inputs.store
        now = inputs.now
        daemons = inputs.heartbeats.map { beat in
            let interval = beat.interval.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? 0
            return Daemon(heartbeat: beat, ageSeconds: Self.tenths(inputs.now.timeIntervalSince(beat.beatAt)),
                          uptimeSeconds: Self.tenths(beat.beatAt.timeIntervalSince(beat.startedAt)),
                          staleAfterSeconds: max(Self.staleAfter, 3 * interval),
                          member: inputs.members.first { $0.instance == beat.instance })
        }
        incidents = inputs.incidents.map { record in
            let open = record.lines.filter { $0.end == nil }
            let id = record.incident.id
            let delivery: Delivery = inputs.deadEntries[id, default: 0] > 0 ? .dead
                : inputs.pendingEntries[id, default: 0] > 0 ? .pending
                : record.ticket != nil ? .delivered : .none
            return OpenIncident(incident: record.incident, linesOut: Set(open.map(\.line)).count,
                                linesInScope: Set(record.lines.map(\.line)).count,
                                customersOut: Set(open.map(\.customer)).count,
                                ageSeconds: max(0, Int64(inputs.now.timeIntervalSince(record.incident.startedAt))),
                                acknowledgedBy: inputs.acknowledgedBy[id], ticket: record.ticket, delivery: delivery)
        }.sorted(by: Self.moreUrgent)
        backlog = inputs.backlog.sorted { $0.hook.rawValue < $1.hook.rawValue }
        credits = inputs.credits
        kpis = inputs.kpis
        accountedAt = inputs.accountedAt ?? inputs.now
        notes = inputs.notes
    }

    /// Most severe first; planned (maintenance) after the rest; then the most lines out, the oldest.
    static func moreUrgent(_ left: OpenIncident, _ right: OpenIncident) -> Bool {
        if left.incident.planned != right.incident.planned { return !left.incident.planned }
        if left.incident.severity != right.incident.severity { return left.incident.severity > right.incident.severity }
        if left.linesOut != right.linesOut { return left.linesOut > right.linesOut }
        if left.incident.startedAt != right.incident.startedAt { return left.incident.startedAt < right.incident.startedAt }
        return left.incident.id < right.incident.id
    }

    static func tenths(_ seconds: TimeInterval) -> Double { (max(0, seconds) * 10).rounded() / 10 }

    /// Collection health: the current daemon's; sharing a store, every live instance's share
    /// added up (the newest trap of any).
    public var collection: CollectionHealth? {
        let shares = daemons.filter { $0.alive && $0.member != nil }.compactMap(\.heartbeat.collection)
        guard shares.count > 1 else { return current?.heartbeat.collection }
        return shares.dropFirst().reduce(shares[0]) { sum, share in
            CollectionHealth(elementsReachable: sum.elementsReachable + share.elementsReachable,
                             elementsUnreachable: sum.elementsUnreachable + share.elementsUnreachable,
                             elementsNotPolled: sum.elementsNotPolled + share.elementsNotPolled,
                             linesUp: sum.linesUp + share.linesUp, linesDown: sum.linesDown + share.linesDown,
                             linesDegraded: sum.linesDegraded + share.linesDegraded,
                             linesUnknown: sum.linesUnknown + share.linesUnknown,
                             linesUnprobed: sum.linesUnprobed + share.linesUnprobed,
                             pollsPerSecond: sum.pollsPerSecond + share.pollsPerSecond,
                             probesPerSecond: sum.probesPerSecond + share.probesPerSecond,
                             trapsPerSecond: sum.trapsPerSecond + share.trapsPerSecond,
                             lastTrapAt: [sum.lastTrapAt, share.lastTrapAt].compactMap { $0 }.max(),
                             snmpTimeouts: sum.snmpTimeouts + share.snmpTimeouts)
        }
    }

    /// The instance running the correlator, when the store is shared and one does.
    public var correlator: String? {
        daemons.first { $0.alive && $0.member?.role == .correlator && !($0.member?.leaving ?? false) }?.heartbeat.instance
    }

    /// Some daemon is alive: `status` exits 0, else 3.
    public var anyAlive: Bool { daemons.contains(where: \.alive) }

    /// The daemon whose collection health is shown: the first alive, else the newest heartbeat.
    public var current: Daemon? { daemons.first(where: \.alive) ?? daemons.first }

    public var outboxPending: Int { backlog.reduce(0) { $0 + $1.pending } }
    public var outboxDead: Int { backlog.reduce(0) { $0 + $1.dead } }

    public var openBySeverity: [Severity: Int] {
        Dictionary(grouping: incidents.filter { !$0.incident.planned }, by: \.incident.severity).mapValues(\.count)
    }
}

/// Everything the live status is made of, read from the store (and from Billing and the KPIs,
/// which the caller computes) at one instant.
public struct StatusInputs: Sendable {
    public var store: String
    public var now: Date
    public var heartbeats: [Heartbeat]
    /// The instances sharing the store (a PostgreSQL store), by their cluster beats; empty alone.
    public var members: [ClusterMember] = []
    /// The open incidents.
    public var incidents: [IncidentRecord]
    /// Who acknowledged each open incident (from its timeline), when known.
    public var acknowledgedBy: [IncidentID: String]
    /// Undelivered outbox entries per incident: waiting, and given up on.
    public var pendingEntries: [IncidentID: Int]
    public var deadEntries: [IncidentID: Int]
    public var backlog: [OutboxBacklog]
    public var credits: MonthCredits?
    public var kpis: StatusReport.QuarterKPIs?
    /// When credits and KPIs were computed (they may be reused for a minute).
    public var accountedAt: Date?
    public var notes: [String]

    public init(store: String, now: Date, heartbeats: [Heartbeat], incidents: [IncidentRecord] = [],
                acknowledgedBy: [IncidentID: String] = [:], pendingEntries: [IncidentID: Int] = [:],
                deadEntries: [IncidentID: Int] = [:], backlog: [OutboxBacklog] = [], credits: MonthCredits? = nil,
                kpis: StatusReport.QuarterKPIs? = nil, notes: [String] = []) {
        (self.store, self.now, self.heartbeats, self.incidents) = (store, now, heartbeats, incidents)
        (self.acknowledgedBy, self.pendingEntries, self.deadEntries) = (acknowledgedBy, pendingEntries, deadEntries)
        (self.backlog, self.credits, self.kpis, self.notes) = (backlog, credits, kpis, notes)
    }

    /// At most this many undelivered entries are read to tell each incident's delivery state.
    public static let outboxReadLimit = 10_000

    /// The store's part: heartbeats, open incidents with who acknowledged them, the outbox.
    public static func read(from store: any HeartbeatStore & IncidentStore & TicketOutboxStore,
                            now: Date) async throws(StoreError) -> StatusInputs {
        let heartbeats = try await store.heartbeats()
        let open = try await store.incidents(openOnly: true, since: nil)
        var acknowledgedBy: [IncidentID: String] = [:]
        for record in open where record.incident.acknowledgedAt != nil {
            guard let detail = try await store.incident(record.incident.id) else { continue }
            if let by = acknowledger(detail.timeline) { acknowledgedBy[record.incident.id] = by }
        }
        var pending: [IncidentID: Int] = [:]
        for item in try await store.outbox(.pending, limit: outboxReadLimit) { pending[item.entry.incident, default: 0] += 1 }
        var dead: [IncidentID: Int] = [:]
        for item in try await store.outbox(.dead, limit: outboxReadLimit) { dead[item.entry.incident, default: 0] += 1 }
        var inputs = StatusInputs(store: store.location, now: now, heartbeats: heartbeats, incidents: open,
                                  acknowledgedBy: acknowledgedBy, pendingEntries: pending, deadEntries: dead,
                                  backlog: try await store.outboxBacklog())
        if let cluster = store as? any ClusterStore { inputs.members = try await cluster.members() }
        return inputs
    }

    /// The operator named by the first acknowledgement of a timeline (`acknowledged by NAME`).
    static func acknowledger(_ timeline: [TimelineEntry]) -> String? {
        guard let entry = timeline.first(where: { $0.kind == "acknowledged" }) else { return nil }
        guard let range = entry.detail.range(of: "acknowledged by ") else { return nil }
        let name = entry.detail[range.upperBound...].trimmingCharacters(in: .whitespaces)
        return name.isEmpty ? nil : name
    }
}
