import ForewarnConfig
import Logging
import SNMP
import ServiceLifecycle
import Store

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

        public var description: String {
            switch self {
            case .configuration(let error): return error.description
            case .store(let error): return error.description
            case .snmp(let error): return error.description
            }
        }
    }

    public static func run(_ options: Options, logLevel: LogLevelControl, logger: Logger) async throws {
        var configuration: Configuration
        do {
            configuration = try ConfigLoader.load(path: options.configPath)
        } catch {
            throw Failure.configuration(error)
        }
        if let store = options.storeOverride { configuration.daemon.storePath = store }
        if let level = Logger.Level(rawValue: configuration.daemon.logLevel) { logLevel.current = level }

        let store: SQLiteStore
        do {
            store = try SQLiteStore(path: configuration.daemon.storePath)
        } catch {
            throw Failure.store(error)
        }
        logger.info("starting", metadata: ["version": "\(ForewarnVersion.current)", "config.path": "\(options.configPath)",
                                           "store.path": "\(store.location)", "inventory": "\(configuration.summary)"])

        let current = CurrentConfiguration(configuration)
        let notifier = SystemdNotifier()
        let liveness = Liveness()
        var services: [any Service] = [
            HeartbeatService(store: store, current: current, identity: DaemonIdentity(instance: options.instance),
                             notifier: notifier, liveness: liveness, logger: logger),
            ReloadService(path: options.configPath, current: current, notifier: notifier, logLevel: logLevel,
                          logger: logger),
        ]
        do {
            services += try SNMPServices.make(configuration: configuration, current: current, store: store, logger: logger)
        } catch {
            throw Failure.snmp(error)
        }
        if let interval = notifier.watchdogInterval {
            let tolerance = max(interval * 2, configuration.daemon.heartbeatInterval * 3)
            services.append(WatchdogService(notifier: notifier, interval: interval, liveness: liveness,
                                            tolerance: tolerance, logger: logger))
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.info("stopped")
    }
}
