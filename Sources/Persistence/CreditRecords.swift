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

/// The same intervals as flat columns, for a whole billing run (millions of intervals): lines
/// by dense index, each line's intervals together (in no particular order within the line), no
/// per-interval strings. What `CreditRun` accounts from.
public struct LineOutageTable: Sendable {
    /// `intervalEnds` of an interval still open (the line is still in the incident's scope).
    public static let stillOpen = Int64.max

    /// Dense index → line.
    public var lines: [LineID]
    /// The customer stored with each line's earliest interval (by start, then incident).
    public var customers: [CustomerID]
    /// Line `i`'s intervals are `lineBounds[i] ..< lineBounds[i + 1]`; one more entry than `lines`.
    public var lineBounds: [Int]
    public var intervalIncidents: [Int64]
    /// Unix milliseconds.
    public var intervalStarts: [Int64]
    /// Unix milliseconds, or `stillOpen`.
    public var intervalEnds: [Int64]
    /// The headers of the incidents the intervals belong to.
    public var incidents: [IncidentID: Incident]

    public init() {
        (lines, customers, lineBounds) = ([], [], [0])
        (intervalIncidents, intervalStarts, intervalEnds, incidents) = ([], [], [], [:])
    }

    /// From intervals ordered by line (the first of a line's run gives its customer).
    public init(_ data: LineOutageIntervals) {
        self.init()
        incidents = data.incidents
        intervalIncidents.reserveCapacity(data.intervals.count)
        intervalStarts.reserveCapacity(data.intervals.count)
        intervalEnds.reserveCapacity(data.intervals.count)
        var index = data.intervals.startIndex
        while index < data.intervals.endIndex {
            let line = data.intervals[index].line
            lines.append(line)
            customers.append(data.intervals[index].customer)
            while index < data.intervals.endIndex && data.intervals[index].line == line {
                let interval = data.intervals[index]
                intervalIncidents.append(interval.incident.rawValue)
                intervalStarts.append(interval.startMilliseconds)
                intervalEnds.append(interval.endMilliseconds ?? Self.stillOpen)
                index += 1
            }
            lineBounds.append(intervalStarts.count)
        }
    }

    public var intervalCount: Int { intervalStarts.count }

    /// Line `index`'s intervals, compact (for one line's audit trail).
    public func intervals(ofLine index: Int) -> [LineOutageInterval] {
        (lineBounds[index]..<lineBounds[index + 1]).map { k in
            LineOutageInterval(line: lines[index], customer: customers[index], incident: IncidentID(intervalIncidents[k]),
                               startMilliseconds: intervalStarts[k],
                               endMilliseconds: intervalEnds[k] == Self.stillOpen ? nil : intervalEnds[k])
        }
    }
}

/// A billing period frozen by `forewarn credits close`: its ledger entries were written with
/// it, and `document` and `csv` are the feed exactly as exported then (re-exports are byte-identical).
public struct ClosedCreditPeriod: Sendable, Hashable {
    /// `2026-11`.
    public var period: String
    public var closedAt: Date
    /// The JSON export (`--format json`) of the period as closed.
    public var document: String
    /// The CSV export (`--format csv`) as closed; nil for a period closed before it was kept
    /// (its CSV is then rendered from `document`, to the same bytes).
    public var csv: [UInt8]?

    public init(period: String, closedAt: Date, document: String, csv: [UInt8]? = nil) {
        self.period = period
        self.closedAt = closedAt
        self.document = document
        self.csv = csv
    }
}
