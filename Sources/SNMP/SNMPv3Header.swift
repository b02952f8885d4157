/// Reads msgAuthoritativeEngineID from the start of an SNMPv3 message (RFC 3412 §6, RFC 3414
/// §2.4) without parsing or authenticating the rest: the trap receiver needs it before net-snmp
/// processes the datagram, to keep that message from changing what polling knows about the
/// engine. `bytes` may be the start of the message only (the header is in its first few hundred
/// bytes). Anything else (v1, v2c, malformed, a header cut short) gives nil.
enum SNMPv3Header {
    /// Enough for any header: msgGlobalData, and security parameters with a 32-byte engine ID,
    /// a 32-byte user name and the longest authentication and privacy parameters.
    static let prefixLength = 512

    struct Authority: Equatable {
        var engineID: [UInt8]
        var boots: Int
        var time: Int
    }

    static func authoritativeEngineID(_ bytes: [UInt8]) -> [UInt8]? { authority(bytes)?.engineID }

    /// msgAuthoritativeEngineID, msgAuthoritativeEngineBoots and msgAuthoritativeEngineTime.
    static func authority(_ bytes: [UInt8]) -> Authority? {
        var reader = BERReader(bytes: bytes[...])
        guard var message = reader.enter(tag: 0x30, truncated: true),
              message.integer() == 3,
              message.skip(tag: 0x30),                          // msgGlobalData
              var parameters = message.enter(tag: 0x04),        // msgSecurityParameters
              var usm = parameters.enter(tag: 0x30),
              let engineID = usm.octets(), (1...32).contains(engineID.count),
              let boots = usm.integer(), let time = usm.integer()
        else { return nil }
        return Authority(engineID: engineID, boots: boots, time: time)
    }
}

/// The few BER reads the header needs; every read checks the bounds of the bytes it was given.
struct BERReader {
    var bytes: ArraySlice<UInt8>

    /// The next element's tag and contents, advancing past it.
    /// With `truncated`, an element whose contents run past the bytes given is cut to what there is.
    mutating func element(truncated: Bool = false) -> (tag: UInt8, contents: ArraySlice<UInt8>)? {
        guard let tag = bytes.first else { return nil }
        var index = bytes.index(after: bytes.startIndex)
        guard index < bytes.endIndex else { return nil }
        let first = bytes[index]
        index += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let count = Int(first & 0x7f)
            guard (1...3).contains(count), bytes.endIndex - index >= count else { return nil }
            for _ in 0..<count {
                length = length << 8 | Int(bytes[index])
                index += 1
            }
        }
        if truncated { length = min(length, bytes.endIndex - index) }
        guard bytes.endIndex - index >= length else { return nil }
        let contents = bytes[index..<(index + length)]
        bytes = bytes[(index + length)...]
        return (tag, contents)
    }

    mutating func enter(tag: UInt8, truncated: Bool = false) -> BERReader? {
        guard let element = element(truncated: truncated), element.tag == tag else { return nil }
        return BERReader(bytes: element.contents)
    }

    mutating func skip(tag: UInt8) -> Bool {
        guard let element = element() else { return false }
        return element.tag == tag
    }

    mutating func integer() -> Int? {
        guard let element = element(), element.tag == 0x02, (1...8).contains(element.contents.count) else { return nil }
        var value = Int(Int8(bitPattern: element.contents.first!))
        for byte in element.contents.dropFirst() { value = value << 8 | Int(byte) }
        return value
    }

    mutating func octets() -> [UInt8]? {
        guard let element = element(), element.tag == 0x04 else { return nil }
        return Array(element.contents)
    }
}
