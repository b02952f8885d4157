import Persistence
import Synchronization

/// Which of the daemon's writers cannot write the store right now, and why. While any cannot,
/// the daemon is degraded: `/healthz` answers 503 with the reason, the heartbeat (when it can
/// still be written) says `degraded`, and the writers log the failure.
public final class StoreHealth: Sendable {
    public let location: String
    private let failures = Mutex<[String: String]>([:])

    public init(location: String) {
        self.location = location
    }

    /// `writer` (e.g. "incident changes") failed; `waiting` of its records are kept for a retry.
    func failed(_ writer: String, waiting: Int? = nil, error: StoreError) {
        let count = waiting.map { " (\($0) waiting)" } ?? ""
        failures.withLock { $0[writer] = "\(writer)\(count): \(error.reason)" }
    }

    /// `writer` wrote again (or has nothing left to write).
    func wrote(_ writer: String) {
        _ = failures.withLock { $0.removeValue(forKey: writer) }
    }

    /// Nil while every writer writes; otherwise what cannot be written and why.
    public var problem: String? {
        let failing = failures.withLock { $0 }
        guard !failing.isEmpty else { return nil }
        return "store \(location) cannot be written: " + failing.keys.sorted().map { failing[$0]! }.joined(separator: "; ")
    }
}
