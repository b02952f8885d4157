import ForewarnModel

/// What one port's IF-MIB objects mean: admin-up + oper-down is a line fault (down); admin-down
/// is deliberate and not a fault; an error rate above the threshold is degraded.
public struct PortHealth<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public struct Sample: Sendable, Equatable {
        public var adminStatus: Int
        public var operStatus: Int
        public var inErrors: UInt32?
        public var outErrors: UInt32?

        public init(adminStatus: Int, operStatus: Int, inErrors: UInt32?, outErrors: UInt32?) {
            self.adminStatus = adminStatus
            self.operStatus = operStatus
            self.inErrors = inErrors
            self.outErrors = outErrors
        }
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

    public init(errorRateThreshold: Double) { self.errorRateThreshold = errorRateThreshold }

    /// Feeds one poll of the port; returns a change of health, if any. `rebooted` restarts the counters.
    public mutating func update(_ sample: Sample, at now: Instant, rebooted: Bool) -> Change? {
        let inRate = sample.inErrors.flatMap { inErrors.update(UInt64($0), at: now, discontinuity: rebooted) }
        let outRate = sample.outErrors.flatMap { outErrors.update(UInt64($0), at: now, discontinuity: rebooted) }
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
            detail = "error rate \(String(format: "%.2f", rate))/s above threshold \(errorRateThreshold)/s"
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
