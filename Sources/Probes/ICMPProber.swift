import ForewarnModel

/// `probe: icmp`: ICMP (IPv4) and ICMPv6 echo over one shared engine for every line.
public final class ICMPProber: Prober {
    public let kind = "icmp"
    let engine: ICMPEngine

    /// - Parameters:
    ///   - rate: packets per second over all lines (0: no cap).
    ///   - socket: `auto` tries a raw socket, then the unprivileged ICMP datagram socket.
    public init(rate: Int, socket: String = "auto", capture: PacketCapture? = nil) throws(ProbeError) {
        let preference = ICMPSocket.Preference(rawValue: socket) ?? .automatic
        engine = try ICMPEngine(rate: rate, preference: preference, capture: capture)
    }

    /// `raw` or `datagram`: which kind of socket the engine got.
    public var socketMode: String { engine.socketMode.rawValue }
    public var statistics: ICMPStatistics { engine.statistics.withLock { $0 } }

    public func probe(_ requests: [ProbeRequest]) async -> [ProbeOutcome] {
        await engine.mailbox.submit(requests)
    }

    public func shutdown() { engine.mailbox.shutdown() }

    deinit { engine.mailbox.shutdown() }
}
