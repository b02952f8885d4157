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
        // persistence behind a narrow interface (SQLite now, PostgreSQL later)
        .target(name: "Store", dependencies: [
            "ForewarnModel",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // wiring: services, signals, sd_notify, reload
        .target(name: "ForewarnDaemon", dependencies: [
            "ForewarnModel", "ForewarnConfig", "Store", "SNMP", "Probes",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "forewarn", dependencies: [
            "ForewarnDaemon", "ForewarnConfig", "Store", "SNMP", "Probes",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "ForewarnConfigTests", dependencies: ["ForewarnConfig", "ForewarnModel"],
                    resources: [.copy("testdata")]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "ForewarnModel"]),
        .testTarget(name: "SNMPTests", dependencies: ["SNMP", "ForewarnModel", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "EdgeLibraryTests", dependencies: ["SNMP", "Probes"]),
        .testTarget(name: "ForewarnDaemonTests", dependencies: ["ForewarnDaemon", "ForewarnConfig", "Store", "ForewarnModel"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Store", "ForewarnModel"]),
        .executableTarget(name: "snmp-bench", dependencies: ["SNMP", "ForewarnModel", .product(name: "Logging", package: "swift-log")], path: "Benchmarks/snmp-bench"),
        .executableTarget(name: "forewarn-bench", dependencies: ["ForewarnConfig", "ForewarnModel"], path: "Benchmarks/forewarn-bench"),
    ],
    swiftLanguageModes: [.v6]
)
