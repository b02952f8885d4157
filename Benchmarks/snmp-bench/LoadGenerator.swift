import Foundation

/// The peer figure: raw UDP GETs with a fixed window of outstanding requests, no SNMP library,
/// so what it measures is what snmpd itself can serve.
enum LoadGenerator {
    /// A pre-encoded SNMPv2c GET (BER) of the given OIDs.
    static func getMessage(community: String, requestID: Int32, oids: [[UInt]]) -> [UInt8] {
        func length(_ count: Int) -> [UInt8] {
            if count < 128 { return [UInt8(count)] }
            if count < 256 { return [0x81, UInt8(count)] }
            return [0x82, UInt8(count >> 8), UInt8(count & 0xff)]
        }
        func tlv(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] { [tag] + length(body.count) + body }
        func integer(_ value: Int32) -> [UInt8] {
            var bytes = withUnsafeBytes(of: value.bigEndian) { Array($0) }
            while bytes.count > 1 && ((bytes[0] == 0 && bytes[1] & 0x80 == 0) || (bytes[0] == 0xff && bytes[1] & 0x80 != 0)) {
                bytes.removeFirst()
            }
            return tlv(0x02, bytes)
        }
        func oid(_ components: [UInt]) -> [UInt8] {
            var body: [UInt8] = [UInt8(components[0] * 40 + components[1])]
            for component in components.dropFirst(2) {
                var chunk: [UInt8] = [UInt8(component & 0x7f)]
                var rest = component >> 7
                while rest > 0 { chunk.insert(UInt8(rest & 0x7f) | 0x80, at: 0); rest >>= 7 }
                body += chunk
            }
            return tlv(0x06, body)
        }
        let varbinds = tlv(0x30, oids.flatMap { tlv(0x30, oid($0) + [0x05, 0x00]) })
        let pdu = tlv(0xa0, integer(requestID) + integer(0) + integer(0) + varbinds)
        return tlv(0x30, integer(1) + tlv(0x04, Array(community.utf8)) + pdu)
    }

    /// GET responses per second over `seconds`, `window` requests kept outstanding.
    static func run(port: UInt16, elements: Int, oids: [[UInt]], window: Int, seconds: Double) -> Double {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let message = getMessage(community: "public", requestID: 1, oids: oids)
        var next = 0
        func send() {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = Resources.loopbackAddress(next % elements).bigEndian
            next += 1
            _ = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, message, message.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        var outstanding = 0
        var received = 0
        var buffer = [UInt8](repeating: 0, count: 2048)
        let start = Date()
        let end = start.addingTimeInterval(seconds)
        while Date() < end {
            while outstanding < window { send(); outstanding += 1 }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 50) == 0 {
                outstanding = 0 // lost datagrams: refill the window
                continue
            }
            while recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT)) > 0 {
                received += 1
                outstanding = max(0, outstanding - 1)
            }
        }
        return Double(received) / Date().timeIntervalSince(start)
    }
}
