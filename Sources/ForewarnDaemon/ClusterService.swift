import Cluster
import ForewarnConfig
import ForewarnModel
import Foundation
import Logging
import Metrics
import Persistence
import ServiceLifecycle
import Synchronization

/// Several instances on one PostgreSQL store. Every `refresh` this instance beats (by the
/// store's clock), reads the others' beats and feeds the agreed members to `Ownership`, which
/// the sources follow; it competes for the correlator's lock, and while it holds it runs the
/// correlator, the queue of the others' observations and ticket delivery (`LeaderDuties`),
/// stopping them the moment the lock's session is lost. On a graceful stop it says it is
/// leaving, so that its share and the correlator move at once.
struct ClusterService: Service {
    let store: any ClusterStore
    let identity: DaemonIdentity
    let ownership: Ownership
    let current: CurrentConfiguration
    let router: ObservationRouter
    let requests: ClusterRequests
    /// The correlator and ticket delivery of one term as the leader; runs until cancelled or
    /// the graceful shutdown.
    let leaderDuties: @Sendable () async throws -> Void
    let logger: Logger

    struct DuplicateInstance: Error, CustomStringConvertible {
        var instance: String
        var store: String
        var description: String {
            "another daemon runs as instance \(instance) on store \(store): give this one its own --instance name"
        }
    }

    private static let roleGauge = Gauge(label: "forewarn_cluster_correlator")
    private static let membersGauge = Gauge(label: "forewarn_cluster_members")
    private static let elementsGauge = Gauge(label: "forewarn_cluster_owned_elements")
    private static let linesGauge = Gauge(label: "forewarn_cluster_owned_lines")

    func run() async throws {
        let me = identity.instance
        let instanceLock = store.sessionLock(ClusterLockName.instance(me))
        guard await instanceLock.acquire() else {
            // Not taken: held by another process, or the store cannot be reached (then say that).
            _ = try await store.members()
            throw DuplicateInstance(instance: me, store: store.location)
        }
        let correlatorLock = store.sessionLock(ClusterLockName.correlator)
        let timing = current.configuration.cluster
        let settings = ClusterSettings(takeoverAfter: timing.takeoverAfter, agreement: timing.agreement, refresh: timing.refresh)
        var membership = Membership<ContinuousClock.Instant>(me: me, settings: settings)
        let clock = ContinuousClock()
        var leader: Task<Void, Never>?
        let leaderEnded = Flag()
        var lastFailure: String?

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await router.forwarder.run(store: store, me: me, logger: logger) }
            group.addTask { await requests.run(store: store, me: me, logger: logger) }

            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                // The correlator: taken when free, given up the moment its session is lost.
                if let running = leader {
                    let ended = leaderEnded.isSet
                    let held = ended ? false : await correlatorLock.isHeld()
                    if !held {
                        running.cancel()
                        await running.value
                        leader = nil
                        router.detach()
                        await correlatorLock.release()
                        logger.warning("no longer running the correlator: its lock was lost, or it stopped")
                    }
                } else if await correlatorLock.acquire() {
                    logger.notice("running the correlator and ticket delivery (the correlator's lock taken)",
                                  metadata: ["instance": "\(me)"])
                    leaderEnded.set(false)
                    leader = Task {
                        do {
                            try await leaderDuties()
                        } catch {
                            logger.error("the correlator stopped", metadata: ["error": "\(error)"])
                        }
                        leaderEnded.set(true)
                    }
                }
                let configuration = current.configuration
                let share = ownership.share(of: current)
                let role: ClusterMember.Role = leader != nil ? .correlator : (ownership.partition == nil ? .standby : .poller)
                do {
                    try await store.beat(ClusterMember(instance: me, hostname: identity.hostname, pid: identity.pid,
                                                       startedAt: identity.startedAt, role: role,
                                                       elements: share.elements.count, lines: share.lines.count))
                    let members = try await store.members()
                    let partition = membership.observe(members.map {
                        ClusterMemberBeat(instance: $0.instance, age: $0.age, leaving: $0.leaving)
                    }, now: clock.now)
                    if partition != ownership.partition {
                        logger.notice("members agreed", metadata: [
                            "members": "\(partition?.members ?? [])",
                            "elements": "\(partition.map { $0.shares(of: configuration.elements.map(\.id))[me] ?? 0 } ?? 0)",
                        ])
                    }
                    ownership.update(partition)
                    Self.membersGauge.record(partition?.members.count ?? 0)
                    if lastFailure != nil { logger.notice("cluster beats written again") }
                    lastFailure = nil
                } catch {
                    ownership.update(membership.unread(now: clock.now))
                    if lastFailure != "\(error)" {
                        logger.error("cannot beat or read the cluster's members", metadata: ["error": "\(error)"])
                    }
                    lastFailure = "\(error)"
                }
                Self.roleGauge.record(leader != nil ? 1 : 0)
                Self.elementsGauge.record(share.elements.count)
                Self.linesGauge.record(share.lines.count)
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: timing.refresh) }
            }

            // Leaving: the others take the share and the correlator without waiting for the beat to age.
            try? await store.beat(ClusterMember(instance: me, hostname: identity.hostname, pid: identity.pid,
                                                startedAt: identity.startedAt, role: leader != nil ? .correlator : .poller,
                                                elements: 0, lines: 0, leaving: true))
            ownership.update(nil)
            if let running = leader {
                await running.value  // the correlator writes what it holds on the graceful stop
                router.detach()
                await correlatorLock.release()
            }
            group.cancelAll()
        }
        await router.forwarder.flush(store: store, me: me, logger: logger)
        try? await store.removeMember(me)
        await instanceLock.release()
    }
}

/// A flag set by one task and read by another.
final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set(_ newValue: Bool) { value.withLock { $0 = newValue } }
}

/// Where the sources' observations go: to the correlator when this instance runs it, else into
/// the store's queue, which brings them to the instance that does.
final class ObservationRouter: ObservationSink {
    private let leader = Mutex<(any ObservationSink)?>(nil)
    let forwarder = ObservationForwarder()

    func submit(_ observation: Observation) {
        if let leader = leader.withLock({ $0 }) {
            leader.submit(observation)
        } else {
            forwarder.add(observation)
        }
    }

    func attach(_ correlator: any ObservationSink) { leader.withLock { $0 = correlator } }
    func detach() { leader.withLock { $0 = nil } }
}

/// Observations for the correlator on another instance, written to the store's queue in
/// batches (every 100 ms), numbered on from this instance's last.
final class ObservationForwarder: Sendable {
    private let pending = Mutex<[Observation]>([])
    /// More than this waiting (the store unreachable for long): the oldest are dropped, counted.
    static let limit = 500_000
    private static let dropped = Counter(label: "forewarn_cluster_observations_dropped_total")
    private static let forwarded = Counter(label: "forewarn_cluster_observations_forwarded_total")
    private let next = Mutex<Int64?>(nil)

    func add(_ observation: Observation) {
        let overflow = pending.withLock { pending -> Int in
            pending.append(observation)
            guard pending.count > Self.limit else { return 0 }
            let excess = pending.count - Self.limit
            pending.removeFirst(excess)
            return excess
        }
        if overflow > 0 { Self.dropped.increment(by: overflow) }
    }

    func run(store: any ClusterStore, me: String, logger: Logger) async {
        while !Task.isCancelled {
            let ok = await flush(store: store, me: me, logger: logger)
            try? await Task.sleep(for: ok ? .milliseconds(100) : .seconds(1))
        }
    }

    /// Writes what is waiting; false when the store refused it (it waits for the next flush).
    @discardableResult
    func flush(store: any ClusterStore, me: String, logger: Logger) async -> Bool {
        let batch = pending.withLock { pending -> [Observation] in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !batch.isEmpty else { return true }
        do {
            // Numbers go on from the last queued, and never below the clock's microseconds at
            // start: a queue trimmed empty while this instance was away does not restart them.
            var first: Int64
            if let known = next.withLock({ $0 }) {
                first = known
            } else {
                first = max(try await store.lastObservationNumber(of: me) + 1, Date().unixMilliseconds * 1_000)
            }
            try await store.enqueueObservations(batch, from: me, firstNumber: first)
            first += Int64(batch.count)
            next.withLock { $0 = first }
            Self.forwarded.increment(by: batch.count)
            return true
        } catch {
            pending.withLock { $0.insert(contentsOf: batch, at: 0) }
            logger.error("cannot queue observations for the correlator", metadata: ["error": "\(error)",
                                                                                  "observations": "\(batch.count)"])
            return false
        }
    }
}

/// Requests between instances: what this one asks of an element's or a line's owner (the
/// correlator confirming, a trap received here), and what is asked of this one.
final class ClusterRequests: ConfirmationRequester {
    let ownership: Ownership
    let current: CurrentConfiguration
    /// Poll an element this instance owns now, for a reason (a confirmation, a trap); probe a
    /// line it owns now. Bound once the sources exist.
    private let handlers = Mutex<(poll: @Sendable (ElementID, Int?, String) -> Void, probe: @Sendable (LineID) -> Void)>(
        ({ _, _, _ in }, { _ in }))
    private let outgoing = Mutex<[ClusterRequest]>([])
    private let lookups = Mutex<(generation: Int, byAddress: [IPAddress: ElementID], lineElement: [LineID: ElementID])>(
        (-1, [:], [:]))

    init(ownership: Ownership, current: CurrentConfiguration) {
        (self.ownership, self.current) = (ownership, current)
    }

    func bind(poll: @escaping @Sendable (ElementID, Int?, String) -> Void, probe: @escaping @Sendable (LineID) -> Void) {
        handlers.withLock { $0 = (poll, probe) }
    }

    /// The correlator's confirmation of a subject another instance owns goes to that instance
    /// (what this one owns its own sources answer).
    func requestConfirmation(_ request: ConfirmationRequest) {
        switch request {
        case .pollElement(let element):
            send(to: element, .poll(element, ifIndex: nil, reason: "correlator confirmation"))
        case .probeLine(let line):
            guard let element = tables().lineElement[line] else { return }
            send(to: element, .probe(line))
        }
    }

    /// A trap from an element this instance does not poll: its owner polls it. False when the
    /// source is no element of the configuration.
    func forwardTrap(from addresses: [IPAddress], reason: String, ifIndex: Int?) -> Bool {
        let byAddress = tables().byAddress
        guard let element = addresses.lazy.compactMap({ byAddress[$0] }).first else { return false }
        send(to: element, .poll(element, ifIndex: ifIndex, reason: reason + " (received by \(ownership.me))"))
        return true
    }

    private func send(to element: ElementID, _ kind: ClusterRequest.Kind) {
        guard let owner = ownership.owner(of: element), owner != ownership.me else { return }
        outgoing.withLock { $0.append(ClusterRequest(instance: owner, kind: kind)) }
    }

    private func tables() -> (byAddress: [IPAddress: ElementID], lineElement: [LineID: ElementID]) {
        let generation = current.generation
        if let cached = lookups.withLock({ $0.generation == generation ? ($0.byAddress, $0.lineElement) : nil }) { return cached }
        let configuration = current.configuration
        var byAddress: [IPAddress: ElementID] = [:]
        for element in configuration.elements { byAddress[element.address] = element.id }
        let lineElement = Dictionary(configuration.lines.map { ($0.id, $0.element) }, uniquingKeysWith: { first, _ in first })
        lookups.withLock { $0 = (generation, byAddress, lineElement) }
        return (byAddress, lineElement)
    }

    /// Sends what this instance asks, and answers what is asked of it, until cancelled.
    func run(store: any ClusterStore, me: String, logger: Logger) async {
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in store.notifications(.requests) { wake.yield(()) }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(100))
                    wake.yield(())
                }
                wake.finish()
            }
            var lastFailure: String?
            for await _ in wakeups {
                do {
                    let send = outgoing.withLock { outgoing -> [ClusterRequest] in
                        defer { outgoing.removeAll() }
                        return outgoing
                    }
                    do {
                        try await store.sendRequests(send)
                    } catch {
                        outgoing.withLock { $0.insert(contentsOf: send, at: 0) }
                        throw error
                    }
                    let (poll, probe) = handlers.withLock { $0 }
                    for request in try await store.takeRequests(for: me) {
                        switch request.kind {
                        case .poll(let element, let ifIndex, let reason): poll(element, ifIndex, reason)
                        case .probe(let line): probe(line)
                        }
                    }
                    lastFailure = nil
                } catch {
                    if lastFailure != "\(error)" { logger.error("cannot exchange requests with the other instances",
                                                                 metadata: ["error": "\(error)"]) }
                    lastFailure = "\(error)"
                }
            }
            group.cancelAll()
        }
    }
}

/// The leader's reading of the observation queue: every instance's observations, each
/// instance's in order, handed to the correlator. Handled rows are removed once they are old
/// enough for the correlator to have written what they caused (a new leader reads what is
/// left: the correlator takes an observation seen twice as the same evidence).
struct ObservationConsumer {
    let store: any ClusterStore
    let correlator: any ObservationSink
    let storeHealth: StoreHealth?
    let logger: Logger
    /// How long a handled observation stays queued.
    static let keep: Duration = .seconds(10)

    func run() async {
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let clock = ContinuousClock()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in store.notifications(.observations) { wake.yield(()) } }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    wake.yield(())
                }
                wake.finish()
            }
            var cursors: [String: Int64] = [:]
            var handled: [(cursors: [String: Int64], at: ContinuousClock.Instant)] = []
            var lastFailure: String?
            for await _ in wakeups {
                do {
                    while true {
                        let queued = try await store.queuedObservations(after: cursors, limit: 5_000)
                        for item in queued {
                            if let observation = item.observation {
                                correlator.submit(observation)
                            } else {
                                logger.error("a queued observation cannot be read: skipped", metadata: [
                                    "instance": "\(item.instance)", "number": "\(item.number)", "problem": "\(item.problem ?? "")"])
                            }
                            cursors[item.instance] = max(cursors[item.instance] ?? 0, item.number)
                        }
                        if queued.count < 5_000 { break }
                    }
                    handled.append((cursors, clock.now))
                    if storeHealth?.problem == nil, let index = handled.lastIndex(where: { clock.now - $0.at >= Self.keep }) {
                        try await store.trimObservations(upTo: handled[index].cursors)
                        handled.removeFirst(index + 1)
                    }
                    lastFailure = nil
                } catch {
                    if lastFailure != "\(error)" { logger.error("cannot read the observation queue", metadata: ["error": "\(error)"]) }
                    lastFailure = "\(error)"
                }
            }
            group.cancelAll()
        }
    }
}
