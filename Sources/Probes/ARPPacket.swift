/// ARP over Ethernet (RFC 826) as the ARP prober writes requests and reads replies.
enum ARPFrame {
    static let ethernetHeader = 14
    static let arpLength = 28
    static let frameLength = 42
    static let etherTypeARP: UInt16 = 0x0806
    static let etherTypeVLAN: UInt16 = 0x8100

    struct Reply: Equatable {
        var senderMAC: [UInt8]
        var senderIP: UInt32
        var targetMAC: [UInt8]
        var targetIP: UInt32
    }

    enum Parsed: Equatable {
        case reply(Reply)
        case rejected(String)
    }

    /// A broadcast who-has for `target`, from `mac` / `sender` (0.0.0.0 when the interface has no
    /// IPv4 address: an RFC 5227 probe, which hosts answer all the same).
    static func request(from mac: [UInt8], sender: UInt32, target: UInt32) -> [UInt8] {
        var frame = [UInt8](repeating: 0, count: frameLength)
        for index in 0..<6 { frame[index] = 0xff }
        frame.replaceSubrange(6..<12, with: mac)
        frame[12] = 0x08; frame[13] = 0x06
        frame[14] = 0x00; frame[15] = 0x01      // hardware: Ethernet
        frame[16] = 0x08; frame[17] = 0x00      // protocol: IPv4
        frame[18] = 6; frame[19] = 4
        frame[20] = 0x00; frame[21] = 0x01      // who-has
        frame.replaceSubrange(22..<28, with: mac)
        put(sender, into: &frame, at: 28)
        put(target, into: &frame, at: 38)
        return frame
    }

    /// Parses a captured Ethernet frame (one 802.1Q tag allowed); only well-formed IPv4-over-Ethernet
    /// ARP replies are accepted, everything else is rejected with the reason.
    static func parse(_ frame: UnsafeRawBufferPointer) -> Parsed {
        guard frame.count >= ethernetHeader else { return .rejected("shorter than an Ethernet header (\(frame.count) bytes)") }
        var offset = 12
        var etherType = load16(frame, at: offset)
        if etherType == etherTypeVLAN {
            guard frame.count >= ethernetHeader + 4 else { return .rejected("truncated 802.1Q tag") }
            offset += 4
            etherType = load16(frame, at: offset)
        }
        guard etherType == etherTypeARP else { return .rejected(String(format: "EtherType 0x%04x is not ARP", etherType)) }
        let arp = offset + 2
        guard frame.count >= arp + arpLength else {
            return .rejected("truncated ARP packet (\(frame.count - arp) of \(arpLength) bytes)")
        }
        guard load16(frame, at: arp) == 1 else { return .rejected("ARP hardware type \(load16(frame, at: arp)) is not Ethernet") }
        guard load16(frame, at: arp + 2) == 0x0800 else { return .rejected("ARP protocol type is not IPv4") }
        guard frame[arp + 4] == 6, frame[arp + 5] == 4 else {
            return .rejected("ARP address lengths \(frame[arp + 4])/\(frame[arp + 5]) are not 6/4")
        }
        let operation = load16(frame, at: arp + 6)
        guard operation == 2 else { return .rejected("ARP operation \(operation) is not a reply") }
        let senderMAC = Array(frame[(arp + 8)..<(arp + 14)])
        guard senderMAC != [0, 0, 0, 0, 0, 0], senderMAC[0] & 1 == 0 else {
            return .rejected("ARP reply from a zero or multicast hardware address")
        }
        return .reply(Reply(senderMAC: senderMAC, senderIP: load32(frame, at: arp + 14),
                            targetMAC: Array(frame[(arp + 18)..<(arp + 24)]), targetIP: load32(frame, at: arp + 24)))
    }

    static func load16(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    static func load32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(load16(bytes, at: offset)) << 16 | UInt32(load16(bytes, at: offset + 2))
    }

    static func put(_ value: UInt32, into frame: inout [UInt8], at offset: Int) {
        for index in 0..<4 { frame[offset + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index)) }
    }

    static func macText(_ mac: [UInt8]) -> String {
        mac.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined(separator: ":")
    }
}
