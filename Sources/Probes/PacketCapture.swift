#if canImport(Glibc)
import Glibc
#endif
internal import CPcap
import ForewarnModel
import Synchronization

/// A pcap savefile of the probe traffic (`forewarn probe --capture FILE.pcap`, `probing.capture`),
/// for troubleshooting with tcpdump or Wireshark. Every frame is Ethernet: ARP frames as sent and
/// captured, ICMP packets with an Ethernet header of zero addresses in front (and, where the
/// socket gives no IP header, a reconstructed one whose unknown local address is all zeros).
public final class PacketCapture: Sendable {
    public let path: String
    /// The dumper and the dead pcap handle it writes through; engine threads write concurrently.
    private let handles: Mutex<(dead: OpaquePointer?, dumper: OpaquePointer?)>

    public init(path: String) throws(ProbeError) {
        self.path = path
        guard let dead = pcap_open_dead(DLT_EN10MB, 65535) else {
            throw ProbeError.capture(path: path, cause: "pcap_open_dead failed")
        }
        guard let dumper = pcap_dump_open(dead, path) else {
            let cause = String(cString: pcap_geterr(dead))
            pcap_close(dead)
            throw ProbeError.capture(path: path, cause: cause)
        }
        handles = Mutex((dead, dumper))
    }

    deinit { close() }

    /// Flushes and closes the file; later writes are dropped.
    public func close() {
        handles.withLock { handles in
            if let dumper = handles.dumper { pcap_dump_close(dumper) }
            if let dead = handles.dead { pcap_close(dead) }
            handles = (nil, nil)
        }
    }

    /// Writes one Ethernet frame stamped with wall-clock nanoseconds.
    func writeFrame(_ frame: UnsafeRawBufferPointer, realtimeNanoseconds: Int64) {
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(realtimeNanoseconds / 1_000_000_000)
        header.ts.tv_usec = Int(realtimeNanoseconds % 1_000_000_000 / 1000)
        header.caplen = UInt32(frame.count)
        header.len = UInt32(frame.count)
        handles.withLock { handles in
            guard let dumper = handles.dumper, let base = frame.baseAddress else { return }
            fw_pcap_dump(dumper, &header, base.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Writes an IP packet (with its IP header) behind a zero Ethernet header.
    func writeIPPacket(_ packet: UnsafeRawBufferPointer, realtimeNanoseconds: Int64) {
        guard let first = packet.first else { return }
        var frame = [UInt8](repeating: 0, count: 14)
        frame[12] = first >> 4 == 6 ? 0x86 : 0x08
        frame[13] = first >> 4 == 6 ? 0xdd : 0x00
        frame.append(contentsOf: packet)
        frame.withUnsafeBytes { writeFrame($0, realtimeNanoseconds: realtimeNanoseconds) }
    }

    /// Writes an ICMP message that the socket handed over without its IP header, reconstructing one.
    func writeICMP(_ icmp: UnsafeRawBufferPointer, source: IPAddress?, destination: IPAddress?, v6: Bool,
                   realtimeNanoseconds: Int64) {
        var packet: [UInt8]
        if v6 {
            packet = [UInt8](repeating: 0, count: 40)
            packet[0] = 0x60
            packet[4] = UInt8(icmp.count >> 8)
            packet[5] = UInt8(truncatingIfNeeded: icmp.count)
            packet[6] = 58
            packet[7] = 64
            Self.put(source, into: &packet, at: 8)
            Self.put(destination, into: &packet, at: 24)
        } else {
            packet = [UInt8](repeating: 0, count: 20)
            packet[0] = 0x45
            let total = 20 + icmp.count
            packet[2] = UInt8(total >> 8)
            packet[3] = UInt8(truncatingIfNeeded: total)
            packet[8] = 64
            packet[9] = 1
            Self.put(source, into: &packet, at: 12)
            Self.put(destination, into: &packet, at: 16)
            let sum = packet.withUnsafeBytes { ICMPEcho.checksum($0) }
            packet[10] = UInt8(sum >> 8)
            packet[11] = UInt8(truncatingIfNeeded: sum)
        }
        packet.append(contentsOf: icmp)
        packet.withUnsafeBytes { writeIPPacket($0, realtimeNanoseconds: realtimeNanoseconds) }
    }

    private static func put(_ address: IPAddress?, into packet: inout [UInt8], at offset: Int) {
        switch address {
        case .v4(let value)?:
            for index in 0..<4 { packet[offset + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index)) }
        case .v6(let high, let low)?:
            for index in 0..<8 { packet[offset + index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * index)) }
            for index in 0..<8 { packet[offset + 8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * index)) }
        case nil:
            break
        }
    }
}
