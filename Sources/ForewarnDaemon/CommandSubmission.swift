import ForewarnConfig
import Foundation
import Logging
import Persistence
import Stores

/// How the CLI's incident commands take effect. The command is queued in the store either way
/// (its result is kept there beside it). A running daemon applies it within a second and the
/// CLI waits for the result; with no daemon running, the CLI takes the daemon's lock and applies
/// every pending command itself, through the same correlator, before it returns (a daemon
/// starting in those seconds finds the lock taken and refuses; systemd starts it again). Either way, what
/// the operator entered is in the store, or refused with the reason, when the command returns.
public enum CommandSubmission {
    public enum Outcome: Sendable {
        /// Applied by the running daemon (`byDaemon`) or here.
        case applied(CommandResult, byDaemon: Bool)
        /// Queued; the daemon has not taken it within the wait (it will, or is stuck).
        case waiting
    }

    /// Queues `command` in the store at `location` and sees it applied. Without a readable
    /// configuration (needed to apply it here) it only waits for a daemon.
    public static func submit(_ command: OperatorCommand, location: String, configuration: Configuration?,
                              wait: Duration = .seconds(15)) async throws -> (id: Int64, outcome: Outcome) {
        let store = try StoreFactory.open(location, access: .existing)
        let id = try await store.enqueue(command, at: Date())
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: wait)
        repeat {
            if let result = try await store.commandResult(id) { return (id, .applied(result, byDaemon: true)) }
            // No daemon (or it just stopped): apply what is queued here, holding its lock.
            if let configuration, let held = try await StoreFactory.openUnlessDaemonRuns(location) {
                let service = CorrelatorService(store: held, current: CurrentConfiguration(configuration),
                                                logger: Logger(label: "forewarn.cli") { _ in SwiftLogNoOpLogHandler() })
                if let mine = try await service.applyPendingCommands().first(where: { $0.id == id }) {
                    return (id, .applied(CommandResult(processedAt: Date(), result: mine.result), byDaemon: false))
                }
                continue  // taken by whoever held the lock before: its result is in the store
            }
            try await Task.sleep(for: .milliseconds(100))
        } while clock.now < deadline
        if let result = try await store.commandResult(id) { return (id, .applied(result, byDaemon: true)) }
        return (id, .waiting)
    }
}
