#if canImport(Glibc)
import Glibc
#endif
import NIOHTTPTypes
import Logging
import NIOCore
import Synchronization

/// Bounds the HTTP listener's connections so that clients that connect and say nothing cannot
/// take the descriptors SNMP and the probes need, nor keep `/healthz` from answering: at most
/// `limit` connections at once; a connection beyond it closes the connection idle the longest
/// (between requests, or still without a request) to make room, and is itself refused only when
/// every connection has a request in progress. Idle connections and requests whose head does
/// not arrive are closed by the listener's idle timeout. Evictions and refusals are logged as
/// one summary per `logInterval`, never once per connection.
final class HTTPConnectionLimiter: Sendable {
    struct Entry {
        var channel: any Channel
        var busy = false
    }

    struct State {
        var open: [Int: Entry] = [:]
        var nextSerial = 0
        var evicted = 0
        var refused = 0
        var lastLog: ContinuousClock.Instant?
    }

    let limit: Int
    let logInterval: Duration
    let logger: Logger
    private let state = Mutex(State())

    init(limit: Int, logInterval: Duration = .seconds(10), logger: Logger) {
        self.limit = max(1, limit)
        self.logInterval = logInterval
        self.logger = logger
    }

    /// At most `configured`, and no more than an eighth of this process's open-file limit: the
    /// rest stays for SNMP sessions, probe sockets, the store and the trap socket.
    static func limit(configured: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return min(configured, 64) }
        let descriptors = limit.rlim_cur > 1 << 20 ? 1 << 20 : Int(limit.rlim_cur)
        return max(8, min(configured, descriptors / 8))
    }

    /// Open connections (for tests and the benchmark's report).
    var openCount: Int { state.withLock { $0.open.count } }

    /// A new connection: its serial, or nil when it must be closed (no room). Returns the
    /// connections to close to make room.
    func admit(_ channel: any Channel) -> (serial: Int?, evict: [any Channel]) {
        let (serial, evict, summary) = state.withLock { state -> (Int?, [any Channel], String?) in
            var evict: [any Channel] = []
            var serial: Int?
            if state.open.count >= limit {
                if let oldest = state.open.filter({ !$0.value.busy }).keys.min(),
                   let entry = state.open.removeValue(forKey: oldest) {
                    evict.append(entry.channel)
                    state.evicted += 1
                }
            }
            if state.open.count < limit {
                state.nextSerial += 1
                serial = state.nextSerial
                state.open[state.nextSerial] = Entry(channel: channel)
            } else {
                state.refused += 1
            }
            return (serial, evict, Self.summaryDue(&state, limit: limit, interval: logInterval))
        }
        if let summary { logger.warning("http connection limit reached", metadata: ["http.connections": "\(summary)"]) }
        return (serial, evict)
    }

    func setBusy(_ serial: Int, _ busy: Bool) {
        state.withLock { $0.open[serial]?.busy = busy }
    }

    func release(_ serial: Int) {
        _ = state.withLock { $0.open.removeValue(forKey: serial) }
    }

    /// What happened since the last summary, when one is due (rate-limited log).
    private static func summaryDue(_ state: inout State, limit: Int, interval: Duration) -> String? {
        guard state.evicted + state.refused > 0 else { return nil }
        let now = ContinuousClock.now
        if let last = state.lastLog, now - last < interval { return nil }
        let text = "limit \(limit): closed \(state.evicted) idle, refused \(state.refused) since the last report"
        state.lastLog = now
        state.evicted = 0
        state.refused = 0
        return text
    }

    /// The handler each connection's pipeline gets (after HTTP decoding).
    func handler() -> ConnectionAdmissionHandler { ConnectionAdmissionHandler(limiter: self) }
}

/// Admits a connection through the limiter and tells it when a request is in progress.
final class ConnectionAdmissionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let limiter: HTTPConnectionLimiter
    private var serial: Int?

    init(limiter: HTTPConnectionLimiter) {
        self.limiter = limiter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let (serial, evict) = limiter.admit(context.channel)
        self.serial = serial
        for channel in evict { channel.close(promise: nil) }
        if serial == nil { context.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { leave() }

    func channelInactive(context: ChannelHandlerContext) {
        leave()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let serial, case .head = unwrapInboundIn(data) { limiter.setBusy(serial, true) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if let serial, case .end = unwrapOutboundIn(data) { limiter.setBusy(serial, false) }
        context.write(data, promise: promise)
    }

    private func leave() {
        if let serial { limiter.release(serial) }
        serial = nil
    }
}
