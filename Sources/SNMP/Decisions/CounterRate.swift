/// Per-second rate of an SNMP counter between two polls: Counter32 and Counter64 wrap modulo
/// 2^32 / 2^64 (at most once between polls), and a discontinuity (the agent rebooted, or the
/// counter went backwards where a wrap is implausible) restarts the baseline instead of
/// producing a huge or negative rate.
public struct CounterRate<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public enum Width: Sendable { case bits32, bits64 }

    private var last: (value: UInt64, at: Instant)?
    public let width: Width

    public init(width: Width) { self.width = width }

    /// Returns the rate since the previous sample, or nil for the first sample after a start or
    /// a discontinuity.
    public mutating func update(_ value: UInt64, at now: Instant, discontinuity: Bool = false) -> Double? {
        defer { last = (value, now) }
        guard let previous = last, !discontinuity else { return nil }
        let elapsed = previous.at.duration(to: now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        guard seconds > 0 else { return nil }
        let delta: UInt64
        if value >= previous.value {
            delta = value - previous.value
        } else {
            switch width {
            case .bits32:
                delta = (UInt64(UInt32.max) - previous.value) + value + 1
            case .bits64:
                // A 64-bit counter does not wrap in practice: going backwards is a discontinuity.
                return nil
            }
        }
        return Double(delta) / seconds
    }
}
