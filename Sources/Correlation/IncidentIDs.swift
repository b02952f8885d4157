import ForewarnModel

/// Incident ids as the correlator hands them out. The store is the one allocator of ids (the
/// CLI's manual incidents and a PostgreSQL store shared by several instances take from the same
/// sequence), so the daemon supplies blocks reserved there; until a block is supplied (tests,
/// benchmarks without a store) ids count up from one past the highest id seen.
struct IncidentIDPool: Sendable {
    private var blocks: [Range<Int64>] = []
    private var supplied = false
    private var counter: Int64 = 1

    mutating func supply(_ ids: Range<Int64>) {
        guard !ids.isEmpty else { return }
        supplied = true
        blocks.append(ids)
    }

    /// An id seen in the store: never handed out again when counting without a supply.
    mutating func seen(_ id: IncidentID) { counter = max(counter, id.rawValue + 1) }

    /// Supplied ids not yet used; 0 until a block is supplied.
    var available: Int { blocks.reduce(0) { $0 + $1.count } }

    var unused: [Range<Int64>] { blocks }

    /// The next id. Past the supplied blocks (which the daemon prevents by supplying before
    /// every decision, see `Correlator.incidentIDsNeededAtMost`) it continues after the last
    /// one it was given, and `overdrawn` says how far.
    mutating func next() -> IncidentID {
        guard supplied else {
            defer { counter += 1 }
            return IncidentID(counter)
        }
        while let first = blocks.first {
            if first.isEmpty { blocks.removeFirst(); continue }
            blocks[0] = first.dropFirst()
            counter = first.lowerBound + 1
            return IncidentID(first.lowerBound)
        }
        overdrawn += 1
        defer { counter += 1 }
        return IncidentID(counter)
    }

    /// Ids handed out beyond the supplied blocks: the daemon logs it and reserves past them.
    private(set) var overdrawn = 0
}

extension Correlator {
    /// Gives the correlator ids reserved in the store (`IncidentStore.reserveIncidentIDs`).
    public mutating func supplyIncidentIDs(_ ids: Range<Int64>) { incidentIDs.supply(ids) }

    /// Ids supplied and not yet used (0 before the first block).
    public var incidentIDsAvailable: Int { incidentIDs.available }

    /// The most incidents the next `handle` or `tick` can open: one per fault in its hold-down
    /// (a tick may settle them all), plus a few for calls and operator commands.
    public var incidentIDsNeededAtMost: Int { dueCount + 16 }

    /// Supplied ids not used, to give back to the store at a clean stop.
    public var unusedIncidentIDs: [Range<Int64>] { incidentIDs.unused }

    /// Ids taken beyond the supplied blocks (0 unless the daemon failed to supply in time).
    public var incidentIDsOverdrawn: Int { incidentIDs.overdrawn }
}
