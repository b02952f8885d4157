import ForewarnModel

/// Every failure of the SNMP engine: which agent, what was asked, and why it failed, worded
/// for the engineer who has to fix the agent, the network or the configuration.
public struct SNMPError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Cause: Sendable, Hashable {
        /// No answer after every retry: the agent is down or unreachable, or the community is wrong
        /// (agents drop requests with a wrong community silently).
        case timeout(after: Duration, attempts: Int)
        /// SNMPv3: wrong passphrase, unknown user, unsupported security level, decryption failure.
        case authentication(String)
        /// SNMPv1 noSuchName, or a v2 noSuchObject/noSuchInstance where a value was required.
        case noSuchName(OID?)
        /// The response would not fit in a message: ask for less (smaller GETBULK).
        case tooBig
        /// The agent answered with another error-status (genErr, readOnly, …).
        case agentError(status: Int, index: Int)
        /// The response could not be decoded or did not match the request.
        case malformedResponse(String)
        /// The session could not be opened or the request not sent (bad address, out of descriptors).
        case sessionFailed(String)
        /// The engine was shut down before the request completed.
        case shutDown
        /// The caller's task was cancelled (the daemon is stopping): not evidence about the agent.
        case cancelled
    }

    /// The element id, or the address when no element is known.
    public var target: String
    public var address: String
    /// `get sysUpTime.0`, `walk 1.3.6.1.2.1.2.2`, `trap receiver bind`.
    public var operation: String
    public var cause: Cause

    public init(target: String, address: String, operation: String, cause: Cause) {
        self.target = target
        self.address = address
        self.operation = operation
        self.cause = cause
    }

    /// Whether trying again later can help (a timeout, a busy agent) or the configuration or the
    /// agent must be fixed first (authentication, unknown objects).
    public var isRetryable: Bool {
        switch cause {
        case .timeout, .tooBig, .sessionFailed, .agentError, .malformedResponse: return true
        case .authentication, .noSuchName, .shutDown, .cancelled: return false
        }
    }

    public var description: String {
        let unnamed = target == address || address.hasPrefix(target + ":") || address.hasPrefix("[\(target)]:")
        let whereText = unnamed ? address : "\(target) (\(address))"
        let why: String
        switch cause {
        case .timeout(let after, let attempts):
            why = "no response after \(attempts) attempt\(attempts == 1 ? "" : "s") of \(after.shortText) each: agent down, unreachable, filtered, or wrong community"
        case .authentication(let detail):
            why = "SNMPv3 authentication failed: \(detail); check the profile's user, passphrases and protocols against the agent"
        case .noSuchName(let oid):
            why = "the agent has no such object\(oid.map { " \($0)" } ?? ""): check the OID or port (ifIndex/ifName)"
        case .tooBig:
            why = "the response is too big for one message: ask for fewer objects"
        case .agentError(let status, let index):
            why = "the agent answered error-status \(SNMPError.statusName(status)) (\(status)) at varbind \(index)"
        case .malformedResponse(let detail):
            why = "malformed response: \(detail)"
        case .sessionFailed(let detail):
            why = "cannot open an SNMP session: \(detail)"
        case .shutDown:
            why = "the SNMP engine is shutting down"
        case .cancelled:
            why = "cancelled before an answer came (stopping)"
        }
        return "SNMP \(operation) to \(whereText): \(why)"
    }

    static func statusName(_ status: Int) -> String {
        let names = ["noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess", "wrongType",
                     "wrongLength", "wrongEncoding", "wrongValue", "noCreation", "inconsistentValue",
                     "resourceUnavailable", "commitFailed", "undoFailed", "authorizationError", "notWritable",
                     "inconsistentName"]
        return status >= 0 && status < names.count ? names[status] : "unknown"
    }
}

extension Duration {
    /// `2s`, `500ms`: compact text for messages.
    var shortText: String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}
