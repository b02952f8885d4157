import Logging
import ServiceLifecycle

/// Pings systemd's watchdog at half of `WatchdogSec`, but only while the heartbeat loop keeps
/// turning: a daemon stuck on its store or event loop stops pinging and systemd restarts it.
struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let interval: Duration
    let liveness: Liveness
    /// How long without progress still counts as alive.
    let tolerance: Duration
    let logger: Logger

    func run() async throws {
        var warned = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if liveness.sinceLastProgress <= tolerance {
                notifier.notify("WATCHDOG=1")
                warned = false
            } else if !warned {
                logger.critical("no progress for \(liveness.sinceLastProgress): withholding watchdog pings")
                warned = true
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
