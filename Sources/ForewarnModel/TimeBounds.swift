import Foundation

/// The instants Forewarn takes from people and clients (customer calls, listing ranges,
/// maintenance windows): none before `floor`, none more than `maxFutureSkew` after now. A
/// year-0 call or one dated next year would otherwise be stored and skew incidents
/// (proactive or not) and reports.
public struct TimeBounds: Sendable, Hashable {
    /// 2000-01-01T00:00:00Z: older than anything the store can hold.
    public static let floor = Date(timeIntervalSince1970: 946_684_800)
    /// How far ahead a maintenance window may be planned (ten years).
    public static let planningHorizon: Duration = .seconds(3_653 * 86_400)

    public var maxFutureSkew: Duration

    public init(maxFutureSkew: Duration = .seconds(300)) {
        self.maxFutureSkew = maxFutureSkew
    }

    /// Nil when `date` is within bounds at `now`; otherwise why not, for a message.
    public func problem(with date: Date, now: Date = Date()) -> String? {
        if date < Self.floor { return "is before \(RFC3339.format(Self.floor))" }
        let latest = now.addingTimeInterval(maxFutureSkew.inSeconds)
        if date > latest {
            let seconds = maxFutureSkew.components.seconds
            let skew = seconds >= 2 * 86_400 ? "\(seconds / 86_400) days" : DurationText.format(maxFutureSkew)
            return "is more than \(skew) in the future (now \(RFC3339.format(now)))"
        }
        return nil
    }
}
