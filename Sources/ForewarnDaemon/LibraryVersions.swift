import Probes
import SNMP


/// Versions of the C libraries at the edges, for `forewarn version` and bug reports.
public let libraryVersions: [(String, String)] = [
    ("net-snmp", NetSNMPLibrary.version),
    ("libpcap", PcapLibrary.version),
]
