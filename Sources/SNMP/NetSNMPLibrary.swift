internal import CNetSNMP

/// The net-snmp library Forewarn is linked against.
public enum NetSNMPLibrary {
    public static var version: String { String(cString: netsnmp_get_version()) }
}
