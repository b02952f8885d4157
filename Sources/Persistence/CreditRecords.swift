import Foundation
import ForewarnModel

/// One line's interval in an incident's scope, compact (the billing run reads millions): the
/// incident's header is in `LineOutageIntervals.incidents`. Times are Unix milliseconds.
public struct LineOutageInterval: Sendable, Hashable {
    public var line: LineID
    public var customer: CustomerID
    public var incident: IncidentID
    public var startMilliseconds: Int64
    /// nil while the line is still in the incident's scope.
    public var endMilliseconds: Int64?

    public init(line: LineID, customer: CustomerID, incident: IncidentID, startMilliseconds: Int64,
                endMilliseconds: Int64?) {
        (self.line, self.customer, self.incident) = (line, customer, incident)
        (self.startMilliseconds, self.endMilliseconds) = (startMilliseconds, endMilliseconds)
    }
}

/// Every line interval overlapping a range, ordered by line then start, with the headers of
/// the incidents they belong to.
public struct LineOutageIntervals: Sendable {
    public var intervals: [LineOutageInterval]
    public var incidents: [IncidentID: Incident]

    public init(intervals: [LineOutageInterval] = [], incidents: [IncidentID: Incident] = [:]) {
        self.intervals = intervals
        self.incidents = incidents
    }
}

/// A billing period frozen by `forewarn credits close`: its ledger entries were written with
/// it, and `document` is the feed exactly as exported then (re-exports are byte-identical).
public struct ClosedCreditPeriod: Sendable, Hashable {
    /// `2026-11`.
    public var period: String
    public var closedAt: Date
    public var document: String

    public init(period: String, closedAt: Date, document: String) {
        self.period = period
        self.closedAt = closedAt
        self.document = document
    }
}
