internal import CNetSNMP
import Foundation
import Logging
import Synchronization

/// The thread that owns net-snmp. Every net-snmp call (session open and close, send, read,
/// timeouts, USM user creation) happens on it: Debian builds net-snmp without NETSNMP_REENTRANT,
/// so its user list and request-id counter are unlocked globals. It waits in epoll on every
/// session's socket (plus trap listeners and a wake-up eventfd): no limit at 1,024 descriptors,
/// and the cost of a wake-up is the number of ready sockets, not of sockets in flight. It
/// resumes the callers' continuations.
///
/// `@unchecked Sendable` is safe because all mutable state below `inbox` is read and written only
/// on the loop thread (commands from other threads arrive through `inbox`, guarded by a Mutex),
/// and the thread is the only one that touches net-snmp after `init_snmp`.
final class IOLoop: @unchecked Sendable {
    struct Settings: Sendable {
        var maxOutstanding: Int
        var maxOpenSessions: Int
        var networkNamespace: String?
    }

    private let inbox = Mutex<(commands: [@Sendable (IOLoop) -> Void], sleeping: Bool)>(([], false))
    private let wakeFD: Int32
    let settings: Settings
    let logger: Logger
    private var thread: Thread?

    // Loop-thread state.
    var sessions: [SessionKey: SessionEntry] = [:]
    private let epollFD: Int32
    /// Sessions by socket, for epoll's ready list.
    var byFD: [Int32: SessionEntry] = [:]
    private var readyFDs = [Int32](repeating: 0, count: 512)
    private var idleHead: SessionEntry?
    private var idleTail: SessionEntry?
    private(set) var openSessions = 0
    var engineIDs: [SessionKey: [UInt8]] = [:]
    private var deadlines: [UInt64: FIFO<Deadline>] = [:]
    private var waiting = FIFO<PendingRequest>()
    private var outstanding = 0
    private var deferred: [() -> Void] = []
    /// Requests net-snmp holds, by the token given as their callback context.
    private var inFlight: [UInt: PendingRequest] = [:]
    private var nextToken: UInt = 0
    var listeners: [Int32: TrapListenerContext] = [:]
    private var fdSet = netsnmp_large_fd_set()
    var fdSetForListeners = netsnmp_large_fd_set()
    private var stopping = false
    private var nextLogSummary: UInt64 = 0
    /// Polls that found the notion of an agent's SNMPv3 boots and time stale and retried.
    var engineTimeResynchronisations = 0
    /// net-snmp request callbacks so far: tells whether a read produced anything.
    private var callbacks = 0
    /// Engine IDs of agents this engine has polled over SNMPv3: a received message naming one of
    /// them must leave net-snmp's notion of that engine's boots and time as polling left it.
    var polledEngines: Set<[UInt8]> = []
    /// The start of each received datagram is peeked here (for the SNMPv3 header) before net-snmp reads it.
    var peekBuffer = [UInt8](repeating: 0, count: SNMPv3Header.prefixLength)

    struct Deadline {
        var at: UInt64
        var request: PendingRequest
        var sendCount: Int
        /// Which send of the request this deadline belongs to (a resynchronised request is sent again).
        var send: Int
    }

    init(settings: Settings, logger: Logger) throws(SNMPError) {
        self.settings = settings
        self.logger = logger
        wakeFD = fw_eventfd()
        epollFD = fw_epoll_create()
        guard wakeFD >= 0, epollFD >= 0, fw_epoll_add(epollFD, wakeFD) == 0 else {
            throw SNMPError(target: "engine", address: "-", operation: "start",
                            cause: .sessionFailed("eventfd/epoll: \(String(cString: strerror(errno)))"))
        }
        netsnmp_large_fd_set_init(&fdSet, 65536)
        netsnmp_large_fd_set_init(&fdSetForListeners, 65536)
        // The namespace is entered by the I/O thread itself (setns affects one thread), before any
        // socket exists; init waits for the outcome.
        let entered = Mutex<Result<Void, SNMPError>?>(nil)
        let namespace = settings.networkNamespace
        let started = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            if let namespace, fw_enter_network_namespace("/run/netns/\(namespace)") != 0 {
                let reason = String(cString: strerror(errno))
                entered.withLock { $0 = .failure(SNMPError(target: "engine", address: namespace, operation: "enter network namespace",
                                                           cause: .sessionFailed("/run/netns/\(namespace): \(reason)"))) }
                started.signal()
                return
            }
            entered.withLock { $0 = .success(()) }
            started.signal()
            self.run()
        }
        thread.name = "snmp-io"
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
        if namespace != nil {
            // Only with a namespace: a brief wait for the thread's setns, at engine start.
            started.wait()
            if case .failure(let error)? = entered.withLock({ $0 }) { throw error }
        }
    }

    /// Runs `command` on the loop thread, soon.
    func submit(_ command: @escaping @Sendable (IOLoop) -> Void) {
        let wake = inbox.withLock { state -> Bool in
            state.commands.append(command)
            // Only one wake-up per batch: the loop sets `sleeping` before poll and drains after.
            if state.sleeping {
                state.sleeping = false
                return true
            }
            return false
        }
        if wake {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
    }

    func stop() {
        submit { loop in loop.stopping = true }
    }

    static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    // MARK: the loop

    private func run() {
        while true {
            let commands = inbox.withLock { state -> [@Sendable (IOLoop) -> Void] in
                let taken = state.commands
                state.commands.removeAll(keepingCapacity: true)
                return taken
            }
            for command in commands { command(self) }
            runDeferred()
            if stopping { break }

            // Sleep only if nothing arrived meanwhile; otherwise go round again.
            let mustPoll = inbox.withLock { state -> Bool in
                if state.commands.isEmpty { state.sleeping = true; return true }
                return false
            }
            guard mustPoll else { continue }
            pollOnce()
            inbox.withLock { $0.sleeping = false }
            expireDeadlines()
            runDeferred()
            summariseLogs()
        }
        shutDown()
    }

    /// Once a second: the summaries of aggregated log lines whose minute has ended (trap drops,
    /// net-snmp's messages), also when nothing else wakes the loop.
    private func summariseLogs() {
        let now = Self.monotonicNanoseconds()
        guard now >= nextLogSummary else { return }
        nextLogSummary = now + 1_000_000_000
        NetSNMPLibrary.messages.tick()
        for listener in listeners.values { listener.log.tick() }
    }

    private func pollOnce() {
        var timeout: Int32 = 1_000
        if let next = nextDeadline() {
            let now = Self.monotonicNanoseconds()
            timeout = next <= now ? 0 : Int32(min((next - now + 999_999) / 1_000_000, 1_000))
        }
        let ready = readyFDs.withUnsafeMutableBufferPointer { buffer in
            fw_epoll_wait(epollFD, buffer.baseAddress, Int32(buffer.count), timeout)
        }
        guard ready > 0 else { return }
        for index in 0..<Int(ready) {
            let fd = readyFDs[index]
            if fd == wakeFD {
                var value: UInt64 = 0
                _ = read(wakeFD, &value, 8)
            } else if let listener = listeners[fd] {
                readTrapListener(listener)
            } else if let entry = byFD[fd], let handle = entry.handle {
                // Reading never closes a session (closing waits for deferred work), so `byFD` holds.
                let stale = entry.target.profile.version == .v3 ? staleEngineTime(fd, entry) : nil
                let callbacksBefore = callbacks
                fw_large_fd_set(fd, &fdSet)
                _ = snmp_sess_read2(handle, &fdSet)
                fw_large_fd_clr(fd, &fdSet)
                if let (engineID, saved) = stale {
                    resynchronised(engineID, saved, accepted: callbacks != callbacksBefore, target: entry.target.name)
                }
            }
        }
    }

    func watch(_ fd: Int32) { _ = fw_epoll_add(epollFD, fd) }
    func unwatch(_ fd: Int32) { _ = fw_epoll_remove(epollFD, fd) }

    private func nextDeadline() -> UInt64? {
        var earliest: UInt64?
        for queue in deadlines.values {
            if let first = queue.first { earliest = min(earliest ?? first.at, first.at) }
        }
        return earliest
    }

    private func expireDeadlines() {
        let now = Self.monotonicNanoseconds()
        for key in Array(deadlines.keys) {
            while let first = deadlines[key]?.first, first.at <= now {
                _ = deadlines[key]?.popFirst()
                let request = first.request
                guard !request.finished, request.sendCount == first.sendCount, request.sends == first.send,
                      let handle = request.entry?.handle else { continue }
                // net-snmp retransmits (callback op RESEND) or gives up (op TIMED_OUT) for every
                // expired request of this session.
                snmp_sess_timeout(handle)
                if !request.finished && now > request.startedAt + request.timeoutNanoseconds * UInt64(request.target.profile.retries + 2) {
                    // net-snmp lost track of it (never expected): give up rather than wait forever.
                    finish(request, .failure(request.error(.timeout(after: request.target.profile.timeout,
                                                                     attempts: request.sendCount + 1))))
                } else if !request.finished && request.sendCount == first.sendCount {
                    // net-snmp's own clock has not quite reached the expiry yet: look again shortly.
                    pushDeadline(request, after: 2_000_000)
                }
            }
            if deadlines[key]?.isEmpty == true { deadlines[key] = nil }
        }
    }

    func pushDeadline(_ request: PendingRequest, after nanoseconds: UInt64) {
        let deadline = Deadline(at: Self.monotonicNanoseconds() + nanoseconds + 1_000_000, request: request,
                                sendCount: request.sendCount, send: request.sends)
        deadlines[nanoseconds, default: FIFO()].append(deadline)
    }

    func deferUntilIdle(_ work: @escaping () -> Void) { deferred.append(work) }

    private func runDeferred() {
        while !deferred.isEmpty {
            let work = deferred
            deferred.removeAll()
            for item in work { item() }
            startWaiting()
        }
        startWaiting()
    }

    // MARK: requests

    /// Accepts a request: starts it now, or queues it while the window of outstanding requests is full.
    func enqueue(_ request: PendingRequest) {
        if stopping {
            request.complete(.failure(request.error(.shutDown)))
            return
        }
        if outstanding >= settings.maxOutstanding || !waiting.isEmpty {
            waiting.append(request)
        } else {
            start(request)
        }
    }

    /// The caller gave up (task cancelled): complete the request now. One still queued for a slot
    /// is skipped when its turn comes; one waiting for an engine ID is not sent; one net-snmp holds
    /// is finished here, and net-snmp's later word on it finds no request under its token.
    func cancel(_ request: PendingRequest) {
        guard !request.finished else { return }
        if request.startedAt == 0 {
            request.finished = true
            request.complete(.failure(request.error(.cancelled)))
            return
        }
        finish(request, .failure(request.error(.cancelled)))
    }

    private func startWaiting() {
        while outstanding < settings.maxOutstanding, let request = waiting.first {
            _ = waiting.popFirst()
            if !request.finished { start(request) }
        }
    }

    private func start(_ request: PendingRequest) {
        outstanding += 1
        EngineMetrics.inFlight.record(outstanding)
        request.startedAt = Self.monotonicNanoseconds()
        let entry: SessionEntry
        switch session(for: request.target) {
        case .success(let found): entry = found
        case .failure(let error):
            finish(request, .failure(error))
            return
        }
        if entry.discovery != nil {
            entry.discovery!.append(request)
        } else {
            send(request, on: entry)
        }
    }

    func send(_ request: PendingRequest, on entry: SessionEntry) {
        guard let handle = entry.handle, let pdu = request.makePDU() else {
            finish(request, .failure(request.error(.sessionFailed("cannot create the request"))))
            return
        }
        request.entry = entry
        request.sends += 1
        entry.pending += 1
        markBusy(entry)
        // net-snmp may report one request more than once (a security error, then its timeout), and
        // not always under its request id: the callback's context is a token never reused, looked
        // up among the requests in flight, and the loop is found through the session's own
        // callback_magic (set at open). Nothing is released on net-snmp's say-so.
        nextToken &+= 1
        let token = nextToken
        let requestID = snmp_sess_async_send(handle, pdu, { op, session, _, pdu, magic in
            guard let loop = session?.pointee.callback_magic else { return 1 }
            Unmanaged<IOLoop>.fromOpaque(loop).takeUnretainedValue().callback(op: op, token: UInt(bitPattern: magic), pdu: pdu)
            return 1
        }, UnsafeMutableRawPointer(bitPattern: token))
        if requestID == 0 {
            snmp_free_pdu(pdu)
            finish(request, .failure(request.error(.sessionFailed(Self.sessionError(handle)))))
            return
        }
        request.token = token
        inFlight[token] = request
        pushDeadline(request, after: request.timeoutNanoseconds)
    }

    private func callback(op: Int32, token: UInt, pdu: UnsafeMutablePointer<netsnmp_pdu>?) {
        callbacks &+= 1
        guard let request = inFlight[token] else { return }
        switch op {
        case NETSNMP_CALLBACK_OP_RESEND:
            request.sendCount += 1
            EngineMetrics.retransmissions.increment()
            pushDeadline(request, after: request.timeoutNanoseconds)
        case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
            if let pdu, pdu.pointee.command == Int32(fw_snmp_msg_report),
               snmpv3_get_report_type(pdu) == SNMPERR_NOT_IN_TIME_WINDOW, resynchronise(request) { return }
            finish(request, request.decode(pdu))
        case NETSNMP_CALLBACK_OP_TIMED_OUT:
            finish(request, .failure(request.error(.timeout(after: request.target.profile.timeout,
                                                             attempts: request.sendCount + 1))))
        case NETSNMP_CALLBACK_OP_SEC_ERROR where resynchronise(request):
            return
        case NETSNMP_CALLBACK_OP_SEND_FAILED, NETSNMP_CALLBACK_OP_SEC_ERROR, NETSNMP_CALLBACK_OP_DISCONNECT:
            let cause: SNMPError.Cause = op == NETSNMP_CALLBACK_OP_SEC_ERROR
                ? .authentication("the response failed security checks") : .sessionFailed("send failed")
            finish(request, .failure(request.error(cause)))
        default:
            break
        }
    }

    /// Before net-snmp reads a datagram from an SNMPv3 agent: if it carries the polled engine's ID
    /// with boots and time that the engine-time list would reject (the agent restarted with its
    /// boots counter lost, or the list was changed behind polling's back), the list forgets that
    /// engine so that an authentic message (the agent's notInTimeWindow report) can set it again.
    /// Returns what to put back should the message turn out not to be authentic.
    private func staleEngineTime(_ fd: Int32, _ entry: SessionEntry) -> ([UInt8], fw_enginetime_snapshot)? {
        guard let engineID = engineIDs[entry.key] else { return nil }
        let peeked = peekBuffer.withUnsafeMutableBytes { buffer in
            recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_PEEK | MSG_DONTWAIT))
        }
        guard peeked > 0, let authority = SNMPv3Header.authority(Array(peekBuffer[0..<peeked])),
              authority.engineID == engineID,
              let boots = UInt32(exactly: authority.boots), let time = UInt32(exactly: authority.time) else { return nil }
        return engineID.withUnsafeBufferPointer { id in
            guard fw_enginetime_would_reject(id.baseAddress, id.count, boots, time) != 0 else { return nil }
            let saved = fw_enginetime_save(id.baseAddress, id.count)
            fw_enginetime_forget(id.baseAddress, id.count)
            return (engineID, saved)
        }
    }

    /// After the read: an authentic message has set the engine's boots and time afresh; anything
    /// else must not have changed them.
    private func resynchronised(_ engineID: [UInt8], _ saved: fw_enginetime_snapshot, accepted: Bool, target: String) {
        guard accepted else {
            var saved = saved
            engineID.withUnsafeBufferPointer { fw_enginetime_restore($0.baseAddress, $0.count, &saved) }
            return
        }
        engineTimeResynchronisations += 1
        EngineMetrics.engineTimeResynchronisations.increment()
        logger.notice("SNMPv3 agent's boots and time went back (restarted without its boot counter?): resynchronised",
                      metadata: ["snmp.target": "\(target)", "snmp.engine_id": "\(engineID.hexText)"])
    }

    /// RFC 3414 §3.2.7: an agent that reports notInTimeWindow (or whose authentic report net-snmp
    /// had to reject as outside the window it believed in) has boots and time other than those
    /// the engine holds. Forget them, so that the agent's next report sets them, and send the
    /// request once more. Once per request; false when it does not apply.
    private func resynchronise(_ request: PendingRequest) -> Bool {
        guard !request.resynchronised, !request.finished, request.target.profile.version == .v3,
              let entry = request.entry, let engineID = engineIDs[entry.key] else { return false }
        request.resynchronised = true
        engineTimeResynchronisations += 1
        EngineMetrics.engineTimeResynchronisations.increment()
        engineID.withUnsafeBufferPointer { fw_enginetime_forget($0.baseAddress, $0.count) }
        logger.debug("SNMPv3 engine boots and time out of step with the agent: resynchronising",
                     metadata: ["snmp.target": "\(request.target.name)", "snmp.engine_id": "\(engineID.hexText)"])
        // The old send is over for us (its token is never reused); the new one is sent once this
        // callback has returned.
        inFlight[request.token] = nil
        request.token = 0
        request.entry = nil
        entry.pending -= 1
        if entry.pending == 0 { markIdle(entry) }
        deferUntilIdle { [self] in
            guard !request.finished else { return }
            guard entry.handle != nil else {
                finish(request, .failure(request.error(.sessionFailed("the session closed while resynchronising"))))
                return
            }
            send(request, on: entry)
        }
        return true
    }

    /// Completes a request exactly once; called on the loop thread, possibly inside a net-snmp callback,
    /// so nothing here opens or closes sessions.
    func finish(_ request: PendingRequest, _ result: Result<[VarBind], SNMPError>) {
        guard !request.finished else { return }
        request.finished = true
        if request.token != 0 { inFlight[request.token] = nil }
        if let entry = request.entry {
            entry.pending -= 1
            if entry.pending == 0 { markIdle(entry) }
        }
        if case .failure(let error) = result, case .authentication = error.cause, let entry = request.entry,
           entry.target.profile.version == .v3 {
            // The agent may have a new engine ID (replaced, or re-keyed): discover it again next time.
            deferUntilIdle { [self] in
                engineIDs[entry.key] = nil
                if entry.pending == 0 && entry.discovery == nil { close(entry) }
            }
        }
        if request.countsAsOutstanding {
            outstanding -= 1
            EngineMetrics.inFlight.record(outstanding)
        }
        request.complete(result)
    }

    static func sessionError(_ handle: UnsafeMutableRawPointer) -> String {
        var cerrno: Int32 = 0
        var snmpErrno: Int32 = 0
        var text: UnsafeMutablePointer<CChar>?
        snmp_sess_error(handle, &cerrno, &snmpErrno, &text)
        defer { free(text) }
        return text.map { String(cString: $0) } ?? "net-snmp error \(snmpErrno)"
    }

    // MARK: idle sessions

    private func markBusy(_ entry: SessionEntry) {
        unlinkIdle(entry)
    }

    private func markIdle(_ entry: SessionEntry) {
        entry.lastUsed = Self.monotonicNanoseconds()
        guard entry.handle != nil, entry.idleLinked == false else { return }
        entry.idlePrevious = idleTail
        entry.idleNext = nil
        idleTail?.idleNext = entry
        idleTail = entry
        if idleHead == nil { idleHead = entry }
        entry.idleLinked = true
    }

    private func unlinkIdle(_ entry: SessionEntry) {
        guard entry.idleLinked else { return }
        entry.idlePrevious?.idleNext = entry.idleNext
        entry.idleNext?.idlePrevious = entry.idlePrevious
        if idleHead === entry { idleHead = entry.idleNext }
        if idleTail === entry { idleTail = entry.idlePrevious }
        entry.idlePrevious = nil
        entry.idleNext = nil
        entry.idleLinked = false
    }

    /// Closes the least recently used idle session to stay under the descriptor budget.
    func evictIdleSession() -> Bool {
        guard let victim = idleHead else { return false }
        close(victim)
        return true
    }

    func close(_ entry: SessionEntry) {
        unlinkIdle(entry)
        if let handle = entry.handle {
            entry.handle = nil
            unwatch(entry.fd)
            if byFD[entry.fd] === entry { byFD[entry.fd] = nil }
            openSessions -= 1
            EngineMetrics.sessionsOpen.record(openSessions)
            // Pending requests get op TIMED_OUT from snmp_sess_close; their contexts stay retained until then.
            snmp_sess_close(handle)
        }
        if sessions[entry.key] === entry { sessions[entry.key] = nil }
    }

    func didOpenSession() {
        openSessions += 1
        EngineMetrics.sessionsOpened.increment()
        EngineMetrics.sessionsOpen.record(openSessions)
    }

    private func shutDown() {
        while let request = waiting.popFirst() {
            guard !request.finished else { continue }
            request.finished = true
            request.complete(.failure(request.error(.shutDown)))
        }
        for entry in Array(sessions.values) { close(entry) }
        for listener in listeners.values { listener.close() }
        listeners.removeAll()
        netsnmp_large_fd_set_cleanup(&fdSet)
        netsnmp_large_fd_set_cleanup(&fdSetForListeners)
        Glibc.close(wakeFD)
        Glibc.close(epollFD)
    }
}
