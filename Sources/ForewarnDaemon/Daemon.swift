import ForewarnConfig
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

        public init(configPath: String, storeOverride: String? = nil, instance: String? = nil) {
            self.configPath = configPath
            self.storeOverride = storeOverride
            self.instance = instance
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
        if let store = options.storeOverride { configuration.daemon.storePath = store }
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
        // The sources (SNMP engine, prober) deliver to `correlator`; its confirmation requests
        // reach the sources through `confirmations`, filled once the sources exist.
        let confirmations = ConfirmationRouter()
        let deliverer = TicketDeliveryService.make(store: store, configuration: configuration, logger: logger)
        let storeHealth = StoreHealth(location: store.location)
        let collection = CollectionStatistics()
        let lastRounds = LineProbeLog()
        let accounting = StatusAccounting()
        let correlator = CorrelatorService(store: store, current: current, requesters: [confirmations],
                                           outboxWritten: { deliverer.wake() }, storeHealth: storeHealth, logger: logger)
        // Stops after the sources (services stop in reverse order), before the correlator.
        let transitions = TransitionWriter(store: store, health: storeHealth, logger: logger)
        var services: [any Service] = [
            correlator,
            transitions,
            TicketDeliveryService(deliverer: deliverer, current: current),
            HeartbeatService(store: store, current: current, identity: identity,
                             notifier: notifier, liveness: liveness, storeHealth: storeHealth, collection: collection,
                             logger: logger),
            ReloadService(path: options.configPath, hangups: await UnixSignalsSequence(trapping: .sighup), current: current, notifier: notifier, logLevel: logLevel,
                          logger: logger),
        ]
        let lineConfirmations = LineConfirmations()
        confirmations.register(lineConfirmations)
        services.append(ProbeService(configuration: configuration,
                                     sinks: [TransitionSink(store: transitions, correlator: correlator, logger: logger,
                                                            collection: collection)],
                                     liveness: nil, confirmations: lineConfirmations,
                                     confirmationSink: CorrelatorLineSink(correlator: correlator, collection: collection),
                                     collection: collection,
                                     lastRounds: lastRounds, logger: logger))
        let tolerance = max((notifier.watchdogInterval ?? .zero) * 2, configuration.daemon.heartbeatInterval * 3)
        do {
            let snmp = try SNMPServices.make(configuration: configuration, current: current, store: transitions, correlator: correlator,
                                             collection: collection, logger: logger)
            services += snmp.services
            confirmations.register(snmp.confirmations)
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
