import ForewarnModel

/// Settings of the daemon process itself. Printed, debug-printed or dumped (service-lifecycle
/// logs the services holding it), the HTTP token shows as `***`.
public struct DaemonSettings: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
                              CustomReflectable {
    public static let defaultStorePath = "/var/lib/forewarn/forewarn.sqlite"
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    public var storePath: String
    public var trapListen: SocketEndpoint
    public var httpListen: SocketEndpoint
    /// When set, every HTTP path but /healthz needs `Authorization: Bearer TOKEN`.
    public var httpToken: String?
    public var logLevel: String
    public var heartbeatInterval: Duration
    /// Where NOC staff reach this daemon's web view; ticket templates link to incidents there.
    public var publicURL: String?
    /// Calls dated further ahead than this (clock skew of the caller) are refused.
    public var maxFutureSkew: Duration = .seconds(300)

    /// The instants accepted from callers (HTTP intake, CLI).
    public var timeBounds: TimeBounds { TimeBounds(maxFutureSkew: maxFutureSkew) }

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

    public var description: String {
        "DaemonSettings(storePath: \(storePath), trapListen: \(trapListen), httpListen: \(httpListen), "
            + "httpToken: \(httpToken == nil ? "none" : "***"), logLevel: \(logLevel), heartbeatInterval: \(heartbeatInterval))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["storePath": storePath, "trapListen": trapListen, "httpListen": httpListen,
                                "httpToken": httpToken == nil ? "none" : "***", "logLevel": logLevel,
                                "heartbeatInterval": heartbeatInterval], displayStyle: .struct)
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
    public var ticketing = TicketingSettings()
    /// Several instances on one PostgreSQL store: how fast they take over each other's share.
    public var cluster = ClusterTiming()
    /// `billing:` defaults and `credit_policies:` by id.
    public var billing = BillingSettings()
    public var creditPolicies: [PolicyID: CreditPolicy] = [:]
    /// `reports.targets`: what the operations report judges the KPIs against.
    public var reportTargets = ReportTargets()

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

/// The `cluster` section: instances sharing a PostgreSQL store find each other by their beats
/// every `refresh`, apply a change of members once it has held for `agreement`, and take over
/// a dead instance's elements within `takeoverAfter`.
public struct ClusterTiming: Sendable, Hashable {
    public var takeoverAfter: Duration = .seconds(15)
    public var agreement: Duration = .seconds(3)
    public var refresh: Duration = .seconds(1)

    public init() {}
}

/// The `ticketing` section: how the outbox is delivered.
public struct TicketingSettings: Sendable, Hashable {
    /// Deliveries in flight at once, across incidents (one at a time per incident and hook).
    public var concurrency: Int
    /// How often the outbox is looked at when nothing woke the deliverer sooner.
    public var pollInterval: Duration

    public init(concurrency: Int = 32, pollInterval: Duration = .seconds(1)) {
        self.concurrency = concurrency
        self.pollInterval = pollInterval
    }
}
