#if canImport(Glibc)
import Glibc
#endif
internal import CPcap

/// A live libpcap handle on one interface, opened once and kept: non-blocking, immediate
/// delivery, inbound only, with a BPF filter.
///
/// `@unchecked Sendable` is safe because the value's fields are immutable and the `pcap_t` they
/// point to is used by the owning engine's thread only (inject, dispatch, close); other threads
/// only hold the value while handing it to that thread at start-up, never calling into libpcap.
struct PcapHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let interface: String
    let selectableDescriptor: Int32

    static func open(interface: String, filter: String) throws(ProbeError) -> PcapHandle {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let handle = pcap_create(interface, &errorBuffer) else {
            throw ProbeError.pcap(interface: interface, operation: "open", cause: PcapHandle.text(errorBuffer))
        }
        pcap_set_snaplen(handle, 256)
        pcap_set_promisc(handle, 0)
        pcap_set_immediate_mode(handle, 1)
        pcap_set_timeout(handle, 1)
        pcap_set_buffer_size(handle, 4 << 20)
        let status = pcap_activate(handle)
        if status < 0 {
            let cause: String
            switch status {
            case PCAP_ERROR_PERM_DENIED:
                cause = "permission denied (needs CAP_NET_RAW: run as root or grant the capability)"
            case PCAP_ERROR_NO_SUCH_DEVICE:
                cause = "no such interface"
            case PCAP_ERROR_IFACE_NOT_UP:
                cause = "interface is down"
            default:
                cause = String(cString: pcap_geterr(handle))
            }
            pcap_close(handle)
            throw ProbeError.pcap(interface: interface, operation: "activate", cause: cause)
        }
        guard pcap_datalink(handle) == DLT_EN10MB else {
            pcap_close(handle)
            throw ProbeError.interface(name: interface, problem: "not an Ethernet interface (ARP probes need Ethernet)")
        }
        var program = bpf_program()
        guard pcap_compile(handle, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            let cause = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            throw ProbeError.pcap(interface: interface, operation: "compile filter '\(filter)'", cause: cause)
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(handle, &program) == 0 else {
            let cause = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            throw ProbeError.pcap(interface: interface, operation: "set filter", cause: cause)
        }
        _ = pcap_setdirection(handle, PCAP_D_IN)
        guard pcap_setnonblock(handle, 1, &errorBuffer) == 0 else {
            pcap_close(handle)
            throw ProbeError.pcap(interface: interface, operation: "set non-blocking", cause: PcapHandle.text(errorBuffer))
        }
        let descriptor = pcap_get_selectable_fd(handle)
        guard descriptor >= 0 else {
            pcap_close(handle)
            throw ProbeError.pcap(interface: interface, operation: "get a pollable descriptor", cause: "not supported")
        }
        return PcapHandle(pointer: handle, interface: interface, selectableDescriptor: descriptor)
    }

    func inject(_ frame: [UInt8]) -> String? {
        let sent = frame.withUnsafeBytes { pcap_inject(pointer, $0.baseAddress, $0.count) }
        return sent < 0 ? String(cString: pcap_geterr(pointer)) : nil
    }

    /// Hands every packet waiting now to `body` (frame bytes, capture time in wall-clock ns).
    func dispatch(_ body: (UnsafeRawBufferPointer, Int64) -> Void) {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        for _ in 0..<4096 {
            guard pcap_next_ex(pointer, &header, &data) == 1, let header, let data else { return }
            let stamp = Int64(header.pointee.ts.tv_sec) * 1_000_000_000 + Int64(header.pointee.ts.tv_usec) * 1000
            body(UnsafeRawBufferPointer(start: data, count: Int(header.pointee.caplen)), stamp)
        }
    }

    func close() { pcap_close(pointer) }

    /// libpcap's NUL-terminated error buffer as text.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Reads a pcap savefile back, frame by frame (tests replay recorded traffic through the parsers;
/// operators can check a capture with `forewarn probe --replay`).
public enum Savefile {
    public struct Frame: Sendable {
        public var bytes: [UInt8]
        /// Capture time, wall-clock nanoseconds.
        public var time: Int64
        /// Bytes on the wire; more than `bytes.count` when the capture cut the frame short.
        public var originalLength: Int
    }

    /// Where a savefile ends before its last record does (a capture cut short by a full disk,
    /// a kill, a partial copy).
    public struct Truncation: Sendable, Hashable {
        /// The record cut short, counted from 1.
        public var record: Int
        /// Byte offset in the file where that record starts.
        public var offset: Int
        /// libpcap's account of it ("truncated dump file; tried to read 54 captured bytes, only got 20").
        public var reason: String
    }

    public struct Contents: Sendable {
        public var linkType: Int32
        public var frames: [Frame]
        /// Why reading stopped early, if it did: the records before it are in `frames`.
        public var truncation: Truncation?

        public var problem: String? {
            truncation.map { "record \($0.record) at byte offset \($0.offset) is cut short: \($0.reason)" }
        }

        public var isEthernet: Bool { linkType == DLT_EN10MB }
    }

    public static func read(path: String) throws(ProbeError) -> Contents {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let handle = pcap_open_offline(path, &errorBuffer) else {
            throw ProbeError.capture(path: path, cause: PcapHandle.text(errorBuffer))
        }
        defer { pcap_close(handle) }
        var contents = Contents(linkType: pcap_datalink(handle), frames: [], truncation: nil)
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        // libpcap reads the savefile through stdio: the position before each read is where the
        // next record starts.
        let file = pcap_file(handle)
        while true {
            let offset = file.map { Int(ftell($0)) } ?? -1
            let status = pcap_next_ex(handle, &header, &data)
            guard status == 1, let header, let data else {
                if status == PCAP_ERROR {
                    contents.truncation = Truncation(record: contents.frames.count + 1, offset: offset,
                                                     reason: String(cString: pcap_geterr(handle)))
                }
                break
            }
            let stamp = Int64(header.pointee.ts.tv_sec) * 1_000_000_000 + Int64(header.pointee.ts.tv_usec) * 1000
            contents.frames.append(Frame(bytes: Array(UnsafeBufferPointer(start: data, count: Int(header.pointee.caplen))),
                                         time: stamp, originalLength: Int(header.pointee.len)))
        }
        return contents
    }
}

/// The reply parsers, public for `forewarn probe --replay` and the fixture tests.
public enum ReplyParser {
    public enum Verdict: Sendable, Hashable, CustomStringConvertible {
        case arpReply(sender: String, mac: String)
        case echoReply(source: String, identifier: UInt16, sequence: UInt16)
        case rejected(String)

        public var description: String {
            switch self {
            case .arpReply(let sender, let mac): return "ARP reply: \(sender) is at \(mac)"
            case .echoReply(let source, let identifier, let sequence): return "echo reply from \(source) id \(identifier) seq \(sequence)"
            case .rejected(let reason): return "rejected: \(reason)"
            }
        }
    }

    /// Classifies an Ethernet frame: an ARP reply, a Forewarn echo reply, or rejected with the reason.
    public static func classify(_ frame: [UInt8]) -> Verdict {
        frame.withUnsafeBytes { bytes in
            if bytes.count >= 14 {
                let etherType = UInt16(bytes[12]) << 8 | UInt16(bytes[13])
                if etherType == 0x0800 || etherType == 0x86dd {
                    let (source, parsed) = ICMPEcho.parseFrame(bytes, ethernet: true)
                    switch parsed {
                    case .reply(let reply):
                        return .echoReply(source: source.description, identifier: reply.identifier, sequence: reply.sequence)
                    case .rejected(let reason):
                        return .rejected(reason)
                    }
                }
            }
            switch ARPFrame.parse(bytes) {
            case .reply(let reply):
                return .arpReply(sender: IPAddressText.v4(reply.senderIP), mac: ARPFrame.macText(reply.senderMAC))
            case .rejected(let reason):
                return .rejected(reason)
            }
        }
    }
}

enum IPAddressText {
    static func v4(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }
}
