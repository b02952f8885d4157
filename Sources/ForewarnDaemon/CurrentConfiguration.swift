import ForewarnConfig
import Foundation
import Synchronization

/// The configuration the daemon runs with now; a reload swaps it whole or not at all.
public final class CurrentConfiguration: Sendable {
    private let value: Mutex<(configuration: Configuration, generation: Int, loadedAt: Date)>
    public init(_ configuration: Configuration, loadedAt: Date = Date()) { value = Mutex((configuration, 0, loadedAt)) }
    public var configuration: Configuration { value.withLock { $0.configuration } }
    /// Counts replacements, so a service can notice a reload without being told.
    public var generation: Int { value.withLock { $0.generation } }
    /// When the configuration in force was read (the start, or the last reload that took).
    public var loadedAt: Date { value.withLock { $0.loadedAt } }
    func replace(with configuration: Configuration, at: Date = Date()) {
        value.withLock { $0 = (configuration, $0.generation + 1, at) }
    }
}

/// When the daemon last showed it is making progress; the watchdog pings only while it is.
final class Liveness: Sendable {
    private let lastProgress = Mutex(ContinuousClock.now)
    func markProgress() { lastProgress.withLock { $0 = .now } }
    var sinceLastProgress: Duration { lastProgress.withLock { ContinuousClock.now - $0 } }
}
