/// How lines are probed and judged: timing of a round and the thresholds of the verdict.
/// Named profiles are shared by many lines (`probe_profiles:`, `probe_profile:` on a line).
public struct ProbeProfile: Sendable, Hashable, Identifiable {
    public var id: ProfileID
    /// Time between the starts of two rounds of one line.
    public var interval: Duration
    /// How long each probe waits for its answer.
    public var timeout: Duration
    /// Probes per round; a round is lost when none of them is answered.
    public var count: Int
    /// Time between the probes of one round to the same line.
    public var spacing: Duration
    /// K: consecutive lost rounds that make a line down.
    public var downAfter: Int
    /// R: consecutive good rounds that bring a down or degraded line up again.
    public var upAfter: Int
    /// Rounds in the sliding window that loss and round-trip time are judged over.
    public var window: Int
    /// Degraded when the loss over the window exceeds this.
    public var degradedLoss: Percentage
    /// Degraded when the average round-trip time over the window exceeds this (nil: never).
    public var degradedRTT: Duration?
    /// Interface the ARP probes of these lines go out of (nil: `probing.arp_interface`).
    public var arpInterface: String?

    public init(id: ProfileID, interval: Duration = .seconds(60), timeout: Duration = .seconds(1), count: Int = 1,
                spacing: Duration = .milliseconds(100), downAfter: Int = 3, upAfter: Int = 2, window: Int = 10,
                degradedLoss: Percentage = Percentage(millionths: 20 * Percentage.scale), degradedRTT: Duration? = nil,
                arpInterface: String? = nil) {
        self.id = id
        self.interval = interval
        self.timeout = timeout
        self.count = count
        self.spacing = spacing
        self.downAfter = downAfter
        self.upAfter = upAfter
        self.window = window
        self.degradedLoss = degradedLoss
        self.degradedRTT = degradedRTT
        self.arpInterface = arpInterface
    }

    /// The defaults, used by lines that name no profile when no profile `default` is configured.
    public static let standard = ProbeProfile(id: "default")

    /// How long one round can take from its first probe to its last answer or timeout.
    public var roundDuration: Duration { spacing * (count - 1) + timeout }
}

/// Process-wide probing settings (`probing:`).
public struct ProbingSettings: Sendable, Hashable {
    public enum ICMPSocketKind: String, Sendable, Hashable, CaseIterable {
        /// Raw socket when CAP_NET_RAW allows it, else the unprivileged ICMP datagram socket.
        case auto
        case raw
        case datagram
    }

    /// Probe packets per second, per engine (ICMP, TCP, ARP on each interface); 0 means no cap.
    public var rate: Int
    public var icmpSocket: ICMPSocketKind
    /// Interface for ARP probes of lines whose profile names none.
    public var arpInterface: String?
    /// A pcap savefile the daemon writes its probe traffic to (troubleshooting only).
    public var capture: String?
    /// TCP connects in flight at most (each holds a descriptor).
    public var tcpConcurrency: Int

    public init(rate: Int = 20_000, icmpSocket: ICMPSocketKind = .auto, arpInterface: String? = nil,
                capture: String? = nil, tcpConcurrency: Int = 2_048) {
        self.rate = rate
        self.icmpSocket = icmpSocket
        self.arpInterface = arpInterface
        self.capture = capture
        self.tcpConcurrency = tcpConcurrency
    }
}
