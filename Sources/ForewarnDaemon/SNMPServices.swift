import ForewarnConfig
import ForewarnModel
import Foundation
import Logging
import ServiceLifecycle
import SNMP
import Persistence
import Synchronization

/// The SNMP poller and trap receiver, built from the configuration.
enum SNMPServices {
    /// The poll scheduler, the trap receiver and the follower of reloads, delivering to the store's
    /// transitions and to `correlator`; and the scheduler as the correlator's way to confirm an
    /// element now.
    /// With `ownership`, only the elements this instance owns are polled (following it), and
    /// a trap from another's element goes to `forward`.
    static func make(configuration: Configuration, current: CurrentConfiguration, store: any TransitionStore,
                     correlator: any ObservationSink, collection: CollectionStatistics? = nil,
                     ownership: Ownership? = nil, forward: (@Sendable (ReceivedTrap, String) -> Bool)? = nil,
                     logger: Logger) throws(SNMPError)
        -> (services: [any Service], confirmations: any ConfirmationRequester, scheduler: PollScheduler)
    {
        NetSNMPLibrary.initialise()
        let settings = configuration.snmp
        let engine = try SNMPEngine(configuration: .init(maxOutstanding: settings.maxOutstanding),
                                    logger: logger.with(label: "snmp"))
        let monitored = monitoredElements(configuration).filter { ownership?.owns($0.element.id) ?? true }
        let sink = TransitionSink(store: store, correlator: correlator, logger: logger, collection: collection)
        var pollFinished: (@Sendable (PollScheduler.PollOutcome) -> Void)?
        var trapReceived: (@Sendable (ReceivedTrap, ElementID?) -> Void)?
        if let collection {
            pollFinished = { outcome in collection.pollFinished(timedOut: outcome == .timedOut) }
            trapReceived = { _, _ in collection.trapReceived(at: Date()) }
        }
        let scheduler = PollScheduler(engine: engine, elements: monitored,
                                      settings: .init(confirmInterval: settings.confirmInterval,
                                                      confirmations: settings.confirmAttempts),
                                      sink: sink, logger: logger, pollFinished: pollFinished)
        let receiver = TrapReceiver(engine: engine,
                                    settings: .init(listen: configuration.daemon.trapListen,
                                                    ratePerSecond: settings.trapRateLimit, burst: settings.trapBurst,
                                                    v3Profiles: settings.trapV3Profiles.compactMap { configuration.profiles[$0] },
                                                    senderEngineIDs: settings.trapEngineIDs,
                                                    communities: settings.trapCommunities.map(Set.init)),
                                    scheduler: scheduler, logger: logger,
                                    onTrap: trapReceived, forward: forward)
        return ([scheduler, receiver, SNMPReloadFollower(current: current, scheduler: scheduler, initial: monitored,
                                                         ownership: ownership, logger: logger)],
                SNMPConfirmations(scheduler: scheduler), scheduler)
    }

    /// Every element, with the ports its subscriber lines hang off and both ends of its uplinks
    /// (a lost uplink of a dual-homed element is an incident of its own).
    static func monitoredElements(_ configuration: Configuration) -> [MonitoredElement] {
        var ports: [ElementID: [PortReference]] = [:]
        func watch(_ port: PortReference?, on element: ElementID) {
            guard let port, !(ports[element]?.contains(port) ?? false) else { return }
            ports[element, default: []].append(port)
        }
        for line in configuration.lines { watch(line.port, on: line.element) }
        for element in configuration.elements {
            for (upstream, uplink) in element.uplinks.sorted(by: { $0.key < $1.key }) {
                watch(uplink.port, on: element.id)
                watch(uplink.peerPort, on: upstream)
            }
        }
        return configuration.elements.map { element in
            MonitoredElement(element: element, profile: configuration.profile(for: element), ports: ports[element.id] ?? [],
                             errorRateThreshold: configuration.snmp.errorRateThreshold(for: element.id))
        }
    }
}

/// The correlator's "poll this element now", answered by an immediate poll whose result comes
/// back as ordinary observations.
struct SNMPConfirmations: ConfirmationRequester {
    let scheduler: PollScheduler

    func requestConfirmation(_ request: ConfirmationRequest) {
        if case .pollElement(let element) = request { scheduler.requestPoll(element, reason: "correlator confirmation") }
    }
}

/// After a reload (SIGHUP), hands the new element list to the poll scheduler: checks the
/// configuration in force every 2 s and acts only when what SNMP monitors changed. Sharing the
/// store, the same when this instance's share changes (checked every 200 ms: a share moves
/// within a second of the members agreeing).
struct SNMPReloadFollower: Service {
    let current: CurrentConfiguration
    let scheduler: PollScheduler
    let initial: [MonitoredElement]
    var ownership: Ownership? = nil
    let logger: Logger

    func run() async throws {
        var last = initial
        var seen = (current.generation, ownership?.generation ?? 0)
        var waited: Duration = .zero
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(200)) }
            waited += .milliseconds(200)
            let now = (current.generation, ownership?.generation ?? 0)
            // A reload is looked at every 2 s as before; a new share at once.
            guard now.1 != seen.1 || (now.0 != seen.0 && waited >= .seconds(2)) else { continue }
            seen = now
            waited = .zero
            let monitored = SNMPServices.monitoredElements(current.configuration).filter {
                ownership?.owns($0.element.id) ?? true
            }
            guard monitored != last else { continue }
            let before = Set(last.map(\.element.id))
            let after = Set(monitored.map(\.element.id))
            scheduler.reconfigure(monitored)
            logger.notice(seen.1 > 0 ? "SNMP polling follows this instance's share" : "SNMP polling follows the reloaded configuration",
                          metadata: ["elements": "\(monitored.count)", "added": "\(after.subtracting(before).count)",
                                     "removed": "\(before.subtracting(after).count)"])
            last = monitored
        }
    }
}

extension Logger {
    func with(label: String) -> Logger {
        var copy = Logger(label: self.label + "." + label)
        copy.logLevel = logLevel
        return copy
    }
}
