import Foundation

/// What an observation or fault is about: an element, one of its ports, or a subscriber line.
public enum Subject: Sendable, Hashable, CustomStringConvertible {
    case element(ElementID)
    case port(ElementID, PortReference)
    case line(LineID)

    public var kind: String {
        switch self {
        case .element: return "element"
        case .port: return "port"
        case .line: return "line"
        }
    }

    /// `agg1`, `agg1/ge-0/0/3`, `L-000001`: how the CLI and the store name it.
    public var identifier: String {
        switch self {
        case .element(let id): return id.rawValue
        case .port(let id, let port): return "\(id.rawValue)/\(port)"
        case .line(let id): return id.rawValue
        }
    }

    public var description: String { "\(kind) \(identifier)" }
}

/// The state a subject was seen in; `degraded` works but badly (errors, loss, latency).
public enum Health: String, Sendable, Hashable, CaseIterable, Codable {
    case up, degraded, down, unknown
}

/// One recorded change of a subject's state, with the evidence that showed it.
public struct StateTransition: Sendable, Hashable {
    public var subject: Subject
    public var from: Health
    public var to: Health
    /// When the change happened (the first bad evidence), not when it was confirmed.
    public var at: Date
    public var evidence: String

    public init(subject: Subject, from: Health, to: Health, at: Date, evidence: String) {
        self.subject = subject
        self.from = from
        self.to = to
        self.at = at
        self.evidence = evidence
    }
}
