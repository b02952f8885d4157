#if canImport(Glibc)
import Glibc
#endif
// The socket constants (SOCK_RAW, SOCK_NONBLOCK, …) reach Swift through the headers libpcap's module
// includes first; optimised builds then find them only with that module imported here too.
internal import CPcap
import ForewarnModel

/// Conversions between `IPAddress` and the kernel's socket addresses.
enum SocketAddress {
    static func ipv4(_ value: UInt32, port: UInt16 = 0) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = value.bigEndian
        return address
    }

    static func ipv6(high: UInt64, low: UInt64, port: UInt16 = 0) -> sockaddr_in6 {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &address.sin6_addr) { raw in
            for index in 0..<8 { raw[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * index)) }
            for index in 0..<8 { raw[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * index)) }
        }
        return address
    }

    /// Calls `body` with the address as a `sockaddr` pointer and its length.
    static func with<R>(_ address: IPAddress, port: UInt16 = 0,
                        _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch address {
        case .v4(let value):
            var inet = ipv4(value, port: port)
            return withUnsafePointer(to: &inet) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(let high, let low):
            var inet6 = ipv6(high: high, low: low, port: port)
            return withUnsafePointer(to: &inet6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }

    /// The address in a `sockaddr_storage` the kernel filled in; nil for other families.
    static func address(of storage: UnsafePointer<sockaddr_storage>) -> IPAddress? {
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            return storage.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                .v4(UInt32(bigEndian: $0.pointee.sin_addr.s_addr))
            }
        case AF_INET6:
            return storage.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin6_addr) { raw in
                    var high: UInt64 = 0
                    var low: UInt64 = 0
                    for index in 0..<8 { high = high << 8 | UInt64(raw[index]) }
                    for index in 8..<16 { low = low << 8 | UInt64(raw[index]) }
                    return .v6(high, low)
                }
            }
        default:
            return nil
        }
    }
}

/// The descriptor flags every engine socket gets.
enum SocketFlags {
    static let cloexecNonblock = Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
    static var raw: Int32 { Int32(SOCK_RAW.rawValue) | cloexecNonblock }
    static var datagram: Int32 { Int32(SOCK_DGRAM.rawValue) | cloexecNonblock }
    static var stream: Int32 { Int32(SOCK_STREAM.rawValue) | cloexecNonblock }
}
