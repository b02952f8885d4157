#if canImport(Glibc)
import Glibc
#endif
internal import CPcap
import Synchronization

/// How async callers reach an engine thread: batches go into a locked inbox and an eventfd wakes
/// the thread out of poll(); each batch's continuation is resumed by the thread when it is done.
final class EngineMailbox: Sendable {
    struct Submission: Sendable {
        var requests: [ProbeRequest]
        var continuation: CheckedContinuation<[ProbeOutcome], Never>
    }

    private struct Inbox {
        var submissions: [Submission] = []
        var stopping = false
    }

    let wake: Int32
    private let inbox = Mutex(Inbox())

    init(engine: String) throws(ProbeError) {
        wake = fw_wake_descriptor()
        guard wake >= 0 else { throw ProbeError.socket(operation: "eventfd for the \(engine) engine", target: nil, cause: ProbeError.errnoText()) }
    }

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

    /// Called by the engine thread: the batches handed in since the last call, and whether to stop.
    func drain() -> (submissions: [Submission], stopping: Bool) {
        inbox.withLock { inbox in
            defer { inbox.submissions.removeAll(keepingCapacity: true) }
            return (inbox.submissions, inbox.stopping)
        }
    }

    /// Called by the engine thread after poll() reported the eventfd readable.
    func acknowledgeWake() {
        var value: UInt64 = 0
        _ = read(wake, &value, 8)
    }

    /// Called by the engine thread when it exits.
    func closeWake() { close(wake) }
}

/// The batches an engine thread is working on: their outcomes, the queue of probes still to send
/// (later probes of a request released `spacing` apart in waves), and completion.
struct BatchBook {
    final class Batch {
        let serial: UInt32
        let requests: [ProbeRequest]
        var outcomes: [ProbeOutcome]
        /// Probes not yet answered, timed out or failed.
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

    private(set) var batches: [Batch?] = []
    private var freeIDs: [Int32] = []
    private var nextSerial: UInt32 = 0
    /// Probes ready to go, in order: (batch id, request index).
    var sendQueue = Ring<(batch: Int32, request: Int32)>(capacity: 4096)
    /// Later probes of multi-probe requests, sorted by release time.
    private var waves: [Wave] = []

    /// Batches finished in this turn of the engine loop, handed back by `deliverFinished` once the
    /// turn's bookkeeping (counters) is done, so a caller never sees counters older than its results.
    private var finished: [(CheckedContinuation<[ProbeOutcome], Never>, [ProbeOutcome])] = []

    var nextWaveRelease: Int64? { waves.first?.release }
    var isIdle: Bool { sendQueue.isEmpty && waves.isEmpty }

    @inline(__always)
    func batch(_ id: Int32) -> Batch? { batches[Int(id)] }

    /// Takes a batch in. `refuse` names why a request cannot be probed at all (its probes then
    /// count as failed without being sent).
    mutating func accept(_ submission: EngineMailbox.Submission, now: Int64, refuse: (ProbeRequest) -> String?) {
        nextSerial &+= 1
        let batch = Batch(serial: nextSerial, requests: submission.requests, continuation: submission.continuation)
        let id: Int32
        if let reused = freeIDs.popLast() {
            id = reused
            batches[Int(id)] = batch
        } else {
            id = Int32(batches.count)
            batches.append(batch)
        }
        var maximumCount = 1
        var spacing: Int64 = 0
        for (index, request) in submission.requests.enumerated() {
            if let reason = refuse(request) {
                batch.outcomes[index].failure = reason
                batch.remaining -= request.count
                continue
            }
            maximumCount = max(maximumCount, request.count)
            spacing = max(spacing, request.spacing.nanosecondsClamped)
        }
        enqueueWave(0, of: id)
        for number in 1..<maximumCount {
            if spacing == 0 {
                enqueueWave(number, of: id)
            } else {
                let wave = Wave(release: now + Int64(number) * spacing, batch: id, serial: batch.serial, number: number)
                let position = waves.lastIndex { $0.release <= wave.release }.map { $0 + 1 } ?? 0
                waves.insert(wave, at: position)
            }
        }
        completeIfDone(id)
    }

    private mutating func enqueueWave(_ number: Int, of id: Int32) {
        guard let batch = batches[Int(id)] else { return }
        var unsendable = 0
        for (index, request) in batch.requests.enumerated() where number < request.count {
            let outcome = batch.outcomes[index]
            if outcome.failure == nil {
                sendQueue.append((id, Int32(index)))
            } else if outcome.sent > 0 {
                // An earlier probe of this request could not be sent (no route, interface down):
                // the later ones are not tried, and count as failed too, or the batch would wait
                // for them forever. (Requests refused outright were counted when accepted.)
                batch.outcomes[index].sent += 1
                unsendable += 1
            }
        }
        for _ in 0..<unsendable { resolve(id) }
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

    /// One probe of the batch is finished (answered, timed out or failed).
    mutating func resolve(_ id: Int32) {
        guard let batch = batches[Int(id)] else { return }
        batch.remaining -= 1
        if batch.remaining <= 0 { completeIfDone(id) }
    }

    /// A probe that could not be sent: it counts as sent and lost, with the reason.
    mutating func fail(_ id: Int32, request: Int32, reason: String) {
        guard let batch = batches[Int(id)] else { return }
        batch.outcomes[Int(request)].sent += 1
        batch.outcomes[Int(request)].failure = reason
        resolve(id)
    }

    private mutating func completeIfDone(_ id: Int32) {
        guard let batch = batches[Int(id)], batch.remaining <= 0 else { return }
        finished.append((batch.continuation, batch.outcomes))
        batches[Int(id)] = nil
        freeIDs.append(id)
    }

    /// Resumes the callers of the batches that finished since the last call.
    mutating func deliverFinished() {
        guard !finished.isEmpty else { return }
        for (continuation, outcomes) in finished { continuation.resume(returning: outcomes) }
        finished.removeAll(keepingCapacity: true)
    }

    /// Shutdown: every open batch returns what it has (probes in flight count as lost).
    mutating func finishAll() {
        deliverFinished()
        for index in batches.indices {
            guard let batch = batches[index] else { continue }
            batch.continuation.resume(returning: batch.outcomes)
            batches[index] = nil
        }
        sendQueue = Ring()
        waves = []
    }

    static func refuseAll(_ submissions: [EngineMailbox.Submission]) {
        for submission in submissions {
            submission.continuation.resume(returning: submission.requests.map { _ in ProbeOutcome(failure: "probe engine stopped") })
        }
    }
}
