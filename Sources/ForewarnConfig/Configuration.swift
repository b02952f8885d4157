import ForewarnModel

/// Settings of the daemon process itself.
public struct DaemonSettings: Sendable, Hashable {
    public static let defaultStorePath = "/var/lib/forewarn/forewarn.sqlite"
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    public var storePath: String
    public var trapListen: SocketEndpoint
    public var httpListen: SocketEndpoint
    /// When set, every HTTP path but /healthz needs `Authorization: Bearer TOKEN`.
    public var httpToken: String?
    public var logLevel: String
    public var heartbeatInterval: Duration

    public init(storePath: String = DaemonSettings.defaultStorePath,
                trapListen: SocketEndpoint = SocketEndpoint(address: .v4(0), port: 162),
                httpListen: SocketEndpoint = SocketEndpoint(address: .v4(0x7f00_0001), port: 9730),
                logLevel: String = "info", heartbeatInterval: Duration = .seconds(5)) {
        self.storePath = storePath
        self.trapListen = trapListen
        self.httpListen = httpListen
        self.logLevel = logLevel
        self.heartbeatInterval = heartbeatInterval
    }
}

/// A validated configuration: every reference resolves, the topology has no cycle.
public struct Configuration: Sendable {
    /// The file it was read from, as given.
    public var source: String
    public var daemon: DaemonSettings
    public var profiles: [ProfileID: SNMPProfile]
    /// Elements in file order.
    public var elements: [Element]
    /// Lines in file order: the YAML `lines:` first, then `lines_csv:`.
    public var lines: [Line]
    public var customers: [Customer]
    public var contracts: [Contract]
    public var maintenance: [MaintenanceWindow]
    public var hooks: [Hook]
    /// Named probe profiles (`probe_profiles:`).
    public var probeProfiles: [ProfileID: ProbeProfile]
    public var probing: ProbingSettings
    public var correlation: CorrelationSettings
    public var snmp = SNMPSettings()
    /// `billing:` defaults and `credit_policies:` by id.
    public var billing = BillingSettings()
    public var creditPolicies: [PolicyID: CreditPolicy] = [:]

    public init(source: String, daemon: DaemonSettings, profiles: [ProfileID: SNMPProfile] = [:],
                elements: [Element] = [], lines: [Line] = [], customers: [Customer] = [],
                contracts: [Contract] = [], maintenance: [MaintenanceWindow] = [], hooks: [Hook] = [],
                probeProfiles: [ProfileID: ProbeProfile] = [:], probing: ProbingSettings = ProbingSettings(),
                correlation: CorrelationSettings = CorrelationSettings()) {
        self.source = source
        self.daemon = daemon
        self.profiles = profiles
        self.elements = elements
        self.lines = lines
        self.customers = customers
        self.contracts = contracts
        self.maintenance = maintenance
        self.hooks = hooks
        self.probeProfiles = probeProfiles
        self.probing = probing
        self.correlation = correlation
    }

    /// The one-line summary `check-config` and the daemon's start-up log print.
    public var summary: String {
        "\(Self.count(elements.count, "element")), \(Self.count(lines.count, "line")), "
            + "\(Self.count(customers.count, "customer")), \(Self.count(contracts.count, "contract")) "
            + "(\(Self.count(profiles.count, "SNMP profile")), \(Self.count(maintenance.count, "maintenance window")), "
            + "\(Self.count(hooks.count, "hook")))"
    }

    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }

    /// The probe profile a line is probed and judged with.
    public func probeProfile(for line: Line) -> ProbeProfile {
        line.probeProfile.flatMap { probeProfiles[$0] } ?? probeProfiles["default"] ?? .standard
    }

    /// The interface a line's ARP probes go out of.
    public func arpInterface(for line: Line) -> String? {
        probeProfile(for: line).arpInterface ?? probing.arpInterface
    }

    /// The SNMP profile an element is polled with.
    public func profile(for element: Element) -> SNMPProfile {
        element.snmpProfile.flatMap { profiles[$0] } ?? profiles["default"] ?? .netSNMPDefault
    }
}
