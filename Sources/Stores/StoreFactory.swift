import Persistence
import StoreSQLite

/// The one place that knows the store implementations: opens the store `daemon.store` or
/// `--store` names. Everything else — daemon, CLI, benchmarks, tests of the stages — holds the
/// protocols. A `postgresql://` location will open the PostgreSQL store here.
public enum StoreFactory {
    public static func open(_ location: String, access: StoreAccess) throws(StoreError) -> any Store {
        try SQLiteStore(path: location, access: access)
    }
}
