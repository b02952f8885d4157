#if canImport(Glibc)
import Glibc
#endif
internal import CPcap

/// One ICMP or ICMPv6 socket for every line of its family: raw where CAP_NET_RAW allows, Linux's
/// unprivileged ICMP datagram socket ("ping socket") otherwise.
struct ICMPSocket: Sendable {
    enum Mode: String, Sendable {
        /// Sees every echo reply reaching the host, other programs' too: replies are matched by
        /// identifier, sequence, payload and source address.
        case raw
        /// The kernel sets the identifier and hands this socket only its own replies.
        case datagram
    }

    /// Which socket kinds to try, in order.
    enum Preference: String, Sendable, CaseIterable {
        case automatic = "auto", raw, datagram
    }

    let descriptor: Int32
    let v6: Bool
    let mode: Mode

    var includesIPv4Header: Bool { !v6 && mode == .raw }

    static func open(v6: Bool, preference: Preference = .automatic) throws(ProbeError) -> ICMPSocket {
        let family = v6 ? AF_INET6 : AF_INET
        let proto = Int32(v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)
        var rawProblem = "not tried"
        var datagramProblem = "not tried"
        if preference != .datagram {
            let descriptor = socket(family, SocketFlags.raw, proto)
            if descriptor >= 0 { return configure(ICMPSocket(descriptor: descriptor, v6: v6, mode: .raw)) }
            rawProblem = ProbeError.errnoText()
        }
        if preference != .raw {
            let descriptor = socket(family, SocketFlags.datagram, proto)
            if descriptor >= 0 { return configure(ICMPSocket(descriptor: descriptor, v6: v6, mode: .datagram)) }
            datagramProblem = ProbeError.errnoText()
        }
        throw ProbeError.noICMPSocket(family: v6 ? "ICMPv6" : "ICMP", raw: rawProblem, datagram: datagramProblem)
    }

    private static func configure(_ socket: ICMPSocket) -> ICMPSocket {
        // Kernel receive timestamps give round-trip times without our own wake-up latency.
        _ = fw_enable_rx_timestamps(socket.descriptor)
        // A round over thousands of lines answers in a burst: room for tens of thousands of replies.
        fw_set_receive_buffer(socket.descriptor, 8 << 20)
        fw_set_send_buffer(socket.descriptor, 4 << 20)
        if socket.mode == .raw {
            // Other ICMP (our own requests looping back, errors, other programs' requests) never wakes us.
            if socket.v6 { _ = fw_icmp6_filter_echo_reply(socket.descriptor) } else { _ = fw_icmp4_filter_echo_reply(socket.descriptor) }
        }
        return socket
    }

    func close() { _ = Glibc.close(descriptor) }
}
