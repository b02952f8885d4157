/// An SNMP object identifier, kept numerically: no MIB files are needed or loaded.
public struct OID: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var components: [UInt]

    public init(_ components: [UInt]) { self.components = components }

    /// Parses `1.3.6.1.2.1.1.3.0` (a leading dot is allowed); nil for anything else.
    public init?(parsing text: String) {
        let body = text.hasPrefix(".") ? text.dropFirst() : Substring(text)
        var parts: [UInt] = []
        for piece in body.split(separator: ".", omittingEmptySubsequences: false) {
            guard let value = UInt(piece), value <= UInt(UInt32.max) else { return nil }
            parts.append(value)
        }
        guard parts.count >= 2 else { return nil }
        components = parts
    }

    public init(stringLiteral value: String) {
        guard let parsed = OID(parsing: value) else { preconditionFailure("not a numeric OID: \(value)") }
        self = parsed
    }

    public var description: String { components.map(String.init).joined(separator: ".") }

    /// This OID followed by more components (a table column plus an index).
    public func appending(_ more: UInt...) -> OID { OID(components + more) }
    public func appending(_ more: [UInt]) -> OID { OID(components + more) }

    /// True if `other` lies inside the subtree rooted at this OID (or is this OID).
    public func contains(_ other: OID) -> Bool {
        other.components.count >= components.count && other.components.starts(with: components)
    }

    /// The components after `prefix`, such as a table row's index.
    public func suffix(after prefix: OID) -> [UInt]? {
        guard prefix.contains(self) else { return nil }
        return Array(components.dropFirst(prefix.components.count))
    }

    public static func < (lhs: OID, rhs: OID) -> Bool {
        lhs.components.lexicographicallyPrecedes(rhs.components)
    }
}

/// The few MIB-II, IF-MIB and SNMPv2-MIB objects Forewarn polls and receives, by number.
public enum MIB {
    public static let sysDescr: OID = "1.3.6.1.2.1.1.1.0"
    public static let sysObjectID: OID = "1.3.6.1.2.1.1.2.0"
    public static let sysUpTime: OID = "1.3.6.1.2.1.1.3.0"
    public static let sysName: OID = "1.3.6.1.2.1.1.5.0"

    public static let ifTable: OID = "1.3.6.1.2.1.2.2"
    public static let ifIndex: OID = "1.3.6.1.2.1.2.2.1.1"
    public static let ifDescr: OID = "1.3.6.1.2.1.2.2.1.2"
    public static let ifAdminStatus: OID = "1.3.6.1.2.1.2.2.1.7"
    public static let ifOperStatus: OID = "1.3.6.1.2.1.2.2.1.8"
    public static let ifLastChange: OID = "1.3.6.1.2.1.2.2.1.9"
    public static let ifInOctets: OID = "1.3.6.1.2.1.2.2.1.10"
    public static let ifInErrors: OID = "1.3.6.1.2.1.2.2.1.14"
    public static let ifOutOctets: OID = "1.3.6.1.2.1.2.2.1.16"
    public static let ifOutErrors: OID = "1.3.6.1.2.1.2.2.1.20"
    public static let ifName: OID = "1.3.6.1.2.1.31.1.1.1.1"
    public static let ifHCInOctets: OID = "1.3.6.1.2.1.31.1.1.1.6"
    public static let ifHCOutOctets: OID = "1.3.6.1.2.1.31.1.1.1.10"

    // Notifications (SNMPv2-MIB snmpTrapOID values) and the varbinds that travel with them.
    public static let snmpTrapOID: OID = "1.3.6.1.6.3.1.1.4.1.0"
    public static let snmpTrapAddress: OID = "1.3.6.1.6.3.18.1.3.0"
    public static let coldStart: OID = "1.3.6.1.6.3.1.1.5.1"
    public static let warmStart: OID = "1.3.6.1.6.3.1.1.5.2"
    public static let linkDown: OID = "1.3.6.1.6.3.1.1.5.3"
    public static let linkUp: OID = "1.3.6.1.6.3.1.1.5.4"
    /// SNMPv1 traps name generic traps by number; RFC 3584 maps them to these.
    public static let genericTraps: [OID] = [coldStart, warmStart, linkDown, linkUp,
                                             "1.3.6.1.6.3.1.1.5.5", "1.3.6.1.6.3.1.1.5.6"]
}
