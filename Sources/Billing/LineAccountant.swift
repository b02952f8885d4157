import ForewarnModel
import Persistence

/// `OutageAccounting.account` for a billing run: the same outage, incidents, exclusions and
/// times to restore, from a `LineOutageTable`'s columns, with buffers reused from line to line.
/// It handles lines no maintenance window covers (nearly all of them); the caller gives the
/// others to `OutageAccounting.account`. Without maintenance, an incident counts for the line
/// exactly when one of its intervals falls in the period, and its time to restore is the union
/// of its intervals; the tests hold both paths to the same rows.
struct LineAccountant {
    /// Whether an incident counts, or why not (`nil`: it counts).
    typealias Verdicts = [Int64: Exclusion.Kind?]

    private struct Piece {
        var incident: Int64
        var excluded: Exclusion.Kind?
        var start: Int64
        var end: Int64
        var open: Bool
    }

    private var pieces: [Piece] = []
    private var spans: [SecondSpans.Span] = []

    /// Every incident header's verdict; an interval whose incident has none is not counted.
    static func verdicts(_ incidents: [IncidentID: Incident]) -> Verdicts {
        var verdicts: Verdicts = [:]
        verdicts.reserveCapacity(incidents.count)
        for (id, incident) in incidents { verdicts[id.rawValue] = .some(OutageAccounting.exclusionKind(incident)) }
        return verdicts
    }

    mutating func account(line: LineID, customer: CustomerID, period: SecondSpans.Span, table: LineOutageTable,
                          intervals: Range<Int>, verdicts: Verdicts, now: Int64) -> LineOutage {
        pieces.removeAll(keepingCapacity: true)
        for k in intervals {
            guard let verdict = verdicts[table.intervalIncidents[k]] else { continue }
            let open = table.intervalEnds[k] == LineOutageTable.stillOpen
            pieces.append(Piece(incident: table.intervalIncidents[k], excluded: verdict,
                                start: OutageAccounting.seconds(table.intervalStarts[k]),
                                end: open ? now : OutageAccounting.seconds(table.intervalEnds[k]), open: open))
        }
        pieces.sort { ($0.incident, $0.start, $0.end) < ($1.incident, $1.start, $1.end) }

        // The union of the counting intervals clipped to the period.
        spans.removeAll(keepingCapacity: true)
        var anyExcluded = false
        for piece in pieces {
            let start = max(piece.start, period.start)
            let end = min(piece.end, period.end)
            guard end > start else { continue }
            if piece.excluded == nil { spans.append(SecondSpans.Span(start, end)) } else { anyExcluded = true }
        }
        spans.sort { ($0.start, $0.end) < ($1.start, $1.end) }
        var merged = 0
        for index in spans.indices {
            let span = spans[index]
            if merged > 0 && span.start <= spans[merged - 1].end {
                spans[merged - 1].end = max(spans[merged - 1].end, span.end)
            } else {
                spans[merged] = span
                merged += 1
            }
        }
        let counted = SecondSpans(disjointSorted: Array(spans[0..<merged]))

        var incidents: [IncidentID] = []
        var restoreTimes: [RestoreTime] = []
        var exclusions: [Exclusion] = []
        var alreadyExcluded = counted
        var first = 0
        while first < pieces.count {
            let id = pieces[first].incident
            var last = first + 1
            while last < pieces.count && pieces[last].incident == id { last += 1 }
            defer { first = last }
            if let kind = pieces[first].excluded {
                guard anyExcluded else { continue }
                let own = SecondSpans(unioning: pieces[first..<last].map {
                    SecondSpans.Span(max($0.start, period.start), min($0.end, period.end))
                })
                let part = own.subtracting(alreadyExcluded)
                guard !part.isEmpty else { continue }
                alreadyExcluded = alreadyExcluded.union(part)
                exclusions.append(Exclusion(kind: kind, reason: "incident \(IncidentID(id)) \(kind.rawValue)",
                                            seconds: part.seconds, incident: IncidentID(id)))
                continue
            }
            var inPeriod = false
            var open = false
            var restoredAt = Int64.min
            var union: Int64 = 0
            var stretch: (start: Int64, end: Int64)?
            // Pieces of one incident are sorted by start: their union in one pass.
            for piece in pieces[first..<last] {
                inPeriod = inPeriod || min(piece.end, period.end) > max(piece.start, period.start)
                open = open || piece.open
                restoredAt = max(restoredAt, piece.end)
                guard piece.end > piece.start else { continue }
                if let current = stretch, piece.start <= current.end {
                    stretch = (current.start, max(current.end, piece.end))
                } else {
                    if let current = stretch { union += current.end - current.start }
                    stretch = (piece.start, piece.end)
                }
            }
            if let current = stretch { union += current.end - current.start }
            if inPeriod { incidents.append(IncidentID(id)) }
            if !open && restoredAt > period.start && restoredAt <= period.end && union > 0 {
                restoreTimes.append(RestoreTime(incident: IncidentID(id), seconds: union))
            }
        }
        return LineOutage(line: line, customer: customer, period: period, intervals: [], counted: counted,
                          incidents: incidents, exclusions: exclusions, restoreTimes: restoreTimes)
    }
}
