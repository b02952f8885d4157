import ForewarnConfig
import Foundation
import Testing

/// `daemon.store` as a PostgreSQL URL with its password file and TLS, and the `cluster` section.
@Suite struct StoreConfigTests {
    static func parse(_ yaml: String, base: String = "/etc/forewarn") throws(ConfigError) -> Configuration {
        try ConfigLoader.parse(yaml: yaml, file: "forewarn.yaml", baseDirectory: base)
    }

    static func problem(_ yaml: String, base: String = "/etc/forewarn") -> String? {
        do {
            _ = try parse(yaml, base: base)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func aPostgreSQLURLIsKeptAsItIsAndItsOptionsGoIntoIt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-store-config-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "s3cret\n".write(toFile: folder + "/db-password", atomically: true, encoding: .utf8)
        try "-----BEGIN CERTIFICATE-----\n".write(toFile: folder + "/db-ca.pem", atomically: true, encoding: .utf8)
        let configuration = try Self.parse("""
            daemon:
              store: postgresql://forewarn@db1.example.net:5432/noc
              store_password_file: db-password
              store_tls: verify-full
              store_ca_file: db-ca.pem
            elements: []
            """, base: folder)
        let url = try #require(URLComponents(string: configuration.daemon.storePath))
        #expect(url.scheme == "postgresql" && url.host == "db1.example.net" && url.path == "/noc")
        #expect(url.queryItems == [URLQueryItem(name: "password_file", value: folder + "/db-password"),
                                   URLQueryItem(name: "sslmode", value: "verify-full"),
                                   URLQueryItem(name: "sslrootcert", value: folder + "/db-ca.pem")])
        // A SQLite path is still made absolute against the configuration's folder.
        #expect(try Self.parse("daemon:\n  store: data/forewarn.sqlite\nelements: []\n").daemon.storePath
                == "/etc/forewarn/data/forewarn.sqlite")
    }

    @Test(arguments: [
        ("daemon:\n  store: postgresql://db1/noc\nelements: []\n",
         "forewarn.yaml:2:10: 'store' in daemon must be postgresql://USER@HOST[:PORT]/DATABASE or a SQLite file's path"),
        ("daemon:\n  store: postgresql://forewarn@db1/noc\n  store_tls: sometimes\nelements: []\n",
         "forewarn.yaml:3:14: 'store_tls' in daemon must be one of disable, prefer, require, verify-full, not 'sometimes'"),
        ("daemon:\n  store: postgresql://forewarn@db1/noc\n  store_password_file: /nonexistent/password\nelements: []\n",
         "forewarn.yaml:3:24: daemon: cannot read store_password_file '/nonexistent/password'"),
        ("daemon:\n  store: postgresql://forewarn@db1/noc\n  store_ca_file: /etc/ssl/certs/ca-certificates.crt\nelements: []\n",
         "forewarn.yaml:3:3: daemon: 'store_ca_file' needs store_tls: verify-full"),
        ("daemon:\n  store: /var/lib/forewarn/forewarn.sqlite\n  store_tls: require\nelements: []\n",
         "forewarn.yaml:3:3: daemon: 'store_tls' is for a PostgreSQL store (store: postgresql://…)"),
        ("cluster:\n  takeover_after: 6s\nelements: []\n",
         "forewarn.yaml:2:3: cluster: takeover_after must be at least agreement + 5 × refresh (8.0 seconds), so that a live instance is never taken for dead"),
        ("cluster:\n  takeover: 20s\nelements: []\n",
         "forewarn.yaml:2:3: unknown key 'takeover' in cluster (allowed: takeover_after, agreement, refresh)"),
    ])
    func aBadStoreOrClusterSettingIsRefusedWhereItIsWritten(_ yaml: String, _ message: String) {
        #expect(Self.problem(yaml) == message)
    }

    @Test func clusterTimingDefaultsAndIsRead() throws {
        #expect(try Self.parse("elements: []\n").cluster == ClusterTiming())
        let timing = try Self.parse("cluster:\n  takeover_after: 30s\n  agreement: 5s\n  refresh: 2s\nelements: []\n").cluster
        #expect(timing.takeoverAfter == .seconds(30) && timing.agreement == .seconds(5) && timing.refresh == .seconds(2))
    }
}
