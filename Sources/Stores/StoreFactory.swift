import Persistence
import StorePostgres
import StoreSQLite

/// The one place that knows the store implementations: opens the store `daemon.store` or
/// `--store` names — a SQLite file's path, or a `postgresql://` URL. Everything else — daemon,
/// CLI, benchmarks, tests of the stages — holds the protocols.
public enum StoreFactory {
    public static func open(_ location: String, access: StoreAccess) throws(StoreError) -> any Store {
        if PostgresLocation.isPostgres(location) { return try PostgresStore(url: location, access: access) }
        return try SQLiteStore(path: location, access: access)
    }

    /// An existing store, held with the daemon's lock so that the CLI can apply its own operator
    /// commands; nil when a daemon runs on it (its commands are the daemon's to apply).
    public static func openUnlessDaemonRuns(_ location: String) async throws(StoreError) -> (any Store)? {
        if PostgresLocation.isPostgres(location) { return try await PostgresStore.openUnlessDaemonRuns(url: location) }
        return try SQLiteStore.openUnlessDaemonRuns(path: location)
    }

    /// Whether `location` names a PostgreSQL store (else a SQLite file).
    public static func isPostgres(_ location: String) -> Bool { PostgresLocation.isPostgres(location) }
}
