import Logging
import Synchronization

/// The shell around `LogAggregator` on the monotonic clock: logs the first occurrence of each
/// reason with its metadata, and a summary per reason and minute. Used from the I/O thread (trap
/// drops, net-snmp's own messages) and from tasks (traps mapped or not), so it locks.
public final class AggregatedLog: Sendable {
    public struct Reason: Sendable {
        public var key: String
        public var level: Logger.Level
        public var message: String

        public init(_ key: String, _ level: Logger.Level, _ message: String) {
            self.key = key
            self.level = level
            self.message = message
        }
    }

    private let state: Mutex<(aggregator: LogAggregator<ContinuousClock.Instant>, reasons: [String: Reason])>
    private let logger: Mutex<Logger>

    public init(logger: Logger, interval: Duration = .seconds(60)) {
        state = Mutex((LogAggregator(interval: interval), [:]))
        self.logger = Mutex(logger)
    }

    /// Sends later lines to `logger` (net-snmp's messages follow the daemon's logger once it exists).
    public func use(_ logger: Logger) { self.logger.withLock { $0 = logger } }

    /// One occurrence: logged now if it is the first of its reason in a while, else counted.
    public func note(_ reason: Reason, source: String? = nil, detail: String? = nil, metadata: Logger.Metadata = [:],
                     at now: ContinuousClock.Instant = .now) {
        let reports = state.withLock { state in
            state.reasons[reason.key] = reason
            return state.aggregator.record(reason.key, source: source, detail: detail, at: now)
        }
        emit(reports, firstMetadata: metadata)
    }

    /// Logs the summaries of intervals that have ended; cheap when nothing is counted.
    public func tick(at now: ContinuousClock.Instant = .now) {
        let reports = state.withLock { state in state.aggregator.isIdle ? [] : state.aggregator.tick(at: now) }
        emit(reports, firstMetadata: [:])
    }

    /// Logs every summary still due (at a stop).
    public func flush(at now: ContinuousClock.Instant = .now) {
        emit(state.withLock { $0.aggregator.flush(at: now) }, firstMetadata: [:])
    }

    private func emit(_ reports: [LogAggregator<ContinuousClock.Instant>.Report], firstMetadata: Logger.Metadata) {
        guard !reports.isEmpty else { return }
        let logger = self.logger.withLock { $0 }
        let reasons = state.withLock { $0.reasons }
        for report in reports {
            switch report {
            case .first(let key):
                guard let reason = reasons[key] else { continue }
                logger.log(level: reason.level, "\(reason.message) (more are counted and summarised once a minute)",
                           metadata: firstMetadata)
            case .summary(let summary):
                guard let reason = reasons[summary.reason] else { continue }
                var metadata: Logger.Metadata = [
                    "count": "\(summary.count)",
                    "seconds": "\(summary.over.components.seconds)",
                ]
                if summary.sources > 0 {
                    metadata["sources"] = "\(summary.sources)\(summary.moreSources ? "+" : "")"
                }
                if let top = summary.top { metadata["top.source"] = "\(top)"; metadata["top.count"] = "\(summary.topCount)" }
                if let detail = summary.lastDetail { metadata["last"] = "\(detail)" }
                logger.log(level: reason.level, "\(reason.message): \(summary.count) more in the last \(summary.over.components.seconds) s",
                           metadata: metadata)
            }
        }
    }
}
