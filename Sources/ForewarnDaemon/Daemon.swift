import ForewarnConfig
import ForewarnModel
import Logging
import Prometheus
import SNMP
import ServiceLifecycle
import Persistence
import Stores
import UnixSignals

/// `forewarn run`: loads the configuration, opens the store and runs every service until
/// SIGTERM or SIGINT, which shut down gracefully (in-flight store writes finish).
public enum Daemon {
    public struct Options: Sendable {
        public var configPath: String
        public var storeOverride: String?
        public var instance: String?
        /// This instance's own trap and HTTP addresses (several instances on one host).
        public var trapListen: SocketEndpoint?
        public var httpListen: SocketEndpoint?

        public init(configPath: String, storeOverride: String? = nil, instance: String? = nil,
                    trapListen: SocketEndpoint? = nil, httpListen: SocketEndpoint? = nil) {
            self.configPath = configPath
            self.storeOverride = storeOverride
            self.instance = instance
            self.trapListen = trapListen
            self.httpListen = httpListen
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case configuration(ConfigError)
        case store(StoreError)
        case snmp(SNMPError)
        /// A service stopped the daemon after it had started.
        case service(any Error)

        public var description: String {
            switch self {
            case .configuration(let error): return error.description
            case .store(let error): return error.description
            case .snmp(let error): return error.description
            case .service(let error): return String(describing: error)
            }
        }
    }

    /// `metrics` is the registry the executable bootstrapped swift-metrics with; `/metrics` serves it.
    public static func run(_ options: Options, logLevel: LogLevelControl, metrics: PrometheusCollectorRegistry,
                           logger: Logger) async throws {
        var configuration: Configuration
        do {
            configuration = try ConfigurationCheck.load(path: options.configPath)
        } catch {
            throw Failure.configuration(error)
        }
        let adjust = { @Sendable (configuration: inout Configuration) in
            if let store = options.storeOverride { configuration.daemon.storePath = store }
            if let endpoint = options.trapListen { configuration.daemon.trapListen = endpoint }
            if let endpoint = options.httpListen { configuration.daemon.httpListen = endpoint }
        }
        adjust(&configuration)
        if let level = Logger.Level(rawValue: configuration.daemon.logLevel) { logLevel.current = level }

        let store: any Store
        do {
            store = try StoreFactory.open(configuration.daemon.storePath, access: .daemon)
        } catch {
            throw Failure.store(error)
        }
        logger.info("starting", metadata: ["version": "\(ForewarnVersion.current)", "config.path": "\(options.configPath)",
                                           "store.path": "\(store.location)", "inventory": "\(configuration.summary)"])

        let current = CurrentConfiguration(configuration)
        let identity = DaemonIdentity(instance: options.instance)
        let notifier = SystemdNotifier()
        let liveness = Liveness()
        // Sharing a PostgreSQL store with other instances: this one polls its share of the
        // elements, and runs the correlator only while it holds the correlator's lock.
        let cluster = store as? any ClusterStore
        let ownership = cluster == nil ? Ownership.everything(me: identity.instance) : Ownership.shared(me: identity.instance)
        // The sources deliver to `router`: the correlator here, or the store's queue to the one
        // elsewhere. The correlator's confirmation requests reach the sources through
        // `confirmations`, filled once the sources exist (and another instance's, through the store).
        let router = ObservationRouter()
        let confirmations = ConfirmationRouter()
        let storeHealth = StoreHealth(location: store.location)
        let collection = CollectionStatistics()
        let lastRounds = LineProbeLog()
        let accounting = StatusAccounting()
        /// The correlator and ticket delivery: for the daemon's life alone on the store, for a
        /// term as the leader when sharing it.
        let makeLeader = { @Sendable () -> (CorrelatorService<ContinuousClock>, TicketDeliveryService) in
            let deliverer = TicketDeliveryService.make(store: store, configuration: current.configuration, logger: logger)
            let correlator = CorrelatorService(store: store, current: current, requesters: [confirmations],
                                               outboxWritten: { deliverer.wake() }, storeHealth: storeHealth, logger: logger)
            return (correlator, TicketDeliveryService(deliverer: deliverer, current: current))
        }
        // Stops after the sources (services stop in reverse order), before the correlator.
        let transitions = TransitionWriter(store: store, health: storeHealth, logger: logger)
        var services: [any Service] = []
        let requests = ClusterRequests(ownership: ownership, current: current)
        if let cluster {
            confirmations.register(requests)
            services.append(ClusterService(store: cluster, identity: identity, ownership: ownership, current: current,
                                           router: router, requests: requests, leaderDuties: {
                let (correlator, delivery) = makeLeader()
                router.attach(correlator)
                defer { router.detach() }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await correlator.run() }
                    group.addTask { try await delivery.run() }
                    group.addTask {
                        await ObservationConsumer(store: cluster, correlator: correlator, storeHealth: storeHealth,
                                                  logger: logger).run()
                    }
                    // The correlator ends the term (a graceful stop, a failure, the lock lost).
                    defer { group.cancelAll() }
                    try await group.next()
                }
            }, logger: logger))
        } else {
            let (correlator, delivery) = makeLeader()
            router.attach(correlator)
            services += [correlator, delivery]
        }
        services += [
            transitions,
            HeartbeatService(store: store, current: current, identity: identity,
                             notifier: notifier, liveness: liveness, storeHealth: storeHealth, collection: collection,
                             ownership: cluster == nil ? nil : ownership, logger: logger),
            ReloadService(path: options.configPath, hangups: await UnixSignalsSequence(trapping: .sighup), current: current,
                          notifier: notifier, logLevel: logLevel, logger: logger, adjust: adjust),
        ]
        let lineConfirmations = LineConfirmations()
        confirmations.register(lineConfirmations)
        let makeProbes = { @Sendable (configuration: Configuration) in
            ProbeService(configuration: configuration,
                         sinks: [TransitionSink(store: transitions, correlator: router, logger: logger, collection: collection)],
                         liveness: nil, confirmations: lineConfirmations,
                         confirmationSink: CorrelatorLineSink(correlator: router, collection: collection),
                         collection: collection, lastRounds: lastRounds, logger: logger)
        }
        if cluster == nil {
            services.append(makeProbes(configuration))
        } else {
            services.append(OwnedProbeService(current: current, ownership: ownership, make: makeProbes))
        }
        let tolerance = max((notifier.watchdogInterval ?? .zero) * 2, configuration.daemon.heartbeatInterval * 3)
        var forward: (@Sendable (ReceivedTrap, String) -> Bool)?
        if cluster != nil {
            forward = { trap, reason in
                requests.forwardTrap(from: [trap.source] + (trap.agentAddress.map { [$0] } ?? []), reason: reason,
                                     ifIndex: trap.ifIndex)
            }
        }
        do {
            let snmp = try SNMPServices.make(configuration: configuration, current: current, store: transitions, correlator: router,
                                             collection: collection, ownership: cluster == nil ? nil : ownership,
                                             forward: forward, logger: logger)
            services += snmp.services
            confirmations.register(snmp.confirmations)
            let scheduler = snmp.scheduler
            requests.bind(poll: { element, ifIndex, reason in scheduler.confirm(element, ifIndex: ifIndex, reason: reason) },
                          probe: { line in lineConfirmations.requestConfirmation(.probeLine(line)) })
        } catch {
            throw Failure.snmp(error)
        }
        if let interval = notifier.watchdogInterval {
            services.append(WatchdogService(notifier: notifier, interval: interval, liveness: liveness,
                                            tolerance: tolerance, logger: logger))
        }
        services.append(HTTPListenerService(endpoint: configuration.daemon.httpListen, listener: HTTPListener.application(
            endpoint: configuration.daemon.httpListen, token: configuration.daemon.httpToken, store: store,
            liveness: liveness, tolerance: tolerance, storeHealth: storeHealth, registry: metrics, current: current,
            collection: collection, lastRounds: lastRounds, accounting: accounting, logger: logger)))
        services.append(StatusAccountingService(accounting: accounting, store: store, current: current))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            // A service that cannot run (an HTTP address in use, a store that cannot take what
            // was decided) stops the daemon: its heartbeat says so at once, not a `running` that
            // `status` would believe until the beat grows stale.
            do {
                try await store.writeHeartbeat(identity.heartbeat(state: .failed, configuration: current.configuration))
            } catch let failure {
                logger.error("cannot write the failed heartbeat", metadata: ["error": "\(failure)"])
            }
            logger.critical("stopped on an error", metadata: ["error": "\(error)"])
            throw Failure.service(error)
        }
        logger.info("stopped")
    }
}
