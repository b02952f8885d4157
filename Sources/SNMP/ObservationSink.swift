import ForewarnModel

/// Where the SNMP services send what they observe, in batches (one poll's worth); the
/// correlator consumes it.
public protocol SNMPObservationSink: Sendable {
    func deliver(_ observations: [Observation]) async
}

/// An element as the SNMP services monitor it: how to reach it and which ports matter.
public struct MonitoredElement: Sendable, Hashable {
    public var element: Element
    public var profile: SNMPProfile
    /// Ports whose state and errors are watched (the subscriber lines' ports).
    public var ports: [PortReference]
    /// Errors per second (ifInErrors + ifOutErrors) above which a port is degraded.
    public var errorRateThreshold: Double

    public init(element: Element, profile: SNMPProfile, ports: [PortReference], errorRateThreshold: Double = 1) {
        self.element = element
        self.profile = profile
        self.ports = ports
        self.errorRateThreshold = errorRateThreshold
    }

    public var target: SNMPTarget { SNMPTarget(element: element, profile: profile) }
}

/// A binary min-heap of scheduled polls.
struct PollQueue<Instant: Comparable> {
    struct Entry { var at: Instant; var index: Int; var generation: Int }
    private(set) var entries: [Entry] = []

    var first: Entry? { entries.first }
    var count: Int { entries.count }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].at < entries[parent].at else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let top = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && entries[left].at < entries[smallest].at { smallest = left }
            if right < entries.count && entries[right].at < entries[smallest].at { smallest = right }
            guard smallest != parent else { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
