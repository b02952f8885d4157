import ForewarnModel

/// ICMP and ICMPv6 echo packets as Forewarn writes and reads them. The 16-byte payload carries a
/// magic word and the slot's generation, so a late reply to a reused identifier/sequence pair, or
/// another program's echo, is never taken for ours.
enum ICMPEcho {
    static let headerLength = 8
    static let payloadLength = 16
    static let packetLength = headerLength + payloadLength
    /// "FWRN"
    static let magic: UInt32 = 0x4657_524E

    static let echoRequestV4: UInt8 = 8
    static let echoReplyV4: UInt8 = 0
    static let echoRequestV6: UInt8 = 128
    static let echoReplyV6: UInt8 = 129

    struct Reply: Equatable {
        var identifier: UInt16
        var sequence: UInt16
        var generation: UInt32
    }

    enum Parsed: Equatable {
        case reply(Reply)
        case rejected(String)
    }

    /// Writes an echo request into `buffer` (at least `packetLength` bytes). ICMPv6 checksums
    /// are left to the kernel, which covers the pseudo-header.
    static func writeRequest(into buffer: UnsafeMutableRawBufferPointer, v6: Bool, identifier: UInt16,
                             sequence: UInt16, generation: UInt32) {
        buffer[0] = v6 ? echoRequestV6 : echoRequestV4
        buffer[1] = 0
        buffer[2] = 0
        buffer[3] = 0
        store16(identifier, buffer, at: 4)
        store16(sequence, buffer, at: 6)
        store32(magic, buffer, at: 8)
        store32(generation, buffer, at: 12)
        for index in 16..<packetLength { buffer[index] = 0 }
        if !v6 { store16(checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<packetLength])), buffer, at: 2) }
    }

    /// Parses what a socket returned: a raw IPv4 socket includes the IP header, a raw ICMPv6 socket
    /// and the ICMP datagram sockets start at the ICMP header.
    static func parse(_ bytes: UnsafeRawBufferPointer, v6: Bool, includesIPv4Header: Bool) -> Parsed {
        var icmp = bytes
        if includesIPv4Header {
            guard bytes.count >= 20 else { return .rejected("shorter than an IPv4 header") }
            guard bytes[0] >> 4 == 4 else { return .rejected("not IPv4") }
            let headerLength = Int(bytes[0] & 0x0f) * 4
            guard headerLength >= 20, bytes.count >= headerLength else { return .rejected("bad IPv4 header length") }
            let totalLength = Int(load16(bytes, at: 2))
            guard totalLength >= headerLength, totalLength <= bytes.count else {
                return .rejected("IPv4 total length \(totalLength) does not fit the \(bytes.count) bytes captured")
            }
            guard bytes[9] == 1 else { return .rejected("IPv4 protocol \(bytes[9]) is not ICMP") }
            icmp = UnsafeRawBufferPointer(rebasing: bytes[headerLength..<totalLength])
        }
        guard icmp.count >= headerLength else { return .rejected("shorter than an ICMP header") }
        let expectedType = v6 ? echoReplyV6 : echoReplyV4
        guard icmp[0] == expectedType, icmp[1] == 0 else {
            return .rejected("ICMP type \(icmp[0]) code \(icmp[1]) is not an echo reply")
        }
        guard icmp.count >= packetLength else { return .rejected("echo reply without Forewarn's payload") }
        if !v6 && checksum(icmp) != 0 { return .rejected("bad ICMP checksum") }
        guard load32(icmp, at: 8) == magic else { return .rejected("echo reply to another program") }
        return .reply(Reply(identifier: load16(icmp, at: 4), sequence: load16(icmp, at: 6),
                            generation: load32(icmp, at: 12)))
    }

    /// Parses a captured frame (Ethernet, or raw IP when `linkType` is DLT_RAW), as read back from
    /// a savefile. Only IPv6 packets whose next header is ICMPv6 are accepted.
    static func parseFrame(_ frame: UnsafeRawBufferPointer, ethernet: Bool) -> (source: IPAddress, parsed: Parsed) {
        var packet = frame
        let unknown = IPAddress.v4(0)
        if ethernet {
            guard frame.count >= 14 else { return (unknown, .rejected("shorter than an Ethernet header")) }
            packet = UnsafeRawBufferPointer(rebasing: frame[14...])
        }
        guard packet.count >= 1 else { return (unknown, .rejected("empty packet")) }
        switch packet[0] >> 4 {
        case 4:
            guard packet.count >= 20 else { return (unknown, .rejected("shorter than an IPv4 header")) }
            let source = IPAddress.v4(load32(packet, at: 12))
            return (source, parse(packet, v6: false, includesIPv4Header: true))
        case 6:
            guard packet.count >= 40 else { return (unknown, .rejected("shorter than an IPv6 header")) }
            var high: UInt64 = 0
            var low: UInt64 = 0
            for index in 0..<8 { high = high << 8 | UInt64(packet[8 + index]) }
            for index in 0..<8 { low = low << 8 | UInt64(packet[16 + index]) }
            guard packet[6] == 58 else { return (.v6(high, low), .rejected("IPv6 next header \(packet[6]) is not ICMPv6")) }
            let payloadLength = Int(load16(packet, at: 4))
            guard 40 + payloadLength <= packet.count else {
                return (.v6(high, low), .rejected("IPv6 payload length \(payloadLength) exceeds the bytes captured"))
            }
            return (.v6(high, low), parse(UnsafeRawBufferPointer(rebasing: packet[40..<(40 + payloadLength)]),
                                          v6: true, includesIPv4Header: false))
        default:
            return (unknown, .rejected("IP version \(packet[0] >> 4)"))
        }
    }

    /// The Internet checksum (RFC 1071); 0 over a packet whose checksum field is right.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum &+= UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum &+= UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) &+ (sum >> 16) }
        return ~UInt16(truncatingIfNeeded: sum)
    }

    @inline(__always)
    static func load16(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    @inline(__always)
    static func load32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(load16(bytes, at: offset)) << 16 | UInt32(load16(bytes, at: offset + 2))
    }

    @inline(__always)
    static func store16(_ value: UInt16, _ bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    @inline(__always)
    static func store32(_ value: UInt32, _ bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        store16(UInt16(value >> 16), bytes, at: offset)
        store16(UInt16(truncatingIfNeeded: value), bytes, at: offset + 2)
    }
}
