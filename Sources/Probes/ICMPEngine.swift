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
/// Async callers hand over a batch and are resumed once every echo of it is answered or timed out.
final class ICMPEngine: Sendable {
    struct Submission: Sendable {
        var requests: [ProbeRequest]
        var continuation: CheckedContinuation<[ProbeOutcome], Never>
    }

    struct Inbox {
        var submissions: [Submission] = []
        var stopping = false
    }

    let v4: ICMPSocket
    let v6: ICMPSocket?
    /// Why there is no ICMPv6 socket (IPv6 disabled, no permission), reported on each IPv6 target.
    let v6Problem: String?
    let rate: Int
    let capture: PacketCapture?
    let identifierBase: UInt16
    let identifierCount: Int
    let wake: Int32
    let inbox = Mutex(Inbox())
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
        let wakeDescriptor = fw_wake_descriptor()
        guard wakeDescriptor >= 0 else {
            let cause = ProbeError.errnoText()
            v4.close()
            v6Socket?.close()
            throw ProbeError.socket(operation: "eventfd", target: nil, cause: cause)
        }
        wake = wakeDescriptor
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
        thread.stackSize = 1 << 20
        thread.start()
    }

    var socketMode: ICMPSocket.Mode { v4.mode }

    func submit(_ requests: [ProbeRequest]) async -> [ProbeOutcome] {
        guard !requests.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let accepted = inbox.withLock { inbox -> Bool in
                guard !inbox.stopping else { return false }
                inbox.submissions.append(Submission(requests: requests, continuation: continuation))
                return true
            }
            if accepted {
                signal()
            } else {
                continuation.resume(returning: requests.map { _ in ProbeOutcome(failure: "probe engine stopped") })
            }
        }
    }

    func shutdown() {
        inbox.withLock { $0.stopping = true }
        signal()
    }

    func signal() {
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
    }
}

/// The engine thread's state; never leaves that thread.
struct ICMPEngineLoop {
    final class Batch {
        let serial: UInt32
        let requests: [ProbeRequest]
        var outcomes: [ProbeOutcome]
        /// Echoes not yet answered, timed out or failed.
        var remaining: Int
        let continuation: CheckedContinuation<[ProbeOutcome], Never>

        init(serial: UInt32, requests: [ProbeRequest], continuation: CheckedContinuation<[ProbeOutcome], Never>) {
            self.serial = serial
            self.requests = requests
            outcomes = Array(repeating: ProbeOutcome(), count: requests.count)
            remaining = requests.reduce(0) { $0 + $1.count }
            self.continuation = continuation
        }
    }

    struct Wave {
        var release: Int64
        var batch: Int32
        var serial: UInt32
        var number: Int
    }

    struct Pending {
        var slot: UInt32
        var generation: UInt32
        var deadline: Int64
    }

    let engine: ICMPEngine
    var slots: EchoSlots
    var batches: [Batch?] = []
    var freeBatchIDs: [Int32] = []
    var nextSerial: UInt32 = 0
    var sendQueue = Ring<(batch: Int32, request: Int32)>(capacity: 4096)
    /// Later echoes of multi-echo requests, released `spacing` apart; kept sorted by release.
    var waves: [Wave] = []
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
        slots = EchoSlots(identifierCount: engine.identifierCount)
        pacer = Pacer(rate: engine.rate)
    }

    mutating func run() {
        defer {
            sendBuffer.deallocate()
            receiveBuffer.deallocate()
        }
        var descriptors = [pollfd(fd: engine.wake, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: engine.v4.descriptor, events: Int16(POLLIN), revents: 0)]
        if let v6 = engine.v6 { descriptors.append(pollfd(fd: v6.descriptor, events: Int16(POLLIN), revents: 0)) }
        while true {
            let (submissions, stopping) = engine.inbox.withLock { inbox in
                defer { inbox.submissions.removeAll(keepingCapacity: true) }
                return (inbox.submissions, inbox.stopping)
            }
            if stopping {
                for submission in submissions { submission.continuation.resume(returning: submission.requests.map { _ in ProbeOutcome(failure: "probe engine stopped") }) }
                finishAll()
                engine.v4.close()
                engine.v6?.close()
                close(engine.wake)
                return
            }
            var now = MonotonicInstant.now.nanoseconds
            for submission in submissions { accept(submission, now: now) }
            releaseWaves(now: now)
            sendPaced(now: now)
            for index in 1..<descriptors.count where descriptors[index].revents & Int16(POLLIN) != 0 {
                receive(index == 1 ? engine.v4 : engine.v6!)
            }
            now = MonotonicInstant.now.nanoseconds
            expire(now: now)
            publishCounters()

            let wait = pollTimeout(now: now)
            for index in descriptors.indices { descriptors[index].revents = 0 }
            descriptors[1].events = Int16(POLLIN) | (writeBlocked ? Int16(POLLOUT) : 0)
            if descriptors.count > 2 { descriptors[2].events = descriptors[1].events }
            _ = poll(&descriptors, nfds_t(descriptors.count), wait)
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                var value: UInt64 = 0
                _ = read(engine.wake, &value, 8)
            }
            if descriptors.dropFirst().contains(where: { $0.revents & Int16(POLLOUT) != 0 }) { writeBlocked = false }
        }
    }

    // MARK: batches

    mutating func accept(_ submission: ICMPEngine.Submission, now: Int64) {
        nextSerial &+= 1
        let batch = Batch(serial: nextSerial, requests: submission.requests, continuation: submission.continuation)
        let id: Int32
        if let reused = freeBatchIDs.popLast() {
            id = reused
            batches[Int(id)] = batch
        } else {
            id = Int32(batches.count)
            batches.append(batch)
        }
        var maximumCount = 1
        var spacing: Int64 = 0
        for (index, request) in submission.requests.enumerated() {
            maximumCount = max(maximumCount, request.count)
            spacing = max(spacing, request.spacing.nanosecondsClamped)
            if request.address.isIPv6 && engine.v6 == nil {
                batch.outcomes[index].failure = engine.v6Problem ?? "no ICMPv6 socket"
                batch.remaining -= request.count
            }
        }
        enqueueWave(0, of: id)
        for wave in 1..<maximumCount {
            if spacing == 0 {
                enqueueWave(wave, of: id)
            } else {
                let entry = Wave(release: now + Int64(wave) * spacing, batch: id, serial: batch.serial, number: wave)
                let position = waves.firstIndex { $0.release > entry.release } ?? waves.endIndex
                waves.insert(entry, at: position)
            }
        }
        completeIfDone(id)
    }

    mutating func enqueueWave(_ wave: Int, of id: Int32) {
        guard let batch = batches[Int(id)] else { return }
        for (index, request) in batch.requests.enumerated() where wave < request.count {
            if request.address.isIPv6 && engine.v6 == nil { continue }
            sendQueue.append((id, Int32(index)))
        }
    }

    mutating func releaseWaves(now: Int64) {
        var released = 0
        for wave in waves {
            guard wave.release <= now else { break }
            released += 1
            guard batches[Int(wave.batch)]?.serial == wave.serial else { continue }
            enqueueWave(wave.number, of: wave.batch)
        }
        if released > 0 { waves.removeFirst(released) }
    }

    mutating func completeIfDone(_ id: Int32) {
        guard let batch = batches[Int(id)], batch.remaining <= 0 else { return }
        batch.continuation.resume(returning: batch.outcomes)
        batches[Int(id)] = nil
        freeBatchIDs.append(id)
    }

    mutating func resolveEcho(batch id: Int32) {
        guard let batch = batches[Int(id)] else { return }
        batch.remaining -= 1
        if batch.remaining <= 0 { completeIfDone(id) }
    }

    // MARK: sending

    mutating func sendPaced(now: Int64) {
        guard !writeBlocked else { return }
        var allowed = pacer.take(min(sendQueue.count, 1024), now: MonotonicInstant(nanoseconds: now))
        while allowed > 0, let entry = sendQueue.first {
            guard let batch = batches[Int(entry.batch)] else {
                sendQueue.popFirst()
                continue
            }
            let request = batch.requests[Int(entry.request)]
            guard let (slot, generation) = slots.allocate(batch: entry.batch, serial: batch.serial, request: entry.request,
                                                         sendRealtime: realtimeNanoseconds(),
                                                         sendMonotonic: MonotonicInstant.now.nanoseconds) else {
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
                sendQueue.popFirst()
                counters.sendErrors += 1
                batch.outcomes[Int(entry.request)].sent += 1
                batch.outcomes[Int(entry.request)].failure = ProbeError.errnoText(code)
                resolveEcho(batch: entry.batch)
                allowed -= 1
                continue
            }
            sendQueue.popFirst()
            allowed -= 1
            counters.sent += 1
            batch.outcomes[Int(entry.request)].sent += 1
            let timeout = request.timeout.nanosecondsClamped
            let deadline = MonotonicInstant.now.nanoseconds + timeout
            timeouts[timeout, default: Ring(capacity: 1024)].append(Pending(slot: UInt32(slot), generation: generation,
                                                                             deadline: deadline))
            if let capture = engine.capture {
                capture.writeICMP(packet, source: nil, destination: request.address, v6: v6,
                                  realtimeNanoseconds: realtimeNanoseconds())
            }
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
        let batches = self.batches
        let match = slots.match(slot: slot, generation: reply.generation, isOpen: { id, serial in
            batches[Int(id)]?.serial == serial
        }, addressMatches: { id, request in
            batches[Int(id)]?.requests[Int(request)].address == source
        })
        switch match {
        case .answer(let id, let request, let sendRealtime, let sendMonotonic):
            guard let batch = batches[Int(id)] else { return }
            var rtt = receivedRealtime - sendRealtime
            let monotonic = MonotonicInstant.now.nanoseconds - sendMonotonic
            // A wall-clock step between send and receive: fall back to the monotonic clock.
            if rtt < 0 || rtt > monotonic + 1_000_000_000 { rtt = monotonic }
            batch.outcomes[Int(request)].addAnswer(rttNanoseconds: rtt)
            counters.answered += 1
            resolveEcho(batch: id)
        case .duplicate(let id, let request):
            counters.duplicates += 1
            batches[Int(id)]?.outcomes[Int(request)].duplicates += 1
        case .stray:
            counters.strays += 1
        }
    }

    // MARK: timeouts

    mutating func expire(now: Int64) {
        for key in timeouts.keys {
            while let head = timeouts[key]!.first, head.deadline <= now || !slots.isInFlight(slot: Int(head.slot), generation: head.generation) {
                timeouts[key]!.popFirst()
                if let (id, _) = slots.expire(slot: Int(head.slot), generation: head.generation) {
                    counters.timedOut += 1
                    resolveEcho(batch: id)
                }
            }
        }
    }

    func pollTimeout(now: Int64) -> Int32 {
        var next = Int64.max
        if let wave = waves.first { next = min(next, wave.release) }
        if !sendQueue.isEmpty && !writeBlocked && slots.available > 0 {
            var pacer = self.pacer
            next = min(next, pacer.nextAllowed(now: MonotonicInstant(nanoseconds: now)).nanoseconds)
        }
        for queue in timeouts.values { if let head = queue.first { next = min(next, head.deadline) } }
        if writeBlocked { next = min(next, now + 5_000_000) }
        guard next != .max else { return -1 }
        let milliseconds = (next - now + 999_999) / 1_000_000
        return Int32(clamping: max(0, milliseconds))
    }

    mutating func publishCounters() {
        guard counters != published else { return }
        let snapshot = counters
        engine.statistics.withLock { $0 = snapshot }
        published = snapshot
    }

    /// Shutdown: echoes in flight count as lost, unsent ones as not sent.
    mutating func finishAll() {
        for index in batches.indices {
            guard let batch = batches[index] else { continue }
            batch.continuation.resume(returning: batch.outcomes)
            batches[index] = nil
        }
    }
}
