import ForewarnModel

/// Starts the probe engine a prober key names, as the daemon and `forewarn probe` both do.
public enum ProberFactory {
    public static func make(_ key: ProberKey, probing: ProbingSettings, rate: Int,
                            capture: PacketCapture?) throws(ProbeError) -> any Prober {
        switch key {
        case .icmp: return try ICMPProber(rate: rate, socket: probing.icmpSocket.rawValue, capture: capture)
        case .tcp: return try TCPProber(rate: rate, concurrency: probing.tcpConcurrency)
        case .arp(let interface): return try ARPProber(interface: interface, rate: rate, capture: capture)
        }
    }
}
