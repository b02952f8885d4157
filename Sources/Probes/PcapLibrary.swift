internal import CPcap

/// The libpcap library Forewarn is linked against.
public enum PcapLibrary {
    /// e.g. "libpcap version 1.10.3 (with TPACKET_V3)".
    public static var version: String { String(cString: pcap_lib_version()) }
}
