/// Half-open stretches of whole seconds `[start, end)`, sorted and disjoint: what a line's
/// outage is made of once its intervals are united.
public struct SecondSpans: Sendable, Hashable {
    public struct Span: Sendable, Hashable, Codable {
        public var start: Int64
        public var end: Int64
        public init(_ start: Int64, _ end: Int64) {
            self.start = start
            self.end = end
        }
        public var seconds: Int64 { end - start }
    }

    public private(set) var spans: [Span]

    public init() { spans = [] }

    /// The union of `spans`, in any order, overlapping or not; empty ones are dropped.
    public init(unioning input: [Span]) {
        let sorted = input.filter { $0.end > $0.start }.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
        var merged: [Span] = []
        merged.reserveCapacity(sorted.count)
        for span in sorted {
            if let last = merged.last, span.start <= last.end {
                merged[merged.count - 1].end = max(last.end, span.end)
            } else {
                merged.append(span)
            }
        }
        spans = merged
    }

    /// Spans already sorted, disjoint and not touching, none empty (what a merge produced).
    init(disjointSorted spans: [Span]) { self.spans = spans }

    public var isEmpty: Bool { spans.isEmpty }
    public var seconds: Int64 { spans.reduce(0) { $0 + $1.seconds } }

    public func union(_ other: SecondSpans) -> SecondSpans { SecondSpans(unioning: spans + other.spans) }

    public func intersection(_ other: SecondSpans) -> SecondSpans {
        var result: [Span] = []
        var (i, j) = (0, 0)
        while i < spans.count && j < other.spans.count {
            let start = max(spans[i].start, other.spans[j].start)
            let end = min(spans[i].end, other.spans[j].end)
            if end > start { result.append(Span(start, end)) }
            if spans[i].end < other.spans[j].end { i += 1 } else { j += 1 }
        }
        return SecondSpans(unioning: result)
    }

    public func subtracting(_ other: SecondSpans) -> SecondSpans {
        guard !other.isEmpty else { return self }
        var result: [Span] = []
        var j = 0
        for span in spans {
            var start = span.start
            while j < other.spans.count && other.spans[j].end <= start { j += 1 }
            var k = j
            while k < other.spans.count && other.spans[k].start < span.end {
                if other.spans[k].start > start { result.append(Span(start, other.spans[k].start)) }
                start = max(start, other.spans[k].end)
                k += 1
            }
            if start < span.end { result.append(Span(start, span.end)) }
        }
        return SecondSpans(unioning: result)
    }

    public func clipped(to bounds: Span) -> SecondSpans { intersection(SecondSpans(unioning: [bounds])) }
}
