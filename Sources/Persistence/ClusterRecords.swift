import Foundation
import ForewarnModel

/// What several instances on one store share (a PostgreSQL store): their beats, the correlator's
/// lock, the queue that brings every instance's observations to the correlator, and requests
/// addressed to one instance (poll an element it owns, probe its lines).
public protocol ClusterStore: StoreLocated {
    /// This instance's beat, dated by the store's clock (hosts' clocks do not matter).
    func beat(_ member: ClusterMember) async throws(StoreError)
    /// Every member's last beat, aged by the store's clock, by instance name.
    func members() async throws(StoreError) -> [ClusterMember]
    /// A member gone for good (a graceful stop): its row is removed.
    func removeMember(_ instance: String) async throws(StoreError)
    /// A lock held by one session of the store at a time, released by the store when that
    /// session ends however it ends (the process killed, its host or network gone).
    func sessionLock(_ name: String) -> any SessionLock
    /// Observations for the correlator from `instance`, numbered on from its last (the numbers
    /// are the instance's own: it alone writes them, in order).
    func enqueueObservations(_ observations: [Observation], from instance: String, firstNumber: Int64) async throws(StoreError)
    /// The last number `instance` gave an observation; 0 when it has none queued.
    func lastObservationNumber(of instance: String) async throws(StoreError) -> Int64
    /// Queued observations numbered after `cursors` (per instance; 0 when absent), each
    /// instance's in order, at most `limit`.
    func queuedObservations(after cursors: [String: Int64], limit: Int) async throws(StoreError) -> [QueuedObservation]
    /// Removes the observations numbered up to `cursors` (handled and written).
    func trimObservations(upTo cursors: [String: Int64]) async throws(StoreError)
    /// Requests for other instances.
    func sendRequests(_ requests: [ClusterRequest]) async throws(StoreError)
    /// Takes (removes) the requests addressed to `instance`, oldest first.
    func takeRequests(for instance: String) async throws(StoreError) -> [ClusterRequest]
    /// Ticks whenever something is queued or sent on `channel` (and now and then regardless);
    /// ends when the task iterating it is cancelled.
    func notifications(_ channel: ClusterChannel) -> AsyncStream<Void>
}

/// The session locks instances take.
public enum ClusterLockName {
    /// Held by the one instance running the correlator and ticket delivery (or by the CLI
    /// applying its own commands while no instance runs).
    public static let correlator = "correlator"
    /// Held by the process running as `instance`: two daemons never run under one name.
    public static func instance(_ instance: String) -> String { "instance " + instance }
}

public enum ClusterChannel: String, Sendable, CaseIterable {
    case observations = "forewarn_observations"
    case requests = "forewarn_requests"
}

/// A lock on the store held by one session; `acquire` and `isHeld` never throw: a store that
/// cannot be reached is a lock not held.
public protocol SessionLock: Sendable {
    /// Takes the lock if free; true when this session holds it (now or already).
    func acquire() async -> Bool
    /// Whether this session still holds it: its session alive and answering.
    func isHeld() async -> Bool
    func release() async
}

/// One instance as the cluster sees it.
public struct ClusterMember: Sendable, Hashable {
    public enum Role: String, Sendable, CaseIterable {
        /// Holds the correlator (and ticket delivery); polls and probes its share too.
        case correlator
        /// Polls and probes its share; its observations go to the correlator through the store.
        case poller
        /// Owns nothing yet: waiting for the members to agree (starting), or cut off.
        case standby
    }

    public var instance: String
    public var hostname: String
    public var pid: Int32
    public var startedAt: Date
    public var role: Role
    /// Its share: elements it polls and lines it probes.
    public var elements: Int
    public var lines: Int
    /// Said by a member stopping gracefully: its share moves at once.
    public var leaving: Bool
    /// Since its last beat, by the store's clock (when read back).
    public var age: Duration

    public init(instance: String, hostname: String, pid: Int32, startedAt: Date, role: Role, elements: Int, lines: Int,
                leaving: Bool = false, age: Duration = .zero) {
        (self.instance, self.hostname, self.pid, self.startedAt) = (instance, hostname, pid, startedAt)
        (self.role, self.elements, self.lines, self.leaving, self.age) = (role, elements, lines, leaving, age)
    }
}

/// An observation in the queue, with who queued it and its number there.
public struct QueuedObservation: Sendable, Hashable {
    public var instance: String
    public var number: Int64
    /// Nil when this version cannot read it (then `problem` says why; it is skipped).
    public var observation: Observation?
    public var problem: String?

    public init(instance: String, number: Int64, observation: Observation?, problem: String? = nil) {
        (self.instance, self.number, self.observation, self.problem) = (instance, number, observation, problem)
    }
}

/// Something one instance asks of another.
public struct ClusterRequest: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Poll this element now (the correlator confirming, or a trap received elsewhere).
        case poll(ElementID, ifIndex: Int?, reason: String)
        /// Probe this line now (the correlator confirming).
        case probe(LineID)
    }

    public var instance: String
    public var kind: Kind

    public init(instance: String, kind: Kind) {
        (self.instance, self.kind) = (instance, kind)
    }
}

/// Observations and requests as JSON in the store; times in Unix milliseconds. Reading is
/// strict: what cannot be read is refused with the reason, never a default.
public enum ClusterCoding {
    public static func encode(_ observation: Observation) -> String {
        var object: [String: Any] = [
            "subject": observation.subject.kind, "id": observation.subject.identifier,
            "since": observation.since.unixMilliseconds, "observed": observation.observedAt.unixMilliseconds,
            "source": observation.source.rawValue, "detail": observation.detail,
        ]
        switch observation.kind {
        case .state(let health): object["state"] = health.rawValue
        case .rebooted: object["rebooted"] = true
        }
        return CommandCoding.json(object)
    }

    public static func decodeObservation(_ text: String) -> Result<Observation, ClusterCodingProblem> {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            return .failure(ClusterCodingProblem(text: "not a JSON object"))
        }
        guard let type = object["subject"] as? String, let id = object["id"] as? String,
              let subject = StoredRows.subject(type: type, id: id) else {
            return .failure(ClusterCodingProblem(text: "no subject it can read"))
        }
        guard let since = (object["since"] as? NSNumber)?.int64Value, let observed = (object["observed"] as? NSNumber)?.int64Value,
              let source = (object["source"] as? String).flatMap(Observation.Source.init(rawValue:)) else {
            return .failure(ClusterCodingProblem(text: "no since, observed or source it can read"))
        }
        let kind: Observation.Kind
        if let state = object["state"] as? String {
            guard let health = Health(rawValue: state) else { return .failure(ClusterCodingProblem(text: "unknown state '\(state)'")) }
            kind = .state(health)
        } else if object["rebooted"] as? Bool == true {
            kind = .rebooted
        } else {
            return .failure(ClusterCodingProblem(text: "neither a state nor a reboot"))
        }
        return .success(Observation(subject: subject, kind: kind, since: Date(unixMilliseconds: since),
                                    observedAt: Date(unixMilliseconds: observed), source: source,
                                    detail: object["detail"] as? String ?? ""))
    }

    public static func encode(_ request: ClusterRequest.Kind) -> String {
        switch request {
        case .poll(let element, let ifIndex, let reason):
            var object: [String: Any] = ["poll": element.rawValue, "reason": reason]
            if let ifIndex { object["if_index"] = ifIndex }
            return CommandCoding.json(object)
        case .probe(let line):
            return CommandCoding.json(["probe": line.rawValue])
        }
    }

    public static func decodeRequest(_ text: String) -> ClusterRequest.Kind? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { return nil }
        if let element = object["poll"] as? String {
            return .poll(ElementID(element), ifIndex: (object["if_index"] as? NSNumber)?.intValue,
                         reason: object["reason"] as? String ?? "")
        }
        if let line = object["probe"] as? String { return .probe(LineID(line)) }
        return nil
    }
}

public struct ClusterCodingProblem: Error, Sendable {
    public var text: String
}
