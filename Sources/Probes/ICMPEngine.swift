#if canImport(Glibc)
import Glibc
#endif
internal import CPcap
import Foundation
import ForewarnModel
import Synchronization

/// Counters of the ICMP engine since it started.
public struct ICMPStatistics: Sendable, Hashable {
    public var sent = 0
    public var answered = 0
    public var timedOut = 0
    public var duplicates = 0
    /// Echo replies that were not ours or no longer awaited (another program's ping, late replies).
    public var strays = 0
    /// Packets on our sockets that are not well-formed echo replies.
    public var malformed = 0
    public var sendErrors = 0
}

/// One thread and one socket per address family for every ICMP probe of the process: echoes from
/// all batches share a slot table, a send queue paced by one token bucket, and FIFO timeout queues.
final class ICMPEngine: Sendable {
    let v4: ICMPSocket
    let v6: ICMPSocket?
    /// Why there is no ICMPv6 socket (IPv6 disabled, no permission), reported on each IPv6 target.
    let v6Problem: String?
    let rate: Int
    let capture: PacketCapture?
    let identifierBase: UInt16
    let identifierCount: Int
    let mailbox: EngineMailbox
    let statistics = Mutex(ICMPStatistics())

    init(rate: Int, preference: ICMPSocket.Preference = .automatic, capture: PacketCapture? = nil) throws(ProbeError) {
        v4 = try ICMPSocket.open(v6: false, preference: preference)
        var v6Socket: ICMPSocket?
        var problem: String?
        do {
            v6Socket = try ICMPSocket.open(v6: true, preference: preference)
        } catch {
            problem = error.description
        }
        v6 = v6Socket
        v6Problem = problem
        do {
            mailbox = try EngineMailbox(engine: "ICMP")
        } catch {
            v4.close()
            v6Socket?.close()
            throw error
        }
        self.rate = rate
        self.capture = capture
        // Raw sockets see every program's echo replies: several identifiers of our own give room for
        // 262,144 echoes in flight. Datagram sockets get one identifier, set by the kernel.
        let allRaw = v4.mode == .raw && (v6Socket?.mode ?? .raw) == .raw
        identifierCount = allRaw ? 4 : 1
        identifierBase = UInt16.random(in: 0...UInt16.max)
        let thread = Thread { [self] in
            var loop = ICMPEngineLoop(engine: self)
            loop.run()
        }
        thread.name = "forewarn-icmp"
        thread.start()
    }

    var socketMode: ICMPSocket.Mode { v4.mode }
}

/// The engine thread's state; never leaves that thread.
struct ICMPEngineLoop {
    struct Pending {
        var slot: UInt32
        var generation: UInt32
        var deadline: Int64
    }

    let engine: ICMPEngine
    var slots: EchoSlots
    var book = BatchBook()
    /// One FIFO per distinct timeout: entries are in deadline order within each.
    var timeouts: [Int64: Ring<Pending>] = [:]
    var pacer: Pacer<MonotonicInstant>
    var counters = ICMPStatistics()
    var published = ICMPStatistics()
    var writeBlocked = false
    let sendBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
    let receiveBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)

    init(engine: ICMPEngine) {
        self.engine = engine
        slots = EchoSlots(maximumIdentifiers: engine.identifierCount)
        pacer = Pacer(rate: engine.rate)
    }

    mutating func run() {
        defer {
            sendBuffer.deallocate()
            receiveBuffer.deallocate()
        }
        let mailbox = engine.mailbox
        var descriptors = [pollfd(fd: mailbox.wake, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: engine.v4.descriptor, events: Int16(POLLIN), revents: 0)]
        if let v6 = engine.v6 { descriptors.append(pollfd(fd: v6.descriptor, events: Int16(POLLIN), revents: 0)) }
        while true {
            let (submissions, stopping) = mailbox.drain()
            if stopping {
                BatchBook.refuseAll(submissions)
                book.finishAll()
                engine.v4.close()
                engine.v6?.close()
                mailbox.closeWake()
                return
            }
            var now = MonotonicInstant.now.nanoseconds
            for submission in submissions {
                book.accept(submission, now: now) { request in
                    request.address.isIPv6 && engine.v6 == nil ? (engine.v6Problem ?? "no ICMPv6 socket") : nil
                }
            }
            book.releaseWaves(now: now)
            sendPaced(now: now)
            for index in 1..<descriptors.count where descriptors[index].revents & Int16(POLLIN) != 0 {
                receive(index == 1 ? engine.v4 : engine.v6!)
            }
            now = MonotonicInstant.now.nanoseconds
            expire(now: now)
            publishCounters()
            book.deliverFinished()

            let wait = pollTimeout(now: now)
            for index in descriptors.indices { descriptors[index].revents = 0 }
            for index in 1..<descriptors.count { descriptors[index].events = Int16(POLLIN) | (writeBlocked ? Int16(POLLOUT) : 0) }
            _ = poll(&descriptors, nfds_t(descriptors.count), wait)
            if descriptors[0].revents & Int16(POLLIN) != 0 { mailbox.acknowledgeWake() }
            if descriptors.dropFirst().contains(where: { $0.revents & Int16(POLLOUT) != 0 }) { writeBlocked = false }
        }
    }

    // MARK: sending

    mutating func sendPaced(now: Int64) {
        guard !writeBlocked else { return }
        var allowed = pacer.take(min(book.sendQueue.count, 1024), now: MonotonicInstant(nanoseconds: now))
        while allowed > 0, let entry = book.sendQueue.first {
            guard let batch = book.batch(entry.batch) else {
                book.sendQueue.popFirst()
                continue
            }
            let request = batch.requests[Int(entry.request)]
            let sendRealtime = realtimeNanoseconds()
            let sendMonotonic = MonotonicInstant.now.nanoseconds
            guard let (slot, generation) = slots.allocate(batch: entry.batch, serial: batch.serial, request: entry.request,
                                                         sendRealtime: sendRealtime, sendMonotonic: sendMonotonic) else {
                return  // every slot is in flight: wait for answers or timeouts
            }
            let v6 = request.address.isIPv6
            let socket = v6 ? engine.v6! : engine.v4
            let identifier: UInt16 = engine.identifierBase &+ UInt16(truncatingIfNeeded: slot >> 16)
            ICMPEcho.writeRequest(into: sendBuffer, v6: v6, identifier: identifier,
                                  sequence: UInt16(truncatingIfNeeded: slot), generation: generation)
            let packet = UnsafeRawBufferPointer(rebasing: sendBuffer[0..<ICMPEcho.packetLength])
            let result = SocketAddress.with(request.address) { address, length in
                sendto(socket.descriptor, packet.baseAddress, packet.count, Int32(MSG_DONTWAIT), address, length)
            }
            if result < 0 {
                let code = errno
                _ = slots.expire(slot: slot, generation: generation)
                if code == EAGAIN || code == EWOULDBLOCK || code == ENOBUFS || code == EINTR {
                    writeBlocked = code != EINTR
                    return
                }
                book.sendQueue.popFirst()
                counters.sendErrors += 1
                book.fail(entry.batch, request: entry.request, reason: ProbeError.errnoText(code))
                allowed -= 1
                continue
            }
            book.sendQueue.popFirst()
            allowed -= 1
            counters.sent += 1
            batch.outcomes[Int(entry.request)].sent += 1
            let timeout = request.timeout.nanosecondsClamped
            timeouts[timeout, default: Ring(capacity: 1024)].append(
                Pending(slot: UInt32(slot), generation: generation, deadline: sendMonotonic + timeout))
            engine.capture?.writeICMP(packet, source: nil, destination: request.address, v6: v6,
                                      realtimeNanoseconds: sendRealtime)
        }
    }

    // MARK: receiving

    mutating func receive(_ socket: ICMPSocket) {
        var from = sockaddr_storage()
        var fromLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var stamp = timespec()
        // Bounded, so a flood of replies cannot starve sending and timeouts.
        for _ in 0..<8192 {
            let count = fw_recv_stamped(socket.descriptor, receiveBuffer.baseAddress, receiveBuffer.count, &from,
                                        &fromLength, &stamp)
            guard count >= 0 else { return }
            let received = stamp.tv_sec == 0 ? realtimeNanoseconds()
                : Int64(stamp.tv_sec) * 1_000_000_000 + Int64(stamp.tv_nsec)
            let bytes = UnsafeRawBufferPointer(rebasing: receiveBuffer[0..<count])
            guard let source = withUnsafePointer(to: &from, { SocketAddress.address(of: $0) }) else { continue }
            if let capture = engine.capture {
                if socket.includesIPv4Header {
                    capture.writeIPPacket(bytes, realtimeNanoseconds: received)
                } else {
                    capture.writeICMP(bytes, source: source, destination: nil, v6: socket.v6, realtimeNanoseconds: received)
                }
            }
            switch ICMPEcho.parse(bytes, v6: socket.v6, includesIPv4Header: socket.includesIPv4Header) {
            case .rejected:
                counters.malformed += 1
            case .reply(let reply):
                handle(reply, from: source, receivedRealtime: received, mode: socket.mode)
            }
        }
    }

    mutating func handle(_ reply: ICMPEcho.Reply, from source: IPAddress, receivedRealtime: Int64, mode: ICMPSocket.Mode) {
        let slot: Int
        if mode == .raw {
            let offset = Int(reply.identifier &- engine.identifierBase)
            guard offset < engine.identifierCount else {
                counters.strays += 1
                return
            }
            slot = offset << 16 | Int(reply.sequence)
        } else {
            slot = Int(reply.sequence)
        }
        switch slots.lookup(slot: slot, generation: reply.generation) {
        case .inFlight(let id, _, let request, let sendRealtime, let sendMonotonic):
            guard let batch = book.batch(id), batch.requests[Int(request)].address == source else {
                counters.strays += 1
                return
            }
            slots.answer(slot: slot)
            var rtt = receivedRealtime - sendRealtime
            let monotonic = MonotonicInstant.now.nanoseconds - sendMonotonic
            // A wall-clock step between send and receive: fall back to the monotonic clock.
            if rtt < 0 || rtt > monotonic + 1_000_000_000 { rtt = monotonic }
            batch.outcomes[Int(request)].addAnswer(rttNanoseconds: rtt)
            counters.answered += 1
            book.resolve(id)
        case .finished(let id, let serial, let request):
            guard let batch = book.batch(id), batch.serial == serial, batch.requests[Int(request)].address == source else {
                counters.strays += 1
                return
            }
            counters.duplicates += 1
            batch.outcomes[Int(request)].duplicates += 1
        case .unknown:
            counters.strays += 1
        }
    }

    // MARK: timeouts

    mutating func expire(now: Int64) {
        for key in timeouts.keys {
            while let head = timeouts[key]!.first,
                  head.deadline <= now || !slots.isInFlight(slot: Int(head.slot), generation: head.generation) {
                timeouts[key]!.popFirst()
                if let (id, _) = slots.expire(slot: Int(head.slot), generation: head.generation) {
                    counters.timedOut += 1
                    book.resolve(id)
                }
            }
        }
    }

    func pollTimeout(now: Int64) -> Int32 {
        var next = book.nextWaveRelease ?? .max
        if !book.sendQueue.isEmpty && !writeBlocked && slots.available > 0 {
            var pacer = self.pacer
            next = min(next, pacer.nextAllowed(now: MonotonicInstant(nanoseconds: now)).nanoseconds)
        }
        for queue in timeouts.values { if let head = queue.first { next = min(next, head.deadline) } }
        if writeBlocked { next = min(next, now + 5_000_000) }
        return Self.milliseconds(until: next, from: now)
    }

    static func milliseconds(until next: Int64, from now: Int64) -> Int32 {
        guard next != .max else { return -1 }
        return Int32(clamping: max(0, (next - now + 999_999) / 1_000_000))
    }

    mutating func publishCounters() {
        guard counters != published else { return }
        let snapshot = counters
        engine.statistics.withLock { $0 = snapshot }
        published = snapshot
    }
}
