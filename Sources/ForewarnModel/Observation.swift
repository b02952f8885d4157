import Foundation

/// One piece of evidence about the network, from any source, as the correlator receives it.
public struct Observation: Sendable, Hashable {
    public enum Source: String, Sendable, Hashable, Codable {
        case poll, trap, probe, customer, `operator`
    }

    public enum Kind: Sendable, Hashable {
        /// The subject is in this state.
        case state(Health)
        /// The element restarted (sysUpTime went backwards, or a coldStart/warmStart trap).
        case rebooted
    }

    public var subject: Subject
    public var kind: Kind
    /// When the state began: the first bad (or good) evidence, not when it was confirmed.
    public var since: Date
    /// When this observation was made.
    public var observedAt: Date
    public var source: Source
    /// Human-readable evidence for the incident timeline ("3 polls of sysUpTime.0 timed out").
    public var detail: String

    public init(subject: Subject, kind: Kind, since: Date, observedAt: Date, source: Source, detail: String) {
        self.subject = subject
        self.kind = kind
        self.since = since
        self.observedAt = observedAt
        self.source = source
        self.detail = detail
    }
}
