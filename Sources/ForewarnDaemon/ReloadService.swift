import Dispatch
import ForewarnConfig
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP reloads the configuration file. A configuration with errors is logged and the one in
/// force keeps running; a good one replaces it whole.
struct ReloadService: Service {
    let path: String
    /// Created before any service starts, so a SIGHUP right after READY=1 reloads instead of
    /// killing the process with the signal's default action.
    let hangups: UnixSignalsSequence
    let current: CurrentConfiguration
    let notifier: SystemdNotifier
    let logLevel: LogLevelControl
    let logger: Logger
    /// What the command line sets over the file (--store, --trap-listen, --http-listen), again
    /// over every configuration reloaded.
    var adjust: @Sendable (inout Configuration) -> Void = { _ in }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                await reload()
            }
        }
    }

    func reload() async {
        notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(SystemdNotifier.monotonicMicroseconds())")
        logger.notice("reloading configuration", metadata: ["config.path": "\(path)"])
        let result = await Self.loadOffPool(path)
        let previous = current.configuration
        switch result {
        case .success(var configuration):
            adjust(&configuration)
            for warning in Self.restartOnlyChanges(from: previous, to: configuration) {
                logger.warning("\(warning) changed: takes effect after a restart")
            }
            current.replace(with: configuration)
            if let level = Logger.Level(rawValue: configuration.daemon.logLevel) { logLevel.current = level }
            logger.notice("configuration reloaded", metadata: ["inventory": "\(configuration.summary)"])
            notifier.notify("READY=1\nSTATUS=\(HeartbeatService.status(configuration))")
        case .failure(let error):
            logger.error("configuration rejected, keeping the one in force",
                         metadata: ["config.path": "\(path)", "errors": "\(error.diagnostics.count)"])
            for diagnostic in error.diagnostics { logger.error("\(diagnostic)") }
            notifier.notify("READY=1\nSTATUS=reload failed: \(error.diagnostics.first?.description ?? "")")
        }
    }

    static func restartOnlyChanges(from old: Configuration, to new: Configuration) -> [String] {
        var changed: [String] = []
        if old.daemon.storePath != new.daemon.storePath { changed.append("daemon.store") }
        if old.daemon.trapListen != new.daemon.trapListen { changed.append("daemon.trap_listen") }
        if old.daemon.httpListen != new.daemon.httpListen { changed.append("daemon.http_listen") }
        if old.probing != new.probing { changed.append("probing") }
        if old.probeProfiles != new.probeProfiles { changed.append("probe_profiles") }
        let probed = { (configuration: Configuration) in
            configuration.lines.map { "\($0.id) \($0.probe) \($0.target.map(\.description) ?? "-") \($0.probeProfile?.rawValue ?? "-")" }
        }
        if probed(old) != probed(new) { changed.append("probed lines") }
        return changed
    }

    /// Reading tens of thousands of CSV lines is blocking I/O: keep it off the cooperative pool.
    static func loadOffPool(_ path: String) async -> Result<Configuration, ConfigError> {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(ConfigError) in try ConfigurationCheck.load(path: path) })
            }
        }
    }
}
