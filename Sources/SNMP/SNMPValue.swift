/// A value as an agent returned it, with the SMI type kept (a Counter32 wraps, a Gauge32 does not).
public enum SNMPValue: Sendable, Hashable, CustomStringConvertible {
    case integer(Int64)
    case octets([UInt8])
    case null
    case objectIdentifier(OID)
    case ipAddress(IPv4Bytes)
    case counter32(UInt32)
    case gauge32(UInt32)
    case timeTicks(UInt32)
    case opaque([UInt8])
    case counter64(UInt64)
    /// SNMPv2 exceptions: the object or instance is absent, or a walk ran off the end.
    case noSuchObject, noSuchInstance, endOfMibView

    public struct IPv4Bytes: Sendable, Hashable { public var a, b, c, d: UInt8 }

    public var isException: Bool {
        switch self {
        case .noSuchObject, .noSuchInstance, .endOfMibView: return true
        default: return false
        }
    }

    /// Integer-like values as an integer; nil for strings and exceptions.
    public var integerValue: Int64? {
        switch self {
        case .integer(let value): return value
        case .counter32(let value), .gauge32(let value), .timeTicks(let value): return Int64(value)
        case .counter64(let value): return value > UInt64(Int64.max) ? nil : Int64(value)
        default: return nil
        }
    }

    /// Octet strings as text (ifName, sysName), invalid UTF-8 repaired.
    public var text: String? {
        if case .octets(let bytes) = self { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    public var description: String {
        switch self {
        case .integer(let value): return "INTEGER: \(value)"
        case .octets(let bytes): return "STRING: \(String(decoding: bytes, as: UTF8.self))"
        case .null: return "NULL"
        case .objectIdentifier(let oid): return "OID: \(oid)"
        case .ipAddress(let ip): return "IpAddress: \(ip.a).\(ip.b).\(ip.c).\(ip.d)"
        case .counter32(let value): return "Counter32: \(value)"
        case .gauge32(let value): return "Gauge32: \(value)"
        case .timeTicks(let value): return "Timeticks: \(value)"
        case .opaque(let bytes): return "Opaque: \(bytes.count) bytes"
        case .counter64(let value): return "Counter64: \(value)"
        case .noSuchObject: return "No Such Object"
        case .noSuchInstance: return "No Such Instance"
        case .endOfMibView: return "End of MIB View"
        }
    }
}

/// One OID and its value.
public struct VarBind: Sendable, Hashable, CustomStringConvertible {
    public var oid: OID
    public var value: SNMPValue

    public init(oid: OID, value: SNMPValue) {
        self.oid = oid
        self.value = value
    }

    public var description: String { "\(oid) = \(value)" }
}
