import ForewarnModel

/// What one port's IF-MIB objects mean: admin-up + oper-down is a line fault (down); admin-down
/// is deliberate and not a fault; an error rate above the threshold is degraded.
public struct PortHealth<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public struct Sample: Sendable, Equatable {
        public var adminStatus: Int
        public var operStatus: Int
        public var inErrors: UInt32?
        public var outErrors: UInt32?
        /// ifHCInOctets/ifHCOutOctets (64-bit), or ifInOctets/ifOutOctets (32-bit) where HC is absent.
        public var inOctets: UInt64?
        public var outOctets: UInt64?
        public var octetsAre64Bit: Bool

        public init(adminStatus: Int, operStatus: Int, inErrors: UInt32?, outErrors: UInt32?,
                    inOctets: UInt64? = nil, outOctets: UInt64? = nil, octetsAre64Bit: Bool = true) {
            self.adminStatus = adminStatus
            self.operStatus = operStatus
            self.inErrors = inErrors
            self.outErrors = outErrors
            self.inOctets = inOctets
            self.outOctets = outOctets
            self.octetsAre64Bit = octetsAre64Bit
        }
    }

    /// Rates between the last two polls (nil: first poll, or a counter discontinuity).
    public struct Rates: Sendable, Equatable {
        public var inErrorsPerSecond: Double?
        public var outErrorsPerSecond: Double?
        public var inBitsPerSecond: Double?
        public var outBitsPerSecond: Double?
    }

    public struct Change: Sendable, Equatable {
        public var health: Health
        public var since: Instant
        public var detail: String
    }

    /// Errors per second (in + out) above which the port is degraded.
    public var errorRateThreshold: Double
    public private(set) var health: Health = .unknown
    private var inErrors = CounterRate<Instant>(width: .bits32)
    private var outErrors = CounterRate<Instant>(width: .bits32)
    private var inOctets = CounterRate<Instant>(width: .bits64)
    private var outOctets = CounterRate<Instant>(width: .bits64)
    public private(set) var rates = Rates()

    public init(errorRateThreshold: Double) { self.errorRateThreshold = errorRateThreshold }

    /// `, traffic in 12.3 / out 4.5 Mbit/s` when both rates are known.
    var trafficText: String {
        guard let inBits = rates.inBitsPerSecond, let outBits = rates.outBitsPerSecond else { return "" }
        return String(format: ", traffic in %.1f / out %.1f Mbit/s", inBits / 1e6, outBits / 1e6)
    }

    /// Feeds one poll of the port; returns a change of health, if any. `rebooted` restarts the counters.
    public mutating func update(_ sample: Sample, at now: Instant, rebooted: Bool) -> Change? {
        let inRate = sample.inErrors.flatMap { inErrors.update(UInt64($0), at: now, discontinuity: rebooted) }
        let outRate = sample.outErrors.flatMap { outErrors.update(UInt64($0), at: now, discontinuity: rebooted) }
        let width: CounterRate<Instant>.Width = sample.octetsAre64Bit ? .bits64 : .bits32
        if inOctets.width != width { inOctets = CounterRate(width: width) }
        if outOctets.width != width { outOctets = CounterRate(width: width) }
        rates = Rates(inErrorsPerSecond: inRate, outErrorsPerSecond: outRate,
                      inBitsPerSecond: sample.inOctets.flatMap { inOctets.update($0, at: now, discontinuity: rebooted) }.map { $0 * 8 },
                      outBitsPerSecond: sample.outOctets.flatMap { outOctets.update($0, at: now, discontinuity: rebooted) }.map { $0 * 8 })
        let new: Health
        let detail: String
        if sample.adminStatus != 1 {
            new = .up
            detail = "administratively down (ifAdminStatus \(sample.adminStatus)): not a fault"
        } else if sample.operStatus != 1 {
            new = .down
            detail = "ifAdminStatus up, ifOperStatus \(sample.operStatus)"
        } else if let rate = (inRate ?? 0) + (outRate ?? 0) as Double?, (inRate != nil || outRate != nil),
                  rate > errorRateThreshold {
            new = .degraded
            detail = "error rate \(String(format: "%.2f", rate))/s above threshold \(errorRateThreshold)/s" + trafficText
        } else if health == .degraded && inRate == nil && outRate == nil {
            return nil // no rate this poll (restart of the counters): keep the verdict
        } else {
            new = .up
            detail = "ifOperStatus up"
        }
        guard new != health else { return nil }
        health = new
        return Change(health: new, since: now, detail: detail)
    }
}
