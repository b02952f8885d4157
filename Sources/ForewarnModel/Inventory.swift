/// What the network is made of: the elements Forewarn polls and the subscriber lines it probes,
/// with the customers and contracts that turn outages into credits.

public enum ElementKind: String, Sendable, CaseIterable, Codable {
    case core, aggregation, distribution, access, cpe, server
}

public struct Element: Sendable, Hashable, Identifiable {
    public var id: ElementID
    public var name: String
    public var address: IPAddress
    public var snmpPort: UInt16
    public var kind: ElementKind
    /// Elements this one reaches the NOC through; two or more entries are redundant uplinks.
    public var upstream: [ElementID]
    /// Which ports carry the link to each upstream, where the configuration says so: needed to
    /// tell a lost redundant uplink from a port fault, and to confirm a child the moment its
    /// upstream reports the port facing it down.
    public var uplinks: [ElementID: Uplink]
    public var snmpProfile: ProfileID?
    public var pollInterval: Duration

    public init(id: ElementID, name: String, address: IPAddress, snmpPort: UInt16 = 161, kind: ElementKind,
                upstream: [ElementID] = [], uplinks: [ElementID: Uplink] = [:], snmpProfile: ProfileID? = nil,
                pollInterval: Duration = .seconds(60)) {
        self.id = id
        self.name = name
        self.address = address
        self.snmpPort = snmpPort
        self.kind = kind
        self.upstream = upstream
        self.uplinks = uplinks
        self.snmpProfile = snmpProfile
        self.pollInterval = pollInterval
    }
}

/// The two ends of the link from an element to one of its upstream elements.
public struct Uplink: Sendable, Hashable {
    /// The port on this element that faces the upstream.
    public var port: PortReference?
    /// The upstream element's port that faces this element.
    public var peerPort: PortReference?

    public init(port: PortReference? = nil, peerPort: PortReference? = nil) {
        self.port = port
        self.peerPort = peerPort
    }
}

/// A port on an element, by ifIndex or by ifName (resolved by the SNMP engine).
public enum PortReference: Sendable, Hashable, CustomStringConvertible {
    case ifIndex(Int)
    case ifName(String)

    /// All digits is an ifIndex, anything else an ifName: inventory exports rarely say which.
    public init?(_ text: some StringProtocol) {
        guard !text.isEmpty else { return nil }
        if let index = Int(text), index > 0 { self = .ifIndex(index) } else { self = .ifName(String(text)) }
    }

    public var description: String {
        switch self {
        case .ifIndex(let index): return String(index)
        case .ifName(let name): return name
        }
    }
}

public enum ProbeMethod: Sendable, Hashable, CustomStringConvertible {
    case icmp
    case tcp(port: UInt16)
    case arp
    case none

    /// `icmp`, `tcp:PORT`, `arp` or `none`.
    public init?(_ text: some StringProtocol) {
        switch text {
        case "icmp": self = .icmp
        case "arp": self = .arp
        case "none": self = .none
        default:
            guard text.hasPrefix("tcp:"), let port = UInt16(text.dropFirst(4)), port > 0 else { return nil }
            self = .tcp(port: port)
        }
    }

    public var description: String {
        switch self {
        case .icmp: return "icmp"
        case .tcp(let port): return "tcp:\(port)"
        case .arp: return "arp"
        case .none: return "none"
        }
    }
}

public enum ServiceKind: String, Sendable, CaseIterable, Codable {
    case data, voice, iptv
}

public struct Line: Sendable, Hashable, Identifiable {
    public var id: LineID
    public var customer: CustomerID
    public var element: ElementID
    public var port: PortReference?
    public var probe: ProbeMethod
    public var target: IPAddress?
    public var contract: ContractID?
    public var service: ServiceKind
    /// The probe profile (timing and verdict thresholds); nil: the profile `default` or the built-in defaults.
    public var probeProfile: ProfileID?

    public init(id: LineID, customer: CustomerID, element: ElementID, port: PortReference?, probe: ProbeMethod,
                target: IPAddress?, contract: ContractID?, service: ServiceKind, probeProfile: ProfileID? = nil) {
        self.id = id
        self.customer = customer
        self.element = element
        self.port = port
        self.probe = probe
        self.target = target
        self.contract = contract
        self.service = service
        self.probeProfile = probeProfile
    }
}

public struct Customer: Sendable, Hashable, Identifiable {
    public var id: CustomerID
    public var name: String

    public init(id: CustomerID, name: String) {
        self.id = id
        self.name = name
    }
}

public struct Contract: Sendable, Hashable, Identifiable {
    public var id: ContractID
    public var name: String
    public var monthlyFee: Money
    public var availabilityTarget: Percentage
    /// The policy its credits follow; nil: outages are reported, never credited.
    public var creditPolicy: PolicyID?
    /// IANA time zone whose calendar months are the billing periods.
    public var timeZone: String
    /// Language (and region) of the customer's bill: `cs`, `cs-CZ`, `en`, `en-GB`.
    public var locale: String

    public init(id: ContractID, name: String, monthlyFee: Money, availabilityTarget: Percentage,
                creditPolicy: PolicyID? = nil, timeZone: String = "UTC", locale: String = "en") {
        self.id = id
        self.name = name
        self.monthlyFee = monthlyFee
        self.availabilityTarget = availabilityTarget
        self.creditPolicy = creditPolicy
        self.timeZone = timeZone
        self.locale = locale
    }
}
