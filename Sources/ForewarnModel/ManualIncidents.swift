import Foundation

/// An incident entered by hand (`forewarn incident add`, one row of `forewarn incident import`):
/// an outage monitoring did not see (a segment not yet in the inventory, Forewarn itself being
/// upgraded, a fault a technician found) or history from an earlier system. Checked by the CLI
/// against the inventory, applied by the correlator, stored as an ordinary incident.
public struct ManualIncident: Sendable, Hashable {
    /// What the operator named; `lines` holds every line it stands for.
    public enum Scope: Sendable, Hashable {
        case lines
        /// Every line behind the element, as an incident rooted there would take them.
        case element(ElementID)
        case customer(CustomerID)
    }

    /// Reserved in the store by the CLI (`IncidentStore.reserveIncidentIDs`).
    public var id: IncidentID
    public var scope: Scope
    /// The lines in scope, sorted, each once.
    public var lines: [LineID]
    public var start: Date
    /// nil: still going on (ended later with `forewarn incident resolve ID --at TIME`).
    public var end: Date?
    /// nil: `network`, or `planned` when a maintenance window covers its root at its start.
    public var classification: Classification?
    public var note: String
    public var firstCall: Date?
    /// A ticket that already exists for it: recorded, and no ticket is opened.
    public var ticket: String?
    /// Who entered it, and when.
    public var by: String
    public var at: Date
    /// Where it was entered: `command line`, or `FILE:ROW` of an import.
    public var source: String

    public init(id: IncidentID, scope: Scope, lines: [LineID], start: Date, end: Date?,
                classification: Classification? = nil, note: String = "", firstCall: Date? = nil,
                ticket: String? = nil, by: String, at: Date, source: String) {
        self.id = id
        self.scope = scope
        self.lines = lines
        self.start = start
        self.end = end
        self.classification = classification
        self.note = note
        self.firstCall = firstCall
        self.ticket = ticket
        self.by = by
        self.at = at
        self.source = source
    }

    /// The root the incident is listed with: the element named, else the first line.
    public var root: Subject {
        if case .element(let element) = scope { return .element(element) }
        return .line(lines.first ?? LineID(""))
    }
}

/// A correction of an incident (`forewarn incident edit`): one line's interval, the
/// classification, or both, with the reason. Old and new values go to the timeline.
public struct IncidentEdit: Sendable, Hashable {
    /// One interval of one line: as the CLI read it, and as it is to be.
    public struct Interval: Sendable, Hashable {
        public var old: LineInterval
        public var new: LineInterval

        public init(old: LineInterval, new: LineInterval) {
            self.old = old
            self.new = new
        }
    }

    public var incident: IncidentID
    public var interval: Interval?
    public var classification: Classification?
    public var reason: String
    public var by: String
    public var at: Date
    /// The incident as the CLI read it, with `startedAt` and `resolvedAt` as the corrected
    /// interval makes them: what the correlator continues from when it no longer holds the
    /// incident (resolved long ago).
    public var header: Incident

    public init(incident: IncidentID, interval: Interval?, classification: Classification?, reason: String, by: String,
                at: Date, header: Incident) {
        self.incident = incident
        self.interval = interval
        self.classification = classification
        self.reason = reason
        self.by = by
        self.at = at
        self.header = header
    }
}
