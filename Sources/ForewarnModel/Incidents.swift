import Foundation

/// Incidents: what the correlator makes of observations, what the store keeps, what tickets,
/// credits and KPIs are computed from.

public struct IncidentID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: Int64
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public static func < (lhs: IncidentID, rhs: IncidentID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "#\(rawValue)" }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(Int64.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// What the root cause is doing.
public enum RootKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// An element that does not answer while at least one of its upstreams does.
    case unreachable
    /// A port or a line without service.
    case down
    /// A port or a line that works, badly.
    case degraded
    /// Several ports of one reachable element failed together (a line card).
    case lineCard = "line-card"
    /// One of an element's redundant uplinks failed: no customer lost service.
    case redundancyLost = "redundancy-lost"
    /// The element restarted; its outage is over by the time it is known.
    case rebooted
    /// A customer called about a line monitoring had not seen failing.
    case customerReport = "customer-report"
    /// The link between two elements is down while both still answer (both ends' ports are in
    /// the incident): nothing is cut off, but the path is gone.
    case linkDown = "link-down"
    /// An element that answers (SNMP, ping) but no longer forwards: several elements behind it
    /// stopped answering together, and every line behind them is cut off.
    case forwardingFailure = "forwarding-failure"
    /// Entered by hand (`forewarn incident add`, `import`): what monitoring did not see, or what
    /// happened before it watched; the root is the element named, else the first line.
    case manual
}

/// The root cause of an incident: the failed thing every other fault in it follows from.
public struct IncidentRoot: Sendable, Hashable, CustomStringConvertible {
    public var subject: Subject
    public var kind: RootKind

    public init(subject: Subject, kind: RootKind) {
        self.subject = subject
        self.kind = kind
    }

    public var description: String { "\(subject) \(kind.rawValue)" }
}

/// How bad an incident is, from the customers and services it hits (see `Severity.of`).
public enum Severity: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    /// No customer lost service (a redundant uplink, a port without lines).
    case warning
    case minor
    case major
    case critical

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Critical from 100 customers (or 20 with voice among the services hit), major from 10
    /// customers (or 2 with voice), minor from one customer, warning without customers.
    public static func of(customers: Int, services: Set<ServiceKind>) -> Severity {
        let voice = services.contains(.voice)
        if customers >= 100 || (voice && customers >= 20) { return .critical }
        if customers >= 10 || (voice && customers >= 2) { return .major }
        if customers >= 1 { return .minor }
        return .warning
    }
}

/// Who is to blame, as the NOC decides it; credits depend on it.
public enum Classification: String, Sendable, Hashable, CaseIterable, Codable {
    case network
    case customerCaused = "customer-caused"
    case forceMajeure = "force-majeure"
    case planned
}

/// An incident's header: everything but its line intervals, faults and timeline.
public struct Incident: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        case open, resolved
    }

    public var id: IncidentID
    public var state: State
    public var root: IncidentRoot
    /// The correlator's grouping key (stable text, see `Correlation.GroupKey`); kept so the
    /// correlator can rebuild its state from the store.
    public var group: String
    public var severity: Severity
    public var planned: Bool
    /// Detected before the first customer call about it.
    public var proactive: Bool
    public var flapping: Bool
    public var classification: Classification
    /// The first bad evidence.
    public var startedAt: Date
    public var detectedAt: Date
    public var firstCallAt: Date?
    public var acknowledgedAt: Date?
    public var resolvedAt: Date?
    public var mergedInto: IncidentID?
    public var updatedAt: Date
    /// Who entered it by hand (`forewarn incident add` or `import`); nil for a detected one.
    public var enteredBy: String?
    /// When it was entered by hand; nil for a detected one.
    public var enteredAt: Date?

    public init(id: IncidentID, state: State = .open, root: IncidentRoot, group: String, severity: Severity,
                planned: Bool = false, proactive: Bool = false, flapping: Bool = false,
                classification: Classification = .network, startedAt: Date, detectedAt: Date,
                firstCallAt: Date? = nil, acknowledgedAt: Date? = nil, resolvedAt: Date? = nil,
                mergedInto: IncidentID? = nil, updatedAt: Date, enteredBy: String? = nil, enteredAt: Date? = nil) {
        self.id = id
        self.state = state
        self.root = root
        self.group = group
        self.severity = severity
        self.planned = planned
        self.proactive = proactive
        self.flapping = flapping
        self.classification = classification
        self.startedAt = startedAt
        self.detectedAt = detectedAt
        self.firstCallAt = firstCallAt
        self.acknowledgedAt = acknowledgedAt
        self.resolvedAt = resolvedAt
        self.mergedInto = mergedInto
        self.updatedAt = updatedAt
        self.enteredBy = enteredBy
        self.enteredAt = enteredAt
    }

    /// Entered by hand rather than detected.
    public var isManual: Bool { enteredAt != nil }
}

/// One stretch of time a line spent in an incident's scope; `end` is nil while it lasts.
/// Credits are computed from these.
public struct LineInterval: Sendable, Hashable {
    public var line: LineID
    public var customer: CustomerID
    public var start: Date
    public var end: Date?

    public init(line: LineID, customer: CustomerID, start: Date, end: Date? = nil) {
        self.line = line
        self.customer = customer
        self.start = start
        self.end = end
    }
}

/// A failed element, port or line that an incident groups, as the store keeps it.
public struct FaultRecord: Sendable, Hashable {
    public var subject: Subject
    public var health: Health
    public var since: Date
    public var detectedAt: Date
    public var clearedAt: Date?
    public var flapping: Bool

    public init(subject: Subject, health: Health, since: Date, detectedAt: Date, clearedAt: Date? = nil,
                flapping: Bool = false) {
        self.subject = subject
        self.health = health
        self.since = since
        self.detectedAt = detectedAt
        self.clearedAt = clearedAt
        self.flapping = flapping
    }
}

/// One entry of an incident's timeline: what changed, when, on what evidence.
public struct TimelineEntry: Sendable, Hashable {
    public var at: Date
    public var kind: String
    public var detail: String

    public init(at: Date, kind: String, detail: String) {
        self.at = at
        self.kind = kind
        self.detail = detail
    }
}

/// One change of one incident, as the correlator decides it and the store records it (in one
/// transaction with the outbox row that announces it, when `announce` is set).
public struct IncidentChange: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case open, grow, shrink, reroot, merge, absorbed, resolve, update
    }

    public var kind: Kind
    /// The incident's header after the change.
    public var incident: Incident
    /// Line intervals added or ended by this change (keyed by line and start).
    public var lines: [LineInterval]
    /// Faults attached or cleared by this change (keyed by subject and since).
    public var faults: [FaultRecord]
    public var timeline: [TimelineEntry]
    /// For `absorbed`: the surviving incident, which takes over this one's lines and faults.
    public var absorbedInto: IncidentID?
    /// The hook events this change is announced with (an outbox row per hook and event); empty
    /// for a change no ticket needs to see, and always for a planned incident.
    public var announce: [Hook.Event]
    /// A ticket that already exists for an incident entered by hand (`--ticket`): recorded for
    /// the hooks that take the incident, which then send no `open`.
    public var enteredTicket: String?

    public init(kind: Kind, incident: Incident, lines: [LineInterval] = [], faults: [FaultRecord] = [],
                timeline: [TimelineEntry] = [], absorbedInto: IncidentID? = nil, announce: [Hook.Event] = [],
                enteredTicket: String? = nil) {
        self.kind = kind
        self.incident = incident
        self.lines = lines
        self.faults = faults
        self.timeline = timeline
        self.absorbedInto = absorbedInto
        self.announce = announce
        self.enteredTicket = enteredTicket
    }
}

/// An open incident as the store keeps it: what the correlator needs to continue it after a
/// restart.
public struct IncidentSnapshot: Sendable, Hashable {
    public var incident: Incident
    /// Line intervals still open.
    public var lines: [LineInterval]
    /// Faults not yet cleared.
    public var faults: [FaultRecord]

    public init(incident: Incident, lines: [LineInterval], faults: [FaultRecord]) {
        self.incident = incident
        self.lines = lines
        self.faults = faults
    }
}

/// A call logged by the contact centre about a line.
public struct CustomerReport: Sendable, Hashable {
    public var line: LineID
    /// When the customer called.
    public var at: Date
    public var note: String
    /// Where it came in: `cli`, `http`.
    public var source: String

    public init(line: LineID, at: Date, note: String = "", source: String) {
        self.line = line
        self.at = at
        self.note = note
        self.source = source
    }
}

/// What NOC staff do to an incident.
public struct OperatorAction: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case acknowledge
        case note(String)
        case classify(Classification)
        case resolve(note: String)
    }

    public var incident: IncidentID
    public var kind: Kind
    public var by: String
    public var at: Date

    public init(incident: IncidentID, kind: Kind, by: String, at: Date) {
        self.incident = incident
        self.kind = kind
        self.by = by
        self.at = at
    }
}

/// "Look at this now": sent to the SNMP engine (poll an element) or the prober (probe a line)
/// before the correlator decides a root cause, so the decision rests on fresh evidence.
public enum ConfirmationRequest: Sendable, Hashable, CustomStringConvertible {
    case pollElement(ElementID)
    case probeLine(LineID)

    public var description: String {
        switch self {
        case .pollElement(let id): return "poll element \(id)"
        case .probeLine(let id): return "probe line \(id)"
        }
    }
}

/// Implemented by the SNMP engine and the line prober. Must return at once (queue the work);
/// the answer comes back as an ordinary `Observation` through an `ObservationSink`.
public protocol ConfirmationRequester: Sendable {
    func requestConfirmation(_ request: ConfirmationRequest)
}

/// Where sources deliver observations (the correlator service). Never blocks; ports are named
/// as in the configuration (the SNMP engine maps ifName to ifIndex itself).
public protocol ObservationSink: Sendable {
    func submit(_ observation: Observation)
}

/// How the correlator decides, from the `correlation` section of the configuration.
public struct CorrelationSettings: Sendable, Hashable {
    /// How long a new fault is held, while its parent is confirmed, before its root is decided.
    public var holdDown: Duration
    /// More than this many state changes within `flapWindow` make a subject flapping.
    public var flapThreshold: Int
    public var flapWindow: Duration
    /// A flapping subject stops flapping after this long in one state.
    public var flapQuiet: Duration
    /// How long a line's confirmation probe may take: a line cut off by an element's failure that
    /// has not answered by then counts as cut off when the incident is announced.
    public var confirmationWait: Duration
    /// The longest an incident's first announcement (its `open` event) is held while the scope
    /// settles: the confirmation probes of its lines, the answers of the elements that could
    /// re-root it. The incident itself is recorded at once.
    public var announceMax: Duration
    /// Elements behind one upstream that fail within this of one another while that upstream
    /// answers are one forwarding failure of the upstream.
    public var forwardingWindow: Duration

    public init(holdDown: Duration = .seconds(5), flapThreshold: Int = 5, flapWindow: Duration = .seconds(600),
                flapQuiet: Duration = .seconds(300), confirmationWait: Duration = .seconds(2),
                announceMax: Duration = .seconds(15), forwardingWindow: Duration = .seconds(30)) {
        self.holdDown = holdDown
        self.flapThreshold = flapThreshold
        self.flapWindow = flapWindow
        self.flapQuiet = flapQuiet
        self.confirmationWait = confirmationWait
        self.announceMax = announceMax
        self.forwardingWindow = forwardingWindow
    }
}
