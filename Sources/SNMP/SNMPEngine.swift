internal import CNetSNMP
import ForewarnModel
import Foundation
import Logging

/// Concurrent SNMP requests over net-snmp's single-session API. One I/O thread owns the library
/// and multiplexes every session with epoll; callers suspend on continuations, so thousands of
/// requests can be in flight without a thread each and nothing blocks Swift's cooperative pool.
public final class SNMPEngine: Sendable {
    public struct Configuration: Sendable {
        /// Requests in flight at once over all agents; more wait in a queue. A single agent's
        /// socket buffer overflows with thousands outstanding, so keep this to hundreds per agent.
        public var maxOutstanding: Int
        /// Sessions (one UDP socket each) kept open; idle ones are closed least recently used
        /// first. nil: the process's open-file limit (raised to its hard limit) minus a reserve.
        public var maxOpenSessions: Int?

        /// A named network namespace (`ip netns`) for every socket of the engine, polling and
        /// traps alike: a management network kept apart from the host's (or a lab). nil: the
        /// process's own.
        public var networkNamespace: String?

        public init(maxOutstanding: Int = 1_000, maxOpenSessions: Int? = nil, networkNamespace: String? = nil) {
            self.maxOutstanding = maxOutstanding
            self.maxOpenSessions = maxOpenSessions
            self.networkNamespace = networkNamespace
        }
    }

    let loop: IOLoop
    public let logger: Logger

    public init(configuration: Configuration = Configuration(),
                logger: Logger = Logger(label: "forewarn.snmp")) throws(SNMPError) {
        NetSNMPLibrary.initialise()
        NetSNMPLibrary.messages.use(logger)
        let sessions = configuration.maxOpenSessions ?? Self.descriptorBudget()
        let outstanding = max(1, min(configuration.maxOutstanding, sessions))
        loop = try IOLoop(settings: .init(maxOutstanding: outstanding, maxOpenSessions: max(1, sessions),
                                          networkNamespace: configuration.networkNamespace), logger: logger)
        self.logger = logger
    }

    deinit { loop.stop() }

    /// Stops the I/O thread; requests still in flight fail with `.shutDown`.
    public func shutdown() { loop.stop() }

    /// Raises the soft open-file limit to the hard one and keeps 512 descriptors for everything else.
    static func descriptorBudget() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 900 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let available = limit.rlim_cur > 1 << 20 ? 65_536 : Int(limit.rlim_cur)
        return max(64, available - 512)
    }

    /// How often a poll found the engine's notion of an agent's SNMPv3 boots and time stale
    /// (a notInTimeWindow report, or a report it had to reject as out of the window), forgot it,
    /// and retried with the agent's own values.
    public func engineTimeResynchronisations() async -> Int {
        await withCheckedContinuation { continuation in
            loop.submit { loop in continuation.resume(returning: loop.engineTimeResynchronisations) }
        }
    }

    // MARK: requests

    public func get(_ oids: [OID], from target: SNMPTarget) async throws(SNMPError) -> [VarBind] {
        try await request(.get, oids, target)
    }

    public func getNext(_ oids: [OID], from target: SNMPTarget) async throws(SNMPError) -> [VarBind] {
        try await request(.getNext, oids, target)
    }

    /// GETBULK (SNMPv2c and v3): the first `nonRepeaters` OIDs once, the rest `maxRepetitions` times.
    public func getBulk(_ oids: [OID], nonRepeaters: Int = 0, maxRepetitions: Int,
                        from target: SNMPTarget) async throws(SNMPError) -> [VarBind] {
        try await request(.getBulk(nonRepeaters: nonRepeaters, maxRepetitions: maxRepetitions), oids, target)
    }

    /// Every object under `subtree`, in order: GETBULK for v2c and v3 (halving the repetitions when
    /// the agent answers tooBig), GETNEXT for v1.
    public func walk(_ subtree: OID, from target: SNMPTarget, maxRepetitions: Int = 25) async throws(SNMPError) -> [VarBind] {
        var results: [VarBind] = []
        var cursor = subtree
        var repetitions = max(1, maxRepetitions)
        while true {
            let batch: [VarBind]
            do {
                batch = target.profile.version == .v1
                    ? try await getNext([cursor], from: target)
                    : try await getBulk([cursor], maxRepetitions: repetitions, from: target)
            } catch {
                if case .tooBig = error.cause, repetitions > 1 {
                    repetitions = max(1, repetitions / 2)
                    continue
                }
                // SNMPv1 agents end a walk with noSuchName.
                if case .noSuchName = error.cause, target.profile.version == .v1 { return results }
                throw SNMPError(target: error.target, address: error.address, operation: "walk \(subtree)",
                                cause: error.cause)
            }
            guard !batch.isEmpty else { return results }
            for varbind in batch {
                guard subtree.contains(varbind.oid), varbind.value != .endOfMibView else { return results }
                guard cursor < varbind.oid || cursor == subtree && varbind.oid != subtree else {
                    throw SNMPError(target: target.name, address: target.endpointText, operation: "walk \(subtree)",
                                    cause: .malformedResponse("the agent returned \(varbind.oid) after \(cursor) (OIDs not increasing)"))
                }
                results.append(varbind)
                cursor = varbind.oid
            }
        }
    }

    /// Cancelling the calling task completes the request at once with `.cancelled` (net-snmp
    /// forgets it; a late answer is dropped), so stopping never waits for timeouts and retries.
    private func request(_ kind: PendingRequest.Kind, _ oids: [OID], _ target: SNMPTarget) async throws(SNMPError) -> [VarBind] {
        let handle = CancellationHandle()
        let loop = self.loop
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<[VarBind], SNMPError>, Never>) in
                loop.submit { loop in
                    let request = PendingRequest(kind: kind, oids: oids, target: target, loop: loop) { result in
                        continuation.resume(returning: result)
                    }
                    handle.request = request
                    if handle.cancelled {
                        request.complete(.failure(request.error(.cancelled)))
                    } else {
                        loop.enqueue(request)
                    }
                }
            }
        } onCancel: {
            loop.submit { loop in
                handle.cancelled = true
                if let request = handle.request { loop.cancel(request) }
            }
        }
        return try result.get()
    }
}

// MARK: traps

extension SNMPEngine {
    /// Receives traps and informs on `endpoint` (informs are acknowledged); `deliver` is called on
    /// the engine's I/O thread for every admitted, decoded message and must return quickly.
    /// With `communities`, v1 and v2c messages with any other community are dropped (an inform
    /// is then not acknowledged); nil accepts every community.
    public func listenForTraps(on endpoint: SocketEndpoint, ratePerSecond: Double = 50, burst: Int = 200,
                               communities: Set<Secret>? = nil,
                               deliver: @escaping @Sendable (ReceivedTrap) -> Void) async throws(SNMPError) -> TrapListener {
        let log = AggregatedLog(logger: logger)
        let listener = TrapListener(loop: loop, log: log)
        let result: Result<Void, SNMPError> = await withCheckedContinuation { continuation in
            loop.submit { loop in
                let context = TrapListenerContext(endpoint: endpoint,
                                                  admission: TrapAdmission(ratePerSecond: ratePerSecond, burst: burst),
                                                  communities: communities.map { Set($0.map(\.value)) },
                                                  log: log, deliver: deliver)
                let opened = loop.openTrapListener(context)
                if case .success = opened { listener.context = context }
                continuation.resume(returning: opened)
            }
        }
        try result.get()
        return listener
    }

    /// SNMPv3 users whose traps and informs are accepted: informs are authenticated with this
    /// engine's own engine ID, traps with the sender's (`senderEngineIDs`; engine IDs learnt by
    /// polling an element are added automatically, since polling creates the same user for it).
    public func addTrapUsers(_ profiles: [SNMPProfile], senderEngineIDs: [[UInt8]] = []) async {
        var lines: [String] = []
        for profile in profiles {
            guard case .user(let name, let level, let auth, let authKey, let privacy, let privacyKey) = profile.credentials else { continue }
            var tail = "\"\(name)\""
            if level != .noAuthNoPriv, let authKey {
                tail += " \(auth == .sha256 ? "SHA-256" : "SHA") \"\(authKey)\""
                if level == .authPriv, let privacyKey {
                    tail += " \(privacy == .aes256 ? "AES-256" : "AES") \"\(privacyKey)\""
                }
            }
            lines.append(tail)
            for engineID in senderEngineIDs { lines.append("-e \(engineID.hexText) " + tail) }
        }
        let userLines = lines
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.submit { _ in
                for line in userLines { line.withCString { fw_create_usm_user($0) } }
                continuation.resume()
            }
        }
    }
}

/// An open trap socket; `close()` stops it. Counters are read on the I/O thread.
///
/// `@unchecked Sendable` is safe because `loop` and `log` are immutable and Sendable, and the one
/// mutable property, `context`, is written once on the I/O thread before the opening
/// continuation resumes (a happens-before edge) and afterwards read only in commands that thread
/// runs (`close`, `counters`).
public final class TrapListener: @unchecked Sendable {
    let loop: IOLoop
    var context: TrapListenerContext?
    /// What the listener drops, and what its receiver logs about the traps it takes, per reason
    /// and minute.
    public let log: AggregatedLog

    init(loop: IOLoop, log: AggregatedLog) {
        self.loop = loop
        self.log = log
    }

    public func close() {
        loop.submit { [self] loop in
            if let context { loop.closeTrapListener(context) }
        }
    }

    public func counters() async -> TrapListenerCounters {
        await withCheckedContinuation { continuation in
            loop.submit { [self] _ in continuation.resume(returning: context?.counters ?? TrapListenerCounters()) }
        }
    }
}

/// Links a caller's cancellation to its request on the loop thread.
///
/// `@unchecked Sendable` is safe because both properties are read and written only inside
/// commands the loop thread runs (`loop.submit`), one at a time, so never concurrently.
private final class CancellationHandle: @unchecked Sendable {
    var request: PendingRequest?
    var cancelled = false
}
