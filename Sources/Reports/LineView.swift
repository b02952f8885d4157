import Foundation
import ForewarnModel
import Persistence

/// The contact centre's view of one line (`forewarn line`, `GET /api/v1/lines/L`): its state
/// now, its path to the core, the open incident it is in and whether the customer already
/// called, its outages and credit this month, and how to log the call. A stable contract
/// (`forewarn.line.v1`, README): keys are only added. Made by `LineView.init(_:)`, pure.
public struct LineView: Sendable, Hashable, Codable {
    public static let schema = "forewarn.line.v1"

    public struct LineInfo: Sendable, Hashable, Codable {
        public var id: String
        public var customer: String
        public var customerName: String?
        public var element: String
        public var port: String?
        public var probe: String
        public var target: String?
        public var contract: String?
        public var service: String
    }

    public struct State: Sendable, Hashable, Codable {
        /// `up`, `down`, `degraded`, `unknown` or `unprobed`.
        public var health: String
        public var since: Date?
        public var evidence: String?
        /// Where the state comes from: `daemon` (its verdict now) or `store` (the last recorded change).
        public var source: String
    }

    public struct LastProbe: Sendable, Hashable, Codable {
        public var at: Date
        public var answered: Bool
        /// Mean round-trip time of the round's answers, milliseconds; nil when none answered.
        public var rttMilliseconds: Double?

        public init(at: Date, answered: Bool, rttMilliseconds: Double?) {
            (self.at, self.answered, self.rttMilliseconds) = (at, answered, rttMilliseconds)
        }
    }

    /// One element on the way to the core, the line's own first.
    public struct Hop: Sendable, Hashable, Codable {
        public var element: String
        public var name: String
        public var kind: String
        /// Its last recorded state; `unknown` when none was (not polled yet: an element's first
        /// state is recorded).
        public var health: String
        public var since: Date?
        /// Its other upstreams (redundant uplinks) beside the one the path follows.
        public var alternates: [String]
    }

    public struct OpenIncident: Sendable, Hashable, Codable {
        public var id: Int64
        public var severity: String
        public var rootType: String
        public var rootId: String
        public var rootKind: String
        /// When this line's outage in it began.
        public var since: Date
        /// When this line came back while the incident goes on; nil while it is out.
        public var lineRestoredAt: Date?
        public var detectedAt: Date
        public var ticketId: String?
        public var ticketHook: String?
        public var ticketState: String?
        public var acknowledged: Bool
        /// The customer of this line already called about it (when their call was logged).
        public var customerCalled: Bool
        public var calledAt: Date?
    }

    public struct Outage: Sendable, Hashable, Codable {
        public var incident: Int64
        public var start: Date
        public var end: Date?

        public init(incident: Int64, start: Date, end: Date?) { (self.incident, self.start, self.end) = (incident, start, end) }
    }

    public struct Month: Sendable, Hashable, Codable {
        public var period: String
        public var outages: [Outage]
        /// Counted outage (the union of counting intervals, maintenance taken out), seconds.
        public var outageSeconds: Int64
        public var creditAmount: String?
        public var creditMinorUnits: Int64?
        public var currency: String?
        /// Why there is no credit (no contract, below the minimum payout …), when Billing says.
        public var creditNote: String?

        public init(period: String, outages: [Outage], outageSeconds: Int64, creditAmount: String?, creditMinorUnits: Int64?,
                    currency: String?, creditNote: String?) {
            (self.period, self.outages, self.outageSeconds) = (period, outages, outageSeconds)
            (self.creditAmount, self.creditMinorUnits, self.currency, self.creditNote) = (creditAmount, creditMinorUnits, currency, creditNote)
        }
    }

    public var schema: String
    public var generatedAt: Date
    public var line: LineInfo
    public var state: State
    public var lastProbe: LastProbe?
    public var path: [Hop]
    public var incident: OpenIncident?
    public var month: Month?
    public var reportCall: String
    public var notes: [String]
}

/// What a line's view is made of, read from the configuration, the store, Billing and (when the
/// daemon answers) its verdicts now.
public struct LineViewInputs: Sendable {
    public var now: Date
    public var line: Line
    public var customerName: String?
    public var elements: [ElementID: Element]
    /// The line's last recorded transition, and each element's.
    public var lineTransition: StateTransition?
    public var elementTransitions: [ElementID: StateTransition]
    /// The daemon makes the view: `live` is its verdict now (nil: it does not probe the line).
    public var fromDaemon: Bool
    public var live: Health?
    public var lastProbe: LineView.LastProbe?
    /// The open incident the line is in, with its timeline.
    public var incident: IncidentDetail?
    public var month: LineView.Month?
    public var notes: [String]

    public init(now: Date, line: Line, customerName: String?, elements: [ElementID: Element],
                lineTransition: StateTransition? = nil, elementTransitions: [ElementID: StateTransition] = [:],
                fromDaemon: Bool = false, live: Health? = nil, lastProbe: LineView.LastProbe? = nil,
                incident: IncidentDetail? = nil, month: LineView.Month? = nil, notes: [String] = []) {
        (self.now, self.line, self.customerName, self.elements) = (now, line, customerName, elements)
        self.fromDaemon = fromDaemon
        (self.lineTransition, self.elementTransitions, self.live, self.lastProbe) = (lineTransition, elementTransitions, live, lastProbe)
        (self.incident, self.month, self.notes) = (incident, month, notes)
    }
}

extension LineView {
    public init(_ inputs: LineViewInputs) {
        let line = inputs.line
        schema = Self.schema
        generatedAt = inputs.now
        self.line = LineInfo(id: line.id.rawValue, customer: line.customer.rawValue, customerName: inputs.customerName,
                             element: line.element.rawValue, port: line.port.map { "\($0)" }, probe: "\(line.probe)",
                             target: line.target.map(\.description), contract: line.contract?.rawValue,
                             service: line.service.rawValue)
        let probed = line.probe != .none && line.target != nil
        let last = inputs.lineTransition
        // The daemon's verdict, else the last change recorded; a line never seen changing is
        // unknown (its first verdict, "up", is not recorded), or unprobed without a probe.
        let health = inputs.live?.rawValue ?? last?.to.rawValue
            ?? (probed && !inputs.fromDaemon ? Health.unknown.rawValue : "unprobed")
        state = State(health: health, since: last?.at, evidence: last?.evidence, source: inputs.fromDaemon ? "daemon" : "store")
        lastProbe = inputs.lastProbe
        path = Self.path(from: line.element, elements: inputs.elements).map { element in
            let last = inputs.elementTransitions[element.id]
            return Hop(element: element.id.rawValue, name: element.name, kind: element.kind.rawValue,
                       health: (last?.to ?? .unknown).rawValue, since: last?.at,
                       alternates: element.upstream.dropFirst().map(\.rawValue))
        }
        incident = inputs.incident.map { detail in
            let header = detail.record.incident
            let own = detail.record.lines.filter { $0.line == line.id }
            let out = own.filter { $0.end == nil }
            let since = out.map(\.start).min() ?? own.map(\.start).min() ?? header.startedAt
            let restored = out.isEmpty ? own.compactMap(\.end).max() : nil
            let marker = "called about line \(line.id.rawValue) "
            let call = detail.timeline.first { $0.kind == "customer-call" && $0.detail.contains(marker) }
            let ticket = detail.record.ticket
            return OpenIncident(id: header.id.rawValue, severity: header.severity.rawValue,
                                rootType: header.root.subject.kind, rootId: header.root.subject.identifier,
                                rootKind: header.root.kind.rawValue, since: since, lineRestoredAt: restored,
                                detectedAt: header.detectedAt,
                                ticketId: ticket?.ticketID, ticketHook: ticket?.hook.rawValue, ticketState: ticket?.state,
                                acknowledged: header.acknowledgedAt != nil, customerCalled: call != nil, calledAt: call?.at)
        }
        month = inputs.month
        reportCall = "forewarn report-call --line \(line.id.rawValue) --note '...'"
        notes = inputs.notes
    }

    /// The line's element and its way to the core: at each step the first upstream listed (the
    /// others are shown as alternates); stops at an element without upstream, or one already on
    /// the path (the configuration forbids cycles, this only guards the walk).
    public static func path(from start: ElementID, elements: [ElementID: Element]) -> [Element] {
        var path: [Element] = []
        var seen: Set<ElementID> = []
        var next: ElementID? = start
        while let id = next, let element = elements[id], seen.insert(id).inserted {
            path.append(element)
            next = element.upstream.first
        }
        return path
    }
}
