import ForewarnModel
import Foundation

/// The decision half of Forewarn: observations in, incident changes and confirmation requests
/// out. Pure and synchronous: no I/O, no clock of its own. Time comes in as `now` on every call,
/// an instant of whatever clock the caller runs on; wall-clock dates are derived from it through
/// the epoch given at creation, so a scripted timeline on a virtual clock gives the same dates
/// every run.
///
/// Decisions wait for the hold-down: a new fault is held while its parent is confirmed (a
/// confirmation request goes out at once), then settled with everything known by then, parents
/// before children. A fault whose parent already has an incident joins it at once.
public struct Correlator<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Duration {
    public let topology: Topology
    public let settings: CorrelationSettings
    let epochInstant: Instant
    let epochSeconds: Double

    // Faults by subject, and the hold-down queue (deadlines only grow: one FIFO suffices).
    var faults: FaultTable
    var dueQueue: [(deadline: Instant, key: FaultKey, slot: Int)] = []
    var dueCount = 0
    var dueHead = 0
    var flappingKeys: Set<FaultKey> = []
    var flapHistory: [FaultKey: [Double]] = [:]
    var lastFlapPrune = -Double.infinity
    /// Pending faults waiting for a parent's confirmation, by parent element.
    var waiting: [Int32: [FaultKey]] = [:]
    var confirmedUp: [Int32: Double] = [:]
    var lastRequest: [ConfirmationRequest: Instant] = [:]

    // Per line (dense): the incident holding an open interval (0: none), its start, the last
    // explicit "up" evidence.
    var lineIncident: [Int64]
    var lineStart: [Double]
    var lineUpSince: [Double]
    /// The incident a line last left, and when: a line fault dated before that end began while
    /// the line was in that incident's scope (its probe's verdict came after its root cleared).
    var lineLastIncident: [Int64]
    var lineLastEnd: [Double]
    var lineLastStart: [Double]

    // Cut-off roots per element, cached until an element fault changes.
    var cutCache: [Int32]
    var cutCacheValid = false
    /// Per element that is its own root: the upstream whose forwarding failure it is part of
    /// (-1: none). Cleared with `cutCache`.
    var forwardingCache: [Int32: Int32] = [:]

    var open: [IncidentID: OpenIncident] = [:]
    /// Open incidents entered by hand: apart from the detected ones (monitoring neither extends
    /// nor ends them, nothing merges into them).
    var manual: [IncidentID: ManualOpenIncident] = [:]
    var openByKey: [GroupKey: IncidentID] = [:]
    var byAnchor: [Int32: Set<IncidentID>] = [:]
    /// Recently resolved incidents, for notes and classification after the fact.
    var recent: [IncidentID: Incident] = [:]
    var recentOrder: [IncidentID] = []
    static var recentLimit: Int { 10_000 }
    var incidentIDs = IncidentIDPool()

    /// Open (or just resolved) incidents whose `open` event is held until their scope settles.
    var unannounced: Set<IncidentID> = []
    /// When held announcements are to be looked at again (a wait ends), and those to look at in
    /// the next flush (an answer came).
    var announceChecks = DeadlineHeap()
    var announceRecheck: Set<IncidentID> = []
    /// Which held incidents wait for evidence about a subject (a line probed, an element polled).
    var awaitedBy: [FaultKey: Set<IncidentID>] = [:]
    /// Per incident, lines that left the scope in this batch because they answer.
    var leftScope: [IncidentID: Int] = [:]
    /// Incidents whose customers must be counted again (a line left without an outage).
    var recount: Set<IncidentID> = []

    var windows: [MaintenanceID: MaintenanceWindow] = [:]
    var endedWindows: Set<MaintenanceID> = []

    var emitter = Emitter()
    /// First evidence of faults recorded before a restart, per state (see `FirstEvidence.swift`).
    var firstEvidence: [FaultKey: [Health: Double]] = [:]

    /// `epoch` pairs an instant of the caller's clock with the wall-clock date it stands for.
    public init(topology: Topology, settings: CorrelationSettings = CorrelationSettings(), epoch: Instant,
                epochDate: Date) {
        self.topology = topology
        self.settings = settings
        epochInstant = epoch
        epochSeconds = epochDate.timeIntervalSince1970
        faults = FaultTable(elements: topology.elementCount, lines: topology.lineCount)
        lineIncident = [Int64](repeating: 0, count: topology.lineCount)
        lineStart = [Double](repeating: 0, count: topology.lineCount)
        lineUpSince = [Double](repeating: -.infinity, count: topology.lineCount)
        lineLastIncident = [Int64](repeating: 0, count: topology.lineCount)
        lineLastEnd = [Double](repeating: -.infinity, count: topology.lineCount)
        lineLastStart = [Double](repeating: -.infinity, count: topology.lineCount)
        cutCache = [Int32](repeating: -2, count: topology.elementCount)
    }

    // MARK: the two entry points

    public mutating func handle(_ event: CorrelatorEvent, now: Instant) -> [CorrelatorAction] {
        switch event {
        case .observation(let observation):
            observe(observation, now: now)
        case .customerReport(let report):
            customerReport(report, now: now)
        case .maintenance(let window):
            windows[window.id] = window
            endedWindows.remove(window.id)
            endWindows(now: now)
        case .maintenanceEnded(let id, let at):
            if var window = windows[id] {
                window.end = min(window.end, max(window.start, at))
                windows[id] = window
                endWindows(now: now)
            } else {
                emitter.other.append(.rejected("no maintenance window '\(id)'"))
            }
        case .operatorAction(let action):
            operatorAction(action, now: now)
        case .manualIncidents(let incidents):
            enter(incidents, now: now)
        case .incidentEdit(let edit):
            self.edit(edit, now: now)
        }
        return flush(now: now)
    }

    /// Settles faults whose hold-down expired, ends flapping that went quiet and maintenance
    /// windows that ended. Call it at least every few hundred milliseconds.
    public mutating func tick(now: Instant) -> [CorrelatorAction] {
        settleDue(now: now)
        endQuietFlapping(now: now)
        pruneFlapHistory(now: now)
        endWindows(now: now)
        return flush(now: now)
    }

    /// The earliest instant `tick` has work for (nil: nothing pending), so a caller can sleep.
    public var nextDeadline: Instant? {
        let hold = dueHead < dueQueue.count ? dueQueue[dueHead].deadline : nil
        guard let announce = nextAnnouncement else { return hold }
        let instant = epochInstant.advanced(by: .milliseconds(Int64(((announce - epochSeconds) * 1000).rounded(.up))))
        return hold.map { min($0, instant) } ?? instant
    }

    // MARK: reading the state

    public var openIncidents: [Incident] {
        (open.values.map(\.header) + manual.values.map(\.header)).sorted { $0.id < $1.id }
    }

    public func incident(_ id: IncidentID) -> Incident? { open[id]?.header ?? manual[id]?.header ?? recent[id] }

    /// The lines with an open interval in an open incident, sorted.
    public func openLines(of id: IncidentID) -> [LineID] {
        (open[id]?.openLines ?? []).sorted().map { topology.lineIDs[Int($0)] }
    }

    /// The open incident whose scope holds this line now.
    public func incidentCovering(_ line: LineID) -> IncidentID? {
        guard let index = topology.lineIndex[line], lineIncident[Int(index)] != 0 else { return nil }
        return IncidentID(lineIncident[Int(index)])
    }

    public var pendingFaultCount: Int { faults.values.filter { $0.status == .pending }.count }

    // MARK: time

    func seconds(_ instant: Instant) -> Double { epochSeconds + epochInstant.duration(to: instant).inSeconds }
    func date(_ instant: Instant) -> Date { Date(timeIntervalSince1970: seconds(instant)) }
}

/// One failed subject as the correlator tracks it.
struct Fault: Sendable {
    enum Status: Sendable { case pending, settled, dismissed }

    var health: Health
    var since: Double
    var detail: String
    /// Its entry in the hold-down queue (times here are seconds since 1970, like `since`).
    var slot: Int
    var firstSeen: Double
    var detectedAt: Double?
    var incident: IncidentID?
    var status: Status
    var flapping = false
    /// A flapping subject currently up.
    var up = false
    var lastChange: Double
}

/// An open incident and what it holds.
struct OpenIncident: Sendable {
    var header: Incident
    var key: GroupKey
    /// Element and port faults attached and not cleared.
    var faults: Set<FaultKey> = []
    var openLines: Set<Int32> = []
    var customers: Set<CustomerID> = []
    var services: Set<ServiceKind> = []
    /// Ports in a port group, for telling one port from a line card.
    var ports: Set<PortReference> = []
    /// When the group's first port failed: ports failing within the hold-down after it join.
    var portWindow: Double?
    /// Lines held open by a customer's call without a fault behind it.
    var holds: Set<Int32> = []
    var rootCleared = false
    /// Lines whose interval in this incident ended after a real outage (they count as hit).
    var hitLines: Set<Int32> = []
    /// While the announcement is held: the subjects whose answer it waits for, with the time
    /// after which it stops waiting (seconds since 1970).
    var awaiting: [FaultKey: Double] = [:]
    /// The wait last scheduled in `announceChecks` (lines confirmed together share it).
    var checkAt = -Double.infinity
}
