import ForewarnModel
import Foundation
import Persistence
@testable import Reports

func t(_ text: String) -> Date { RFC3339.parse(text)! }

let utc = TimeZone(identifier: "UTC")!

/// An incident header as the correlator would have stored it.
func incident(_ id: Int64, _ severity: Severity = .minor, classification: Classification = .network,
              planned: Bool = false, started: String, detected: String, call: String? = nil,
              resolved: String? = nil, mergedInto: Int64? = nil) -> Incident {
    Incident(id: IncidentID(id), state: resolved == nil ? .open : .resolved,
             root: IncidentRoot(subject: .element("E1"), kind: .unreachable), group: "element:E1", severity: severity,
             planned: planned, proactive: call.map { t(detected) < t($0) } ?? true, classification: classification,
             startedAt: t(started), detectedAt: t(detected), firstCallAt: call.map(t), resolvedAt: resolved.map(t),
             mergedInto: mergedInto.map(IncidentID.init), updatedAt: t(detected))
}

/// `(incident, line, customer, start, end)`; the table the store gives: lines in order, each
/// line's intervals by start.
func table(_ intervals: [(Int64, String, String, String, String?)], incidents: [Incident]) -> LineOutageTable {
    let rows = intervals.map { id, line, customer, start, end in
        LineOutageInterval(line: LineID(line), customer: CustomerID(customer), incident: IncidentID(id),
                           startMilliseconds: t(start).unixMilliseconds, endMilliseconds: end.map { t($0).unixMilliseconds })
    }.sorted { ($0.line, $0.startMilliseconds) < ($1.line, $1.startMilliseconds) }
    let ids = Set(rows.map(\.incident))
    return LineOutageTable(LineOutageIntervals(intervals: rows, incidents: Dictionary(
        uniqueKeysWithValues: incidents.filter { ids.contains($0.id) }.map { ($0.id, $0) })))
}

func line(_ id: String, _ customer: String, _ element: String) -> Line {
    Line(id: LineID(id), customer: CustomerID(customer), element: ElementID(element), port: nil, probe: .none,
         target: nil, contract: nil, service: .data)
}
