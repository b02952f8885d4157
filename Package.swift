// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "forewarn",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "forewarn", targets: ["forewarn"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // C at the edges: module maps and shims only.
        .systemLibrary(name: "CNetSNMP", pkgConfig: "netsnmp", providers: [.apt(["libsnmp-dev"])]),
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),

        // Value types shared by every stage; no I/O.
        .target(name: "ForewarnModel"),
        // Configuration and inventory: YAML + CSV, validated with file:line:column errors.
        .target(name: "ForewarnConfig", dependencies: [
            "ForewarnModel",
            .product(name: "Yams", package: "Yams"),
        ]),
        // observe
        .target(name: "SNMP", dependencies: [
            "CNetSNMP", "ForewarnModel",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "Probes", dependencies: [
            "CPcap", "ForewarnModel",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // decide: pure, clock-generic state machines returning actions; no I/O
        .target(name: "Correlation", dependencies: ["ForewarnModel"]),
        // several instances on one store: who is in, who polls what (pure, clock-generic)
        .target(name: "Cluster", dependencies: ["ForewarnModel"]),
        // persistence: one protocol per concern (no implementation, no I/O)
        .target(name: "Persistence", dependencies: ["ForewarnModel"]),
        // the embedded store; only the factory names it
        .target(name: "StoreSQLite", dependencies: [
            "ForewarnModel", "Persistence",
            .product(name: "GRDB", package: "GRDB.swift"),
            // The SQLite C API, for the one read that steps millions of rows (a report's lines).
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        // the shared store: PostgreSQL, for several instances on one network
        .target(name: "StorePostgres", dependencies: [
            "ForewarnModel", "Persistence",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // the store factory: `daemon.store` / `--store` to a store
        .target(name: "Stores", dependencies: [
            "Persistence", "StoreSQLite", "StorePostgres", .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        // act: what each ticketing hook is told (pure), templates, delivery with retries; the
        // HTTP client and the program runner stay behind `TicketSink`
        .target(name: "Ticketing", dependencies: [
            "ForewarnModel", "Persistence",
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Subprocess", package: "swift-subprocess"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // account: status, incident listings and their JSON contracts; KPIs and operations reports (pure)
        .target(name: "Reports", dependencies: [
            "ForewarnModel", "Persistence", .product(name: "Mustache", package: "swift-mustache"),
        ]),
        // account: outage per line and billing period, contractual credits, the billing feed (pure)
        .target(name: "Billing", dependencies: [
            "ForewarnModel", "Persistence", .product(name: "Mustache", package: "swift-mustache"),
        ]),
        // wiring: services, signals, sd_notify, reload
        .target(name: "ForewarnDaemon", dependencies: [
            "ForewarnModel", "ForewarnConfig", "Persistence", "Stores", "SNMP", "Probes", "Correlation", "Ticketing",
            "Reports", "Billing", "Cluster",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Hummingbird", package: "hummingbird"),
        ]),
        .executableTarget(name: "forewarn", dependencies: [
            "ForewarnDaemon", "ForewarnConfig", "ForewarnModel", "Persistence", "Stores", "Reports", "SNMP", "Probes",
            "Billing",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        .testTarget(name: "ForewarnModelTests", dependencies: ["ForewarnModel"]),
        .testTarget(name: "ForewarnConfigTests", dependencies: ["ForewarnConfig", "ForewarnModel"],
                    exclude: ["testdata"]),
        .testTarget(name: "CorrelationTests", dependencies: ["Correlation", "ForewarnModel"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "ForewarnModel"]),
        // The store contract suite (every implementation), plus what is SQLite's own.
        .testTarget(name: "StoreTests", dependencies: [
            "Persistence", "Stores", "StoreSQLite", "StorePostgres", "ForewarnModel", "Correlation", "Ticketing",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "BillingTests", dependencies: ["Billing", "Persistence", "Stores", "ForewarnModel"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Persistence", "ForewarnModel"]),
        .testTarget(name: "TicketingTests", dependencies: [
            "Ticketing", "Persistence", "Stores", "ForewarnModel", "ForewarnConfig",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "SNMPTests", dependencies: ["SNMP", "ForewarnModel", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "EdgeLibraryTests", dependencies: ["SNMP", "Probes"]),
        .testTarget(name: "ProbesTests", dependencies: ["Probes", "ForewarnModel", "ForewarnConfig"], resources: [.copy("fixtures")]),
        .testTarget(name: "ForewarnDaemonTests", dependencies: [
            "ForewarnDaemon", "ForewarnConfig", "Persistence", "Stores", "ForewarnModel", "Probes", "Correlation",
            "Reports", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "EndToEndTests", dependencies: [
            "Persistence", "Stores", "ForewarnModel", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .executableTarget(name: "forewarn-bench", dependencies: [
                              "ForewarnConfig", "ForewarnModel", "Correlation", "Persistence", "Stores", "Ticketing",
                              "ForewarnDaemon", "StorePostgres",
                              .product(name: "PostgresNIO", package: "postgres-nio"),
                              .product(name: "Hummingbird", package: "hummingbird"), "Billing", "Reports",
                              .product(name: "Logging", package: "swift-log"),
                              .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                              .product(name: "GRDB", package: "GRDB.swift"),
                          ],
                          path: "Benchmarks/forewarn-bench"),
        // `make bench BENCH=probe-round|probe-sustained`: against fping, loopback only.
        .executableTarget(name: "probe-bench", dependencies: ["Probes", "ForewarnModel"], path: "Benchmarks/probe-bench"),
        .executableTarget(name: "snmp-bench", dependencies: ["SNMP", "ForewarnModel", .product(name: "Logging", package: "swift-log")], path: "Benchmarks/snmp-bench"),
    ],
    swiftLanguageModes: [.v6]
)
