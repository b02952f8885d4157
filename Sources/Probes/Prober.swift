import ForewarnModel

/// One line (or address) to probe in a round: `count` echoes or attempts, each given `timeout`,
/// sent `spacing` apart.
public struct ProbeRequest: Sendable, Hashable {
    public var address: IPAddress
    /// TCP port for `tcp:PORT` probes; ignored by ICMP and ARP.
    public var port: UInt16
    public var count: Int
    public var timeout: Duration
    public var spacing: Duration

    public init(address: IPAddress, port: UInt16 = 0, count: Int = 1, timeout: Duration = .seconds(1),
                spacing: Duration = .zero) {
        self.address = address
        self.port = port
        self.count = max(1, count)
        self.timeout = timeout
        self.spacing = spacing
    }
}

/// What one request's round saw: how many probes went out, how many were answered, and the
/// round-trip times of the answers (nanoseconds).
public struct ProbeOutcome: Sendable, Hashable {
    public var sent: Int
    public var received: Int
    /// Answers beyond the first to the same probe (a looping or duplicating path).
    public var duplicates: Int
    public var rttMinNanoseconds: Int64
    public var rttMaxNanoseconds: Int64
    public var rttSumNanoseconds: Int64
    /// Why probes could not even be sent (no route, unreachable), when that happened.
    public var failure: String?

    public init(sent: Int = 0, received: Int = 0, duplicates: Int = 0, rttMinNanoseconds: Int64 = .max,
                rttMaxNanoseconds: Int64 = 0, rttSumNanoseconds: Int64 = 0, failure: String? = nil) {
        self.sent = sent
        self.received = received
        self.duplicates = duplicates
        self.rttMinNanoseconds = rttMinNanoseconds
        self.rttMaxNanoseconds = rttMaxNanoseconds
        self.rttSumNanoseconds = rttSumNanoseconds
        self.failure = failure
    }

    public var lost: Int { max(0, sent - received) }
    public var answered: Bool { received > 0 }
    public var lossFraction: Double { sent == 0 ? 1 : Double(lost) / Double(sent) }
    public var rttAverageNanoseconds: Int64? { received == 0 ? nil : rttSumNanoseconds / Int64(received) }

    public mutating func addAnswer(rttNanoseconds: Int64) {
        let rtt = max(0, rttNanoseconds)
        received += 1
        rttSumNanoseconds += rtt
        rttMinNanoseconds = min(rttMinNanoseconds, rtt)
        rttMaxNanoseconds = max(rttMaxNanoseconds, rtt)
    }
}

/// The shape every probe kind shares (blackbox_exporter's prober/): a batch of requests in, one
/// outcome per request out, in the same order. Engines keep their own sockets and threads; many
/// batches may be in flight at once.
public protocol Prober: Sendable {
    /// `icmp`, `tcp` or `arp`, for logs and the CLI.
    var kind: String { get }
    func probe(_ requests: [ProbeRequest]) async -> [ProbeOutcome]
    /// Stops the engine's thread; batches still in flight finish with what they have.
    func shutdown()
}
