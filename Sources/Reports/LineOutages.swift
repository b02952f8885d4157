import ForewarnModel
import Persistence

/// Which incidents count, by id, looked up once per interval: a dense table when the ids are
/// (they come from one allocator), a dictionary otherwise.
struct IncidentVerdicts {
    private var base: Int64 = 0
    private var dense: [Bool] = []
    private var sparse: [Int64: Bool] = [:]
    private var isDense = false

    /// The headers of every part.
    init(_ parts: [LineOutageTable], counts: (Incident) -> Bool) {
        let ids = parts.flatMap(\.incidents.keys)
        guard let low = ids.min()?.rawValue, let high = ids.max()?.rawValue else { return }
        if high - low < Int64(ids.count) * 4 + 1_000_000 {
            isDense = true
            base = low
            dense = [Bool](repeating: false, count: Int(high - low) + 1)
            for part in parts {
                for (id, incident) in part.incidents where counts(incident) { dense[Int(id.rawValue - low)] = true }
            }
        } else {
            for part in parts {
                for (id, incident) in part.incidents { sparse[id.rawValue] = counts(incident) }
            }
        }
    }

    func counts(_ id: Int64) -> Bool {
        if isDense {
            let index = id - base
            return index >= 0 && index < Int64(dense.count) && dense[Int(index)]
        }
        return sparse[id] ?? false
    }
}

/// Each line's outage in a period: the union of its intervals in counting incidents, clipped to
/// the part of the period that has passed, in whole seconds (instants truncated, as credits
/// count them); and whether one of those intervals overlaps the period at all (the line was hit).
struct LineOutages {
    /// By part, then by the part's line index.
    var outageSeconds: [[Int64]] = []
    var hit: [[Bool]] = []

    /// Seconds since 1970 of a millisecond instant, truncated toward the past.
    static func seconds(_ milliseconds: Int64) -> Int64 {
        milliseconds >= 0 ? milliseconds / 1000 : -((-milliseconds + 999) / 1000)
    }

    init(_ parts: [LineOutageTable], start: Int64, end: Int64, now: Int64, counts: IncidentVerdicts) {
        for part in parts {
            let (outage, hit) = Self.account(part, start: start, end: end, now: now, counts: counts)
            outageSeconds.append(outage)
            self.hit.append(hit)
        }
    }

    static func account(_ table: LineOutageTable, start: Int64, end: Int64, now: Int64,
                        counts: IncidentVerdicts) -> (outageSeconds: [Int64], hit: [Bool]) {
        let startSeconds = Self.seconds(start)
        let nowSeconds = Self.seconds(now)
        let elapsedEnd = min(Self.seconds(end), max(startSeconds, nowSeconds))
        var outageSeconds = [Int64](repeating: 0, count: table.lines.count)
        var hit = [Bool](repeating: false, count: table.lines.count)
        var spans: [(start: Int64, end: Int64)] = []
        for line in table.lines.indices {
            spans.removeAll(keepingCapacity: true)
            var sorted = true
            for k in table.lineBounds[line]..<table.lineBounds[line + 1] where counts.counts(table.intervalIncidents[k]) {
                let open = table.intervalEnds[k] == LineOutageTable.stillOpen
                let intervalStart = table.intervalStarts[k]
                guard intervalStart < end, open || table.intervalEnds[k] > start else { continue }
                hit[line] = true
                let clippedStart = max(Self.seconds(intervalStart), startSeconds)
                let clippedEnd = min(open ? nowSeconds : Self.seconds(table.intervalEnds[k]), elapsedEnd)
                guard clippedEnd > clippedStart else { continue }
                if let last = spans.last, clippedStart < last.start { sorted = false }
                spans.append((clippedStart, clippedEnd))
            }
            guard !spans.isEmpty else { continue }
            if !sorted { spans.sort { $0.start < $1.start } }
            var total: Int64 = 0
            var current = spans[0]
            for span in spans.dropFirst() {
                if span.start <= current.end {
                    current.end = max(current.end, span.end)
                } else {
                    total += current.end - current.start
                    current = span
                }
            }
            outageSeconds[line] = total + current.end - current.start
        }
        return (outageSeconds, hit)
    }
}
