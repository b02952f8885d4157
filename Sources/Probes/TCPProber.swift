#if canImport(Glibc)
import Glibc
#endif
internal import CPcap
import Foundation
import ForewarnModel
import Synchronization

/// `probe: tcp:PORT` for lines whose CPE drops ICMP: a non-blocking connect to the port. An
/// accepted connection and a refusal (RST) both prove the CPE is there; a timeout or an ICMP
/// unreachable means it is not. Connections are closed with an RST at once. One thread and one
/// epoll instance for every line; at most `concurrency` connects in flight (each holds a descriptor).
public final class TCPProber: Prober {
    public let kind = "tcp"
    let engine: TCPEngine

    public init(rate: Int, concurrency: Int = 2048) throws(ProbeError) {
        engine = try TCPEngine(rate: rate, concurrency: concurrency)
    }

    public func probe(_ requests: [ProbeRequest]) async -> [ProbeOutcome] {
        await engine.mailbox.submit(requests)
    }

    public func shutdown() { engine.mailbox.shutdown() }

    deinit { engine.mailbox.shutdown() }
}

final class TCPEngine: Sendable {
    let mailbox: EngineMailbox
    let epoll: Int32
    let rate: Int
    let concurrency: Int

    init(rate: Int, concurrency: Int) throws(ProbeError) {
        mailbox = try EngineMailbox(engine: "TCP")
        epoll = fw_epoll_create()
        guard epoll >= 0 else { throw ProbeError.socket(operation: "epoll_create1 for the TCP engine", target: nil, cause: ProbeError.errnoText()) }
        guard fw_epoll_watch(epoll, mailbox.wake, UInt64.max, 0) == 0 else {
            throw ProbeError.socket(operation: "epoll_ctl for the TCP engine", target: nil, cause: ProbeError.errnoText())
        }
        self.rate = rate
        self.concurrency = max(1, concurrency)
        let thread = Thread { [self] in
            var loop = TCPEngineLoop(engine: self)
            loop.run()
        }
        thread.name = "forewarn-tcp"
        thread.start()
    }
}

struct TCPEngineLoop {
    struct Pending {
        var index: Int32
        var generation: UInt32
        var deadline: Int64
    }

    let engine: TCPEngine
    var book = BatchBook()
    var pacer: Pacer<MonotonicInstant>
    // Connections in flight, by index; a token is index | generation << 32.
    var descriptor: [Int32] = []
    var generation: [UInt32] = []
    var owner: [(batch: Int32, request: Int32)] = []
    var started: [Int64] = []
    var freeIndices: [Int32] = []
    var inFlight = 0
    var timeouts: [Int64: Ring<Pending>] = [:]
    var tokens = [UInt64](repeating: 0, count: 256)

    init(engine: TCPEngine) {
        self.engine = engine
        pacer = Pacer(rate: engine.rate)
    }

    mutating func run() {
        let mailbox = engine.mailbox
        while true {
            let (submissions, stopping) = mailbox.drain()
            if stopping {
                BatchBook.refuseAll(submissions)
                for index in descriptor.indices where descriptor[index] >= 0 { fw_close_with_reset(descriptor[index]) }
                book.finishAll()
                close(engine.epoll)
                mailbox.closeWake()
                return
            }
            var now = MonotonicInstant.now.nanoseconds
            for submission in submissions {
                book.accept(submission, now: now) { $0.port == 0 ? "no TCP port given (probe: tcp:PORT)" : nil }
            }
            book.releaseWaves(now: now)
            startConnects(now: now)
            now = MonotonicInstant.now.nanoseconds
            expire(now: now)
            book.deliverFinished()

            let wait = pollTimeout(now: now)
            let epoll = engine.epoll
            let count = tokens.withUnsafeMutableBufferPointer {
                fw_epoll_wait_tokens(epoll, $0.baseAddress, Int32($0.count), wait)
            }
            for position in 0..<max(0, Int(count)) {
                let token = tokens[position]
                if token == UInt64.max {
                    mailbox.acknowledgeWake()
                } else {
                    finished(index: Int32(truncatingIfNeeded: token & 0xffff_ffff), generation: UInt32(token >> 32))
                }
            }
        }
    }

    mutating func startConnects(now: Int64) {
        var allowed = pacer.take(min(book.sendQueue.count, engine.concurrency - inFlight), now: MonotonicInstant(nanoseconds: now))
        while allowed > 0, inFlight < engine.concurrency, let entry = book.sendQueue.popFirst() {
            allowed -= 1
            guard let batch = book.batch(entry.batch) else { continue }
            let request = batch.requests[Int(entry.request)]
            let family = request.address.isIPv6 ? AF_INET6 : AF_INET
            let socketDescriptor = socket(family, SocketFlags.stream, Int32(IPPROTO_TCP))
            guard socketDescriptor >= 0 else {
                let code = errno
                if code == EMFILE || code == ENFILE {
                    // Out of descriptors: wait for connects in flight to finish.
                    book.sendQueue.prepend(entry)
                    return
                }
                book.fail(entry.batch, request: entry.request, reason: "socket: \(ProbeError.errnoText(code))")
                continue
            }
            batch.outcomes[Int(entry.request)].sent += 1
            let start = MonotonicInstant.now.nanoseconds
            let result = SocketAddress.with(request.address, port: request.port) { connect(socketDescriptor, $0, $1) }
            let code = result == 0 ? 0 : errno
            if result == 0 || code == ECONNREFUSED {
                // Loopback can answer at once.
                batch.outcomes[Int(entry.request)].addAnswer(rttNanoseconds: MonotonicInstant.now.nanoseconds - start)
                fw_close_with_reset(socketDescriptor)
                book.resolve(entry.batch)
                continue
            }
            guard code == EINPROGRESS else {
                fw_close_with_reset(socketDescriptor)
                batch.outcomes[Int(entry.request)].failure = ProbeError.errnoText(code)
                book.resolve(entry.batch)
                continue
            }
            let index = take(descriptor: socketDescriptor, owner: entry, start: start)
            let token = UInt64(UInt32(index)) | UInt64(generation[Int(index)]) << 32
            if fw_epoll_watch(engine.epoll, socketDescriptor, token, 1) != 0 {
                let reason = "epoll_ctl: \(ProbeError.errnoText())"
                release(index)
                batch.outcomes[Int(entry.request)].failure = reason
                book.resolve(entry.batch)
                continue
            }
            let timeout = request.timeout.nanosecondsClamped
            timeouts[timeout, default: Ring(capacity: 256)].append(
                Pending(index: index, generation: generation[Int(index)], deadline: start + timeout))
        }
    }

    mutating func take(descriptor socketDescriptor: Int32, owner entry: (batch: Int32, request: Int32), start: Int64) -> Int32 {
        inFlight += 1
        if let index = freeIndices.popLast() {
            descriptor[Int(index)] = socketDescriptor
            generation[Int(index)] &+= 1
            owner[Int(index)] = entry
            started[Int(index)] = start
            return index
        }
        descriptor.append(socketDescriptor)
        generation.append(1)
        owner.append(entry)
        started.append(start)
        return Int32(descriptor.count - 1)
    }

    /// Closes the connection and frees its index.
    mutating func release(_ index: Int32) {
        fw_close_with_reset(descriptor[Int(index)])
        descriptor[Int(index)] = -1
        generation[Int(index)] &+= 1
        freeIndices.append(index)
        inFlight -= 1
    }

    mutating func finished(index: Int32, generation expected: UInt32) {
        guard Int(index) < descriptor.count, generation[Int(index)] == expected, descriptor[Int(index)] >= 0 else { return }
        let error = fw_socket_error(descriptor[Int(index)])
        let entry = owner[Int(index)]
        let elapsed = MonotonicInstant.now.nanoseconds - started[Int(index)]
        release(index)
        guard let batch = book.batch(entry.batch) else { return }
        if error == 0 || error == ECONNREFUSED {
            batch.outcomes[Int(entry.request)].addAnswer(rttNanoseconds: elapsed)
        } else {
            batch.outcomes[Int(entry.request)].failure = ProbeError.errnoText(error)
        }
        book.resolve(entry.batch)
    }

    mutating func expire(now: Int64) {
        for key in timeouts.keys {
            while let head = timeouts[key]!.first {
                let live = Int(head.index) < descriptor.count && generation[Int(head.index)] == head.generation
                    && descriptor[Int(head.index)] >= 0
                guard !live || head.deadline <= now else { break }
                timeouts[key]!.popFirst()
                guard live else { continue }
                let entry = owner[Int(head.index)]
                release(head.index)
                book.resolve(entry.batch)
            }
        }
    }

    func pollTimeout(now: Int64) -> Int32 {
        var next = book.nextWaveRelease ?? .max
        if !book.sendQueue.isEmpty && inFlight < engine.concurrency {
            var pacer = self.pacer
            next = min(next, pacer.nextAllowed(now: MonotonicInstant(nanoseconds: now)).nanoseconds)
        }
        for queue in timeouts.values { if let head = queue.first { next = min(next, head.deadline) } }
        return ICMPEngineLoop.milliseconds(until: next, from: now)
    }
}
