import ForewarnModel
import Foundation

/// Collects what one `handle` or `tick` changed, one `IncidentChange` per incident touched, in
/// the order first touched (so a survivor is written before what merges into it).
struct Emitter: Sendable {
    struct Pending: Sendable {
        var kind: IncidentChange.Kind
        var created: Bool
        var significant = false
        var lines: [LineInterval] = []
        var lineIndexes: [Int32] = []
        /// An interval was ended: the same (line, start) may be listed twice, keep the last.
        var endedAny = false
        var faults: [FaultRecord] = []
        var timeline: [TimelineEntry] = []
        var absorbedInto: IncidentID?
        /// The held announcement of this incident goes out with this change.
        var announceOpen = false
        /// Entered by hand with a ticket that already exists: recorded, nothing announced.
        var enteredTicket: String?
    }

    struct LineSlot: Hashable, Sendable {
        var line: Int32
        var start: Double
    }

    var order: [IncidentID] = []
    var pending: [IncidentID: Pending] = [:]
    /// Confirmation requests and rejections, in order.
    var other: [CorrelatorAction] = []

    static func rank(_ kind: IncidentChange.Kind) -> Int {
        switch kind {
        case .grow: return 0
        case .shrink: return 1
        case .update: return 2
        case .merge: return 3
        case .reroot: return 4
        case .open: return 5
        case .resolve: return 6
        case .absorbed: return 7
        }
    }

    mutating func touch(_ id: IncidentID, _ kind: IncidentChange.Kind, created: Bool = false,
                        absorbedInto: IncidentID? = nil) {
        if var entry = pending[id] {
            if Self.rank(kind) > Self.rank(entry.kind) { entry.kind = kind }
            entry.created = entry.created || created
            if let absorbedInto { entry.absorbedInto = absorbedInto }
            pending[id] = entry
        } else {
            order.append(id)
            pending[id] = Pending(kind: kind, created: created, absorbedInto: absorbedInto)
        }
    }

    func isTouched(_ id: IncidentID) -> Bool { pending[id] != nil }

    mutating func announce(_ id: IncidentID) {
        touch(id, .update)
        pending[id]!.announceOpen = true
    }

    mutating func enteredTicket(_ id: IncidentID, _ ticket: String) {
        touch(id, .update)
        pending[id]!.enteredTicket = ticket
    }

    mutating func significant(_ id: IncidentID) {
        touch(id, .update)
        pending[id]!.significant = true
    }

    /// `index` is the line's dense index (the slot key: cheaper to hash than its id).
    mutating func line(_ id: IncidentID, index: Int32, _ interval: LineInterval) {
        touch(id, .grow)
        pending[id]!.lines.append(interval)
        pending[id]!.lineIndexes.append(index)
        if interval.end != nil { pending[id]!.endedAny = true }
    }

    /// Each (line, start) once, the last word on it, in first-seen order.
    static func deduplicated(_ entry: Pending) -> [LineInterval] {
        guard entry.endedAny else { return entry.lines }
        var position: [LineSlot: Int] = [:]
        var result: [LineInterval] = []
        for (interval, index) in zip(entry.lines, entry.lineIndexes) {
            let slot = LineSlot(line: index, start: interval.start.timeIntervalSince1970)
            if let existing = position[slot] {
                result[existing] = interval
            } else {
                position[slot] = result.count
                result.append(interval)
            }
        }
        return result
    }

    mutating func fault(_ id: IncidentID, _ record: FaultRecord) {
        touch(id, .grow)
        pending[id]!.faults.append(record)
    }

    mutating func timeline(_ id: IncidentID, _ entry: TimelineEntry) {
        touch(id, .update)
        pending[id]!.timeline.append(entry)
    }
}

extension Correlator {
    /// Turns what was collected into actions: incident changes first, then requests.
    mutating func flush(now: Instant) -> [CorrelatorAction] {
        announceSettled(now: now)
        if !leftScope.isEmpty || !recount.isEmpty { noteScopeChanges(now: now) }
        if emitter.order.isEmpty {
            guard !emitter.other.isEmpty else { return [] }
            defer { emitter.other = [] }
            return emitter.other
        }
        var actions: [CorrelatorAction] = []
        actions.reserveCapacity(emitter.order.count + emitter.other.count)
        let nowDate = date(now)
        for id in emitter.order {
            guard let entry = emitter.pending[id] else { continue }
            guard var header = open[id]?.header ?? manual[id]?.header ?? recent[id] else { continue }
            header.updatedAt = nowDate
            if open[id] != nil {
                open[id]!.header.updatedAt = nowDate
            } else if manual[id] != nil {
                manual[id]!.header.updatedAt = nowDate
            } else {
                recent[id]?.updatedAt = nowDate
            }
            var kind: IncidentChange.Kind = entry.created && entry.kind != .absorbed && entry.kind != .resolve
                ? .open : entry.kind
            var announce: [Hook.Event] = []
            if entry.enteredTicket != nil {
                // Its ticket exists already: the hooks record it and open none.
                unannounced.remove(id)
            } else if header.planned {
                unannounced.remove(id)
            } else if unannounced.contains(id) {
                // Held: nothing is said until the scope settles; then one `open` with it.
                if entry.kind == .absorbed {
                    unannounced.remove(id)
                } else if header.state == .resolved {
                    // Resolved before it was announced: opened, then resolved, each with its own change.
                    unannounced.remove(id)
                    var opened = header
                    opened.state = .open
                    opened.resolvedAt = nil
                    actions.append(.incident(IncidentChange(kind: .open, incident: opened, announce: [.open])))
                    announce = [.resolve]
                } else if entry.announceOpen {
                    unannounced.remove(id)
                    announce = [.open]
                    kind = .open
                }
            } else if entry.kind == .absorbed {
                if !entry.created { announce = [.resolve] }
            } else if entry.kind == .resolve {
                announce = [.resolve]
            } else if entry.significant {
                // Also a resolved incident classified or noted later; a line's end corrected
                // after the resolution is not news for a ticket.
                announce = [.update]
            }
            actions.append(.incident(IncidentChange(kind: kind, incident: header, lines: Emitter.deduplicated(entry),
                                                    faults: entry.faults, timeline: entry.timeline,
                                                    absorbedInto: entry.absorbedInto, announce: announce,
                                                    enteredTicket: entry.enteredTicket)))
        }
        actions.append(contentsOf: emitter.other)
        emitter = Emitter()
        return actions
    }
}
