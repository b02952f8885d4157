import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

/// The PostgreSQL server the test script started (`scripts/with-postgres`, `make test`): each
/// test that uses it gets a database of its own, dropped afterwards. Without the server the
/// PostgreSQL half of the store's tests is not run, and `postgresServerIsThereWhenRequired` says
/// so when it was expected (`make test` always starts one).
enum TestPostgres {
    /// `postgresql://forewarn@127.0.0.1:PORT/forewarn?sslmode=disable`, or nil.
    static var url: String? {
        guard let url = ProcessInfo.processInfo.environment["FOREWARN_TEST_POSTGRES"], !url.isEmpty else { return nil }
        return url
    }

    /// A fresh, empty database on the test server; its URL.
    static func createDatabase() async throws -> String {
        let server = try #require(url)
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await admin(server) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        // A test process runs hundreds of tests at once on two cores: a store may wait its turn
        // far longer than a daemon ever would.
        return server.replacingOccurrences(of: "/forewarn?", with: "/\(name)?") + "&operation_timeout=600"
    }

    /// Drops a database made by `createDatabase`, ending its sessions.
    static func dropDatabase(_ databaseURL: String) async {
        guard let server = url, let components = URLComponents(string: databaseURL) else { return }
        let name = String(components.path.dropFirst())
        guard name.hasPrefix("t_") else { return }
        try? await admin(server) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
    }

    /// Runs SQL on the server's `postgres` database.
    static func admin(_ server: String, _ body: (PostgresConnection) async throws -> Void) async throws {
        let components = try #require(URLComponents(string: server))
        let configuration = PostgresConnection.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: components.user ?? "forewarn",
            password: nil, database: "postgres", tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    static let logger = Logger(label: "forewarn.test.postgres") { _ in SwiftLogNoOpLogHandler() }
}

@Suite struct TestPostgresTests {
    /// `make test` sets FOREWARN_REQUIRE_POSTGRES: there the PostgreSQL store must be tested.
    @Test func postgresServerIsThereWhenRequired() {
        if ProcessInfo.processInfo.environment["FOREWARN_REQUIRE_POSTGRES"] == "1" {
            #expect(TestPostgres.url != nil, "FOREWARN_TEST_POSTGRES is not set: run the tests with scripts/with-postgres")
        }
    }
}

/// The URL of each test database by the name its store shows (no options, no password).
final class PostgresDatabases: Sendable {
    static let shared = PostgresDatabases()
    private let urls = Mutex<[String: String]>([:])

    func remember(_ url: String) {
        guard let components = URLComponents(string: url) else { return }
        let shown = "postgresql://\(components.user ?? "")@\(components.host ?? ""):\(components.port ?? 5432)\(components.path)"
        urls.withLock { $0[shown] = url }
    }

    func url(displayed location: String) -> String? { urls.withLock { $0[location] } }
}
