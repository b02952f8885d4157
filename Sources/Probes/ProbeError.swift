#if canImport(Glibc)
import Glibc
#endif

/// Everything that can go wrong in the probe engines, naming what failed (target, interface,
/// capability, file) and why, in words a NOC engineer can act on.
public enum ProbeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Neither a raw ICMP socket nor an unprivileged ICMP datagram socket could be opened.
    case noICMPSocket(family: String, raw: String, datagram: String)
    /// A socket call failed; `target` is the address or interface it was for, when there is one.
    case socket(operation: String, target: String?, cause: String)
    /// libpcap refused an operation on an interface (open, filter, inject) or a file.
    case pcap(interface: String, operation: String, cause: String)
    /// The interface is unusable for ARP probing (missing, no MAC address, not Ethernet).
    case interface(name: String, problem: String)
    /// The probe capture savefile could not be written.
    case capture(path: String, cause: String)
    /// A packet that is not a well-formed reply of the expected kind.
    case malformedPacket(String)
    /// A request the engine cannot carry out (IPv6 target for ARP, port 0 for TCP).
    case unsupported(target: String, reason: String)

    public var description: String {
        switch self {
        case .noICMPSocket(let family, let raw, let datagram):
            return "cannot open an \(family) socket: raw socket: \(raw) (needs CAP_NET_RAW: run as root, or "
                + "`setcap cap_net_raw+ep` on the binary, or AmbientCapabilities=CAP_NET_RAW in the unit); "
                + "ICMP datagram socket: \(datagram) (allowed when the group is inside sysctl net.ipv4.ping_group_range)"
        case .socket(let operation, let target, let cause):
            return target.map { "\(operation) for \($0): \(cause)" } ?? "\(operation): \(cause)"
        case .pcap(let interface, let operation, let cause):
            return "pcap \(operation) on \(interface): \(cause)"
        case .interface(let name, let problem):
            return "interface \(name): \(problem)"
        case .capture(let path, let cause):
            return "capture file \(path): \(cause)"
        case .malformedPacket(let reason):
            return "malformed packet: \(reason)"
        case .unsupported(let target, let reason):
            return "cannot probe \(target): \(reason)"
        }
    }

    /// The text of `errno` now.
    static func errnoText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}
