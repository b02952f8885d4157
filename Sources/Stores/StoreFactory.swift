import Persistence
import StoreSQLite

/// The one place that knows the store implementations: opens the store `daemon.store` or
/// `--store` names. Everything else — daemon, CLI, benchmarks, tests of the stages — holds the
/// protocols. A `postgresql://` location will open the PostgreSQL store here.
public enum StoreFactory {
    public static func open(_ location: String, access: StoreAccess) throws(StoreError) -> any Store {
        try SQLiteStore(path: location, access: access)
    }

    /// An existing store, held with the daemon's lock so that the CLI can apply its own operator
    /// commands; nil when a daemon runs on it (its commands are the daemon's to apply).
    public static func openUnlessDaemonRuns(_ location: String) throws(StoreError) -> (any Store)? {
        try SQLiteStore.openUnlessDaemonRuns(path: location)
    }
}
