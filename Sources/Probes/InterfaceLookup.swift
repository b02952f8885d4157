#if canImport(Glibc)
import Glibc
#endif
import ForewarnModel

/// Finds the interface an ARP probe for an address must leave by: the one whose IPv4 subnet
/// holds it (a directly connected segment). ARP does not cross routers, so no other choice works.
public enum InterfaceLookup {
    public struct Subnet: Sendable, Hashable {
        public var interface: String
        public var address: UInt32
        public var netmask: UInt32

        public init(interface: String, address: UInt32, netmask: UInt32) {
            self.interface = interface
            self.address = address
            self.netmask = netmask
        }

        public func contains(_ value: UInt32) -> Bool { value & netmask == address & netmask }
    }

    /// The IPv4 subnets of the interfaces that are up, in the calling thread's network namespace.
    public static func connectedSubnets() -> [Subnet] {
        var first: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&first) == 0 else { return [] }
        defer { freeifaddrs(first) }
        var subnets: [Subnet] = []
        var cursor = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, let mask = entry.pointee.ifa_netmask,
                  Int32(address.pointee.sa_family) == AF_INET,
                  entry.pointee.ifa_flags & UInt32(IFF_UP) != 0,
                  entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK) == 0 else { continue }
            let value = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
            let netmask = mask.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
            subnets.append(Subnet(interface: String(cString: entry.pointee.ifa_name), address: value, netmask: netmask))
        }
        return subnets
    }

    /// The interface whose subnet holds `address` (the most specific one), nil when none does.
    public static func interface(for address: IPAddress, among subnets: [Subnet] = connectedSubnets()) -> String? {
        guard case .v4(let value) = address else { return nil }
        return subnets.filter { $0.contains(value) }.max { $0.netmask.nonzeroBitCount < $1.netmask.nonzeroBitCount }?.interface
    }
}
