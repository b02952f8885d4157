import ForewarnModel
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Polls every element on its interval (fixed grid, per-element phase), confirms failures with
/// fast polls, polls at once what a trap names, and turns answers into observations. The
/// decisions are `Reachability` and `PortHealth`; this shell only sleeps, polls and delivers.
public final class PollScheduler: Service, Sendable {
    public struct Settings: Sendable {
        public var confirmInterval: Duration
        public var confirmations: Int

        public init(confirmInterval: Duration = .seconds(5), confirmations: Int = 3) {
            self.confirmInterval = confirmInterval
            self.confirmations = confirmations
        }
    }

    typealias Instant = ContinuousClock.Instant

    struct Monitor {
        var spec: MonitoredElement
        var reachability: Reachability<Instant>
        var ports: [PortReference: PortHealth<Instant>] = [:]
        var names: [String: Int]?
        var resolveNames = false
        var inFlight = false
        var generation = 0
        var trapReason: String?
        var lastError: SNMPError?
        /// Taken out of the configuration by a reload: never polled again.
        var removed = false
    }

    struct State {
        var monitors: [Monitor]
        var queue = PollQueue<Instant>()
        var byID: [ElementID: Int] = [:]
        var byAddress: [IPAddress: ElementID] = [:]
    }

    private let state: Mutex<State>
    private let poller: ElementPoller
    private let sink: any SNMPObservationSink
    private let logger: Logger
    private let clock = ContinuousClock()
    private let origin: Instant
    private let settings: Settings
    private let pollFinished: (@Sendable (PollOutcome) -> Void)?

    /// How a poll ended, for the daemon's collection health (polls per second, SNMP timeouts).
    public enum PollOutcome: Sendable, Hashable {
        case answered, timedOut, failed
    }

    /// `pollFinished` is told how every poll ended (not the ones stopped by shutdown).
    public init(engine: SNMPEngine, elements: [MonitoredElement], settings: Settings = Settings(),
                sink: any SNMPObservationSink, logger: Logger,
                pollFinished: (@Sendable (PollOutcome) -> Void)? = nil) {
        let origin = ContinuousClock.now
        self.origin = origin
        var state = State(monitors: [])
        for spec in elements { Self.add(spec, to: &state, origin: origin, settings: settings) }
        self.state = Mutex(state)
        self.settings = settings
        self.poller = ElementPoller(engine: engine)
        self.sink = sink
        self.logger = logger
        self.pollFinished = pollFinished
    }

    private static func add(_ spec: MonitoredElement, to state: inout State, origin: Instant, settings: Settings) {
        let index = state.monitors.count
        let interval = spec.element.pollInterval
        let phase = Reachability<Instant>.phase(for: spec.element.id.rawValue, interval: interval)
        var monitor = Monitor(spec: spec, reachability: Reachability(origin: origin, interval: interval, phase: phase,
                                                                      confirmInterval: settings.confirmInterval,
                                                                      confirmations: settings.confirmations))
        for port in spec.ports { monitor.ports[port] = PortHealth(errorRateThreshold: spec.errorRateThreshold) }
        for action in monitor.reachability.start() {
            if case .poll(let at) = action { state.queue.push(.init(at: at, index: index, generation: 0)) }
        }
        state.monitors.append(monitor)
        state.byID[spec.element.id] = index
        state.byAddress[spec.element.address] = spec.element.id
    }

    /// After a configuration reload: new elements are polled from now on, removed ones no more,
    /// changed ones with their new settings. What is known about an element (up or down since
    /// when, its last sysUpTime, its ports' counters) survives when only other fields changed.
    public func reconfigure(_ elements: [MonitoredElement]) {
        state.withLock { state in
            let wanted = Set(elements.map(\.element.id))
            for (id, index) in state.byID where !wanted.contains(id) {
                state.monitors[index].removed = true
                state.monitors[index].generation += 1
                state.byID[id] = nil
            }
            for spec in elements {
                guard let index = state.byID[spec.element.id] else {
                    Self.add(spec, to: &state, origin: origin, settings: settings)
                    continue
                }
                let old = state.monitors[index].spec
                guard old != spec else { continue }
                var monitor = state.monitors[index]
                let sameAgent = old.element.address == spec.element.address && old.element.snmpPort == spec.element.snmpPort
                    && old.profile == spec.profile && old.element.pollInterval == spec.element.pollInterval
                if !sameAgent {
                    // Another agent or interval: start afresh (a reload is not evidence of a reboot).
                    state.monitors[index].removed = true
                    state.monitors[index].generation += 1
                    state.byID[spec.element.id] = nil
                    Self.add(spec, to: &state, origin: origin, settings: settings)
                    continue
                }
                monitor.spec = spec
                var ports: [PortReference: PortHealth<Instant>] = [:]
                for port in spec.ports {
                    var health = monitor.ports[port] ?? PortHealth(errorRateThreshold: spec.errorRateThreshold)
                    health.errorRateThreshold = spec.errorRateThreshold
                    ports[port] = health
                }
                monitor.ports = ports
                state.monitors[index] = monitor
            }
            state.byAddress = [:]
            for (id, index) in state.byID { state.byAddress[state.monitors[index].spec.element.address] = id }
        }
    }

    /// The element configured at `address`, for mapping traps.
    public func element(at address: IPAddress) -> ElementID? {
        state.withLock { $0.byAddress[address] }
    }

    /// Polls `element` now on someone else's behalf (the correlator confirming a fault); the
    /// answer arrives as ordinary observations. Returns at once.
    public func requestPoll(_ element: ElementID, reason: String = "confirmation requested") {
        confirm(element, ifIndex: nil, reason: reason)
    }

    /// Polls `element` now, because a trap said something about it (or `port`); the poll decides.
    public func confirm(_ element: ElementID, ifIndex: Int?, reason: String) {
        state.withLock { state in
            guard let index = state.byID[element] else { return }
            let now = clock.now
            state.monitors[index].trapReason = reason
            for action in state.monitors[index].reachability.trapReceived(at: now) {
                if case .poll(let at) = action {
                    state.monitors[index].generation += 1
                    state.queue.push(.init(at: at, index: index, generation: state.monitors[index].generation))
                }
            }
        }
    }

    public func run() async throws {
        logger.info("SNMP polling started", metadata: ["elements": "\(state.withLock { $0.monitors.count })"])
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let now = clock.now
                let due = state.withLock { state -> [Int] in
                    var due: [Int] = []
                    while let first = state.queue.first, first.at <= now {
                        _ = state.queue.pop()
                        guard first.generation == state.monitors[first.index].generation,
                              !state.monitors[first.index].removed else { continue }
                        if state.monitors[first.index].inFlight {
                            // Still polling: look again in a second.
                            state.queue.push(.init(at: now.advanced(by: .seconds(1)), index: first.index, generation: first.generation))
                            continue
                        }
                        state.monitors[first.index].inFlight = true
                        due.append(first.index)
                    }
                    return due
                }
                for index in due { group.addTask { await self.poll(index) } }
                let next = state.withLock { $0.queue.first?.at } ?? now.advanced(by: .seconds(1))
                // Wake at least every 100 ms so trap-triggered polls start promptly.
                try? await clock.sleep(until: min(next, now.advanced(by: .milliseconds(100))))
            }
            // Stopping: polls still waiting for answers (or for timeouts and retries, up to minutes)
            // are cancelled rather than waited for.
            group.cancelAll()
        }
        logger.info("SNMP polling stopped")
    }

    private func poll(_ index: Int) async {
        let (spec, names, resolve, reason) = state.withLock { state in
            let monitor = state.monitors[index]
            return (monitor.spec, monitor.names, monitor.resolveNames, monitor.trapReason)
        }
        let sentAt = clock.now
        let result: Result<ElementPoller.Reading, SNMPError>
        do {
            result = .success(try await poller.poll(spec.target, ports: spec.ports, knownNames: names, resolveNames: resolve))
        } catch {
            result = .failure(error)
        }
        if case .failure(let error) = result, error.cause == .cancelled || error.cause == .shutDown {
            // Stopped, not answered: no evidence about the element either way.
            state.withLock { $0.monitors[index].inFlight = false }
            return
        }
        if let pollFinished {
            switch result {
            case .success: pollFinished(.answered)
            case .failure(let error):
                if case .timeout = error.cause { pollFinished(.timedOut) } else { pollFinished(.failed) }
            }
        }
        let now = clock.now
        let wallNow = Date()
        func date(_ instant: Instant) -> Date {
            let back = instant.duration(to: now)
            return wallNow.addingTimeInterval(-(Double(back.components.seconds) + Double(back.components.attoseconds) / 1e18))
        }
        let element = spec.element.id
        let source: Observation.Source = reason == nil ? .poll : .trap
        let prefix = reason.map { "\($0), confirmed by poll: " } ?? ""
        let observations: [Observation] = state.withLock { state in
            guard !state.monitors[index].removed else { return [] }
            var monitor = state.monitors[index]
            defer { state.monitors[index] = monitor }
            monitor.inFlight = false
            monitor.trapReason = nil
            var out: [Observation] = []
            var actions: [Reachability<Instant>.Action]
            switch result {
            case .success(let reading):
                actions = monitor.reachability.pollSucceeded(at: now, uptime: reading.sysUpTime)
                // Asked for (by the correlator or a trap): the answer is news even when the element
                // was up all along; it settles faults waiting on it and lets their incidents be
                // announced without waiting out the hold-down.
                if reason != nil && !actions.contains(where: { if case .declareUp = $0 { true } else { false } }) {
                    actions.append(.declareUp(since: now))
                }
                let rebooted = actions.contains { if case .declareRebooted = $0 { true } else { false } }
                monitor.names = reading.names
                monitor.resolveNames = rebooted
                monitor.lastError = nil
                for port in reading.ports {
                    let sample = PortHealth<Instant>.Sample(adminStatus: port.adminStatus, operStatus: port.operStatus,
                                                            inErrors: port.inErrors, outErrors: port.outErrors,
                                                            inOctets: port.inOctets, outOctets: port.outOctets,
                                                            octetsAre64Bit: port.octetsAre64Bit)
                    if let change = monitor.ports[port.reference]?.update(sample, at: now, rebooted: rebooted) {
                        out.append(Observation(subject: .port(element, port.reference), kind: .state(change.health),
                                               since: date(change.since), observedAt: wallNow, source: source,
                                               detail: prefix + "ifIndex \(port.ifIndex): \(change.detail)"))
                    }
                }
            case .failure(let error):
                actions = monitor.reachability.pollFailed(at: now, sentAt: sentAt)
                monitor.lastError = error
            }
            for action in actions {
                switch action {
                case .poll(let at):
                    monitor.generation += 1
                    state.queue.push(.init(at: at, index: index, generation: monitor.generation))
                case .declareUp(let since):
                    out.append(Observation(subject: .element(element), kind: .state(.up), since: date(since),
                                           observedAt: wallNow, source: source, detail: prefix + "sysUpTime.0 answered"))
                case .declareDown(let since, let failed):
                    out.append(Observation(subject: .element(element), kind: .state(.down), since: date(since),
                                           observedAt: wallNow, source: source,
                                           detail: prefix + "\(failed) polls of sysUpTime.0 failed: \(monitor.lastError?.description ?? "no answer")"))
                case .declareRebooted(let at):
                    out.append(Observation(subject: .element(element), kind: .rebooted, since: date(at), observedAt: wallNow,
                                           source: source, detail: prefix + "sysUpTime.0 went backwards"))
                }
            }
            return out
        }
        if !observations.isEmpty { await sink.deliver(observations) }
    }
}
