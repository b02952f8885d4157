import ForewarnModel

/// How instances agree on who is in the cluster, from the members' beats as the store's clock
/// ages them (so that hosts' clocks do not matter).
public struct ClusterSettings: Sendable, Hashable {
    /// An instance that dies has its elements polled by the others within this time.
    public var takeoverAfter: Duration
    /// A change of the live members is applied only when it has held this long: instances see
    /// the store at slightly different moments, and must switch owners together.
    public var agreement: Duration
    /// How often each instance beats and reads the others' beats.
    public var refresh: Duration

    public init(takeoverAfter: Duration = .seconds(15), agreement: Duration = .seconds(3), refresh: Duration = .seconds(1)) {
        (self.takeoverAfter, self.agreement, self.refresh) = (takeoverAfter, agreement, refresh)
    }

    /// A member whose last beat is older than this is gone: its death is seen at most `refresh`
    /// later, agreed `agreement` after that, and applied by the sources within one more
    /// `refresh` — all within `takeoverAfter`.
    public var staleAfter: Duration { takeoverAfter - agreement - refresh * 2 }

    /// Why these settings cannot keep their promise; nil when they can.
    public var problem: String? {
        staleAfter < refresh * 3
            ? "cluster.takeover_after must be at least agreement + 5 × refresh (\(agreement + refresh * 5)) so that a live member is never taken for dead"
            : nil
    }
}

/// One member as the store shows it.
public struct ClusterMemberBeat: Sendable, Hashable {
    public var instance: String
    /// Since its last beat, by the store's clock.
    public var age: Duration
    /// It said it is leaving (a graceful stop): its share moves at once, not after `staleAfter`.
    public var leaving: Bool

    public init(instance: String, age: Duration, leaving: Bool = false) {
        (self.instance, self.age, self.leaving) = (instance, age, leaving)
    }
}

/// The members in force, decided from what the store shows, as a synchronous state machine over
/// an injected clock: a new set of live members takes force once every read for `agreement`
/// has shown that same set. Until the first agreement (a starting instance), and when the store
/// has not been read for `staleAfter` (this instance is cut off, and the others have taken its
/// share), nothing is in force and this instance owns nothing.
public struct Membership<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public let me: String
    public let settings: ClusterSettings
    /// The members in force; nil before the first agreement or when cut off.
    public private(set) var inForce: Partition?
    private var candidate: Set<String>?
    private var candidateSince: Instant?
    private var lastRead: Instant?

    public init(me: String, settings: ClusterSettings) {
        self.me = me
        self.settings = settings
    }

    /// The store was read at `now`: the members it shows. Returns the partition in force after
    /// it (changed or not).
    @discardableResult
    public mutating func observe(_ beats: [ClusterMemberBeat], now: Instant) -> Partition? {
        lastRead = now
        var live = Set(beats.filter { !$0.leaving && $0.age < settings.staleAfter }.map(\.instance))
        // This instance counts itself only when its own beat is there and fresh.
        if !live.contains(me) { live = [] }
        if live != candidate {
            candidate = live
            candidateSince = now
        }
        let agreed = candidateSince.map { $0.duration(to: now) >= settings.agreement } ?? false
        if agreed, let candidate {
            let partition = candidate.isEmpty ? nil : Partition(members: candidate)
            if partition != inForce { inForce = partition }
        }
        return inForce
    }

    /// Time passed without a read of the store (it failed): after `staleAfter` the others have
    /// taken this instance's share, so it gives it up too.
    @discardableResult
    public mutating func unread(now: Instant) -> Partition? {
        if let lastRead, lastRead.duration(to: now) >= settings.staleAfter {
            inForce = nil
            candidate = nil
            candidateSince = nil
        }
        return inForce
    }

    /// Whether this instance polls `element` now.
    public func owns(_ element: ElementID) -> Bool { inForce?.owner(of: element) == me }
}
