import Cluster
import ForewarnConfig
import ForewarnModel
import Synchronization

/// Which elements (and their lines) this instance polls and probes now. Alone on its store an
/// instance owns everything; sharing a PostgreSQL store, what the agreed partition gives it
/// (nothing until the members agree). The sources follow `generation`.
public final class Ownership: Sendable {
    public let me: String
    /// Nil: alone, owns everything.
    private let state: Mutex<(partition: Partition?, shared: Bool, generation: Int)>

    /// Alone on the store: owns every element.
    public static func everything(me: String) -> Ownership { Ownership(me: me, shared: false) }

    /// Sharing the store: owns nothing until the members agree.
    public static func shared(me: String) -> Ownership { Ownership(me: me, shared: true) }

    private init(me: String, shared: Bool) {
        self.me = me
        state = Mutex((nil, shared, 0))
    }

    public var isShared: Bool { state.withLock { $0.shared } }
    public var generation: Int { state.withLock { $0.generation } }
    public var partition: Partition? { state.withLock { $0.partition } }

    public func owns(_ element: ElementID) -> Bool {
        state.withLock { state in !state.shared || state.partition?.owner(of: element) == me }
    }

    /// The instance polling `element`; nil when none does now (or alone: this one).
    public func owner(of element: ElementID) -> String? {
        state.withLock { state in state.shared ? state.partition?.owner(of: element) : me }
    }

    func update(_ partition: Partition?) {
        state.withLock { state in
            guard state.shared, state.partition != partition else { return }
            state.partition = partition
            state.generation += 1
        }
    }

    /// The part of a configuration this instance polls and probes: its elements and their lines.
    func share(of configuration: Configuration) -> (elements: [ElementID], lines: [LineID]) {
        let elements = configuration.elements.map(\.id).filter(owns)
        let owned = Set(elements)
        return (elements, configuration.lines.filter { owned.contains($0.element) }.map(\.id))
    }

    /// `share(of:)` of the configuration in force, worked out again only when it or the
    /// partition changed (a hundred thousand elements are not hashed every second).
    func share(of current: CurrentConfiguration) -> (elements: [ElementID], lines: [LineID]) {
        let key = (current.generation, generation)
        if let cached = cache.withLock({ $0.key == key ? $0.share : nil }) { return cached }
        let share = share(of: current.configuration)
        cache.withLock { $0 = (key, share) }
        return share
    }

    private let cache = Mutex<(key: (Int, Int), share: (elements: [ElementID], lines: [LineID])?)>(((-1, -1), nil))
}
