import ForewarnModel

/// One agent to talk to: where it is and which credentials and timing to use.
public struct SNMPTarget: Sendable, Hashable, CustomStringConvertible {
    /// The element id, or the address text for ad-hoc targets; used in errors and logs.
    public var name: String
    public var address: IPAddress
    public var port: UInt16
    public var profile: SNMPProfile

    public init(name: String, address: IPAddress, port: UInt16 = 161, profile: SNMPProfile) {
        self.name = name
        self.address = address
        self.port = port
        self.profile = profile
    }

    public init(element: Element, profile: SNMPProfile) {
        self.init(name: element.id.rawValue, address: element.address, port: element.snmpPort, profile: profile)
    }

    /// `udp:192.0.2.1:161`, `udp6:[2001:db8::1]:161`: net-snmp's peer name.
    var peerName: String {
        address.isIPv6 ? "udp6:[\(address)]:\(port)" : "udp:\(address):\(port)"
    }

    var endpointText: String { address.isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }

    public var description: String { name == address.description ? endpointText : "\(name) (\(endpointText))" }
}
