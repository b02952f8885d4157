import Foundation
import ForewarnModel
import Testing
@testable import Probes

/// The time-dependent logic driven with virtual time: no sleeps, no sockets.
@Suite("Probe state machines")
struct StateMachineTests {
    static func at(_ nanoseconds: Int64) -> MonotonicInstant { MonotonicInstant(nanoseconds: nanoseconds) }
    static let millisecond: Int64 = 1_000_000

    // MARK: pacing

    @Test("the pacer lets a burst through, then one packet per 1/rate")
    func pacerSpacing() {
        var pacer = Pacer<MonotonicInstant>(rate: 1000, burst: 5)
        #expect(pacer.take(100, now: Self.at(0)) == 5)
        #expect(pacer.take(100, now: Self.at(0)) == 0)
        #expect(pacer.nextAllowed(now: Self.at(0)) == Self.at(Self.millisecond))
        #expect(pacer.take(100, now: Self.at(3 * Self.millisecond)) == 3)
        // An idle second refills only up to the burst.
        #expect(pacer.take(100, now: Self.at(1_003 * Self.millisecond)) == 5)
    }

    @Test("over a virtual second the pacer never exceeds its rate")
    func pacerRate() {
        var pacer = Pacer<MonotonicInstant>(rate: 17_000)
        var sent = 0
        var now: Int64 = 0
        while now < 1_000 * Self.millisecond {
            sent += pacer.take(1_000_000, now: Self.at(now))
            now = max(now + 1, pacer.nextAllowed(now: Self.at(now)).nanoseconds)
        }
        #expect(sent <= 17_000 + pacer.burst)
        #expect(sent >= 16_900)
    }

    @Test("an unlimited pacer grants everything at once")
    func pacerUnlimited() {
        var pacer = Pacer<MonotonicInstant>(rate: 0)
        #expect(pacer.take(10_000, now: Self.at(0)) == 10_000)
    }

    // MARK: round scheduling

    @Test("lines sharing an interval are spread evenly over it, each once per interval")
    func schedulerSpreads() {
        let second: Int64 = 1_000 * Self.millisecond
        var scheduler = RoundScheduler<MonotonicInstant>(intervals: Array(repeating: .seconds(1), count: 4), start: Self.at(0))
        #expect(scheduler.due(now: Self.at(0)) == [0])
        #expect(scheduler.nextDue == Self.at(250 * Self.millisecond))
        #expect(scheduler.due(now: Self.at(600 * Self.millisecond)) == [1, 2])
        #expect(scheduler.due(now: Self.at(999 * Self.millisecond)) == [3])
        #expect(scheduler.due(now: Self.at(second)) == [0])
    }

    @Test("different intervals run independently; a stalled caller skips missed rounds")
    func schedulerIntervalsAndCatchUp() {
        var scheduler = RoundScheduler<MonotonicInstant>(intervals: [.seconds(1), .seconds(10)], start: Self.at(0))
        #expect(Set(scheduler.due(now: Self.at(0))) == [0, 1])
        #expect(scheduler.due(now: Self.at(1_000 * Self.millisecond)) == [0])
        // 35 s later: each line fires once, not 35 times.
        #expect(Set(scheduler.due(now: Self.at(36_000 * Self.millisecond))) == [0, 1])
        #expect(scheduler.due(now: Self.at(36_000 * Self.millisecond)) == [])
    }

    // MARK: verdicts

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static func round(_ index: Int, sent: Int = 3, received: Int, rttMilliseconds: Int64 = 1) -> RoundResult {
        RoundResult(at: t0.addingTimeInterval(Double(index) * 10), sent: sent, received: received,
                    rttAverageNanoseconds: received > 0 ? rttMilliseconds * 1_000_000 : nil)
    }

    @Test("K lost rounds make a line down, dated at the first lost round; R answered rounds bring it up")
    func downAfterKLostRounds() {
        var verdicts = LineVerdicts(profiles: [ProbeProfile(id: "p", downAfter: 3, upAfter: 2)], lineProfiles: [0, 0])
        #expect(verdicts.record(line: 0, Self.round(0, received: 3))?.to == .up)
        #expect(verdicts.record(line: 1, Self.round(0, received: 3))?.to == .up)
        #expect(verdicts.record(line: 0, Self.round(1, received: 0)) == nil)
        #expect(verdicts.record(line: 0, Self.round(2, received: 0)) == nil)
        let down = verdicts.record(line: 0, Self.round(3, received: 0))
        #expect(down?.to == .down && down?.from == .up)
        #expect(down?.since == Self.round(1, received: 0).at, "the outage started at the first lost round")
        #expect(verdicts.health(of: 1) == .up, "only the line that lost rounds is down")
        #expect(verdicts.record(line: 0, Self.round(4, received: 0)) == nil, "down is reported once")
        #expect(verdicts.record(line: 0, Self.round(5, received: 3)) == nil)
        let up = verdicts.record(line: 0, Self.round(6, received: 3))
        #expect(up?.to == .up && up?.since == Self.round(5, received: 3).at)
    }

    @Test("a lost round between answered ones resets the count toward down")
    func interruptedStreak() {
        var verdicts = LineVerdicts(profiles: [ProbeProfile(id: "p", downAfter: 3)], lineProfiles: [0])
        _ = verdicts.record(line: 0, Self.round(0, received: 3))
        for (index, received) in [0, 0, 1, 0, 0, 1].enumerated() {
            #expect(verdicts.record(line: 0, Self.round(index + 1, received: received))?.to != .down)
        }
        #expect(verdicts.health(of: 0) != .down)
    }

    @Test("30 % loss over the window makes a line degraded, not down, dated at its first lossy round")
    func lossyLineIsDegraded() {
        let profile = ProbeProfile(id: "p", count: 10, downAfter: 3, upAfter: 2, window: 5,
                                   degradedLoss: Percentage(decimal: "20")!)
        var verdicts = LineVerdicts(profiles: [profile], lineProfiles: [0])
        #expect(verdicts.record(line: 0, Self.round(0, sent: 10, received: 10))?.to == .up)
        var changes: [VerdictChange] = []
        for index in 1...20 {
            if let change = verdicts.record(line: 0, Self.round(index, sent: 10, received: 7)) { changes.append(change) }
        }
        #expect(changes.count == 1)
        #expect(changes.first?.to == .degraded)
        #expect(changes.first?.since == Self.round(1, received: 7).at)
        // Clean again: up after the lossy rounds leave the window and R clean rounds passed.
        var recovered: VerdictChange?
        for index in 21...30 {
            if let change = verdicts.record(line: 0, Self.round(index, sent: 10, received: 10)) { recovered = change }
        }
        #expect(recovered?.to == .up)
    }

    @Test("round-trip time above the threshold over the window is degraded, dated at the first slow round")
    func slowLineIsDegraded() {
        let profile = ProbeProfile(id: "p", window: 3, degradedRTT: .milliseconds(100))
        var verdicts = LineVerdicts(profiles: [profile], lineProfiles: [0])
        for index in 0..<3 { _ = verdicts.record(line: 0, Self.round(index, received: 3, rttMilliseconds: 5)) }
        #expect(verdicts.health(of: 0) == .up)
        // Window (5, 5, 150): 53 ms on average, still up.
        #expect(verdicts.record(line: 0, Self.round(3, received: 3, rttMilliseconds: 150)) == nil)
        // Window (5, 150, 150): 101 ms.
        let change = verdicts.record(line: 0, Self.round(4, received: 3, rttMilliseconds: 150))
        #expect(change?.to == .degraded)
        #expect(change?.since == Self.round(3, received: 3).at)
    }

    @Test("a line never answered goes from unknown to down after K rounds")
    func unknownToDown() {
        var verdicts = LineVerdicts(profiles: [ProbeProfile(id: "p", downAfter: 2)], lineProfiles: [0])
        #expect(verdicts.record(line: 0, Self.round(0, received: 0)) == nil)
        let change = verdicts.record(line: 0, Self.round(1, received: 0))
        #expect(change?.from == .unknown && change?.to == .down && change?.since == Self.round(0, received: 0).at)
    }

    // MARK: echo matching

    @Test("replies are matched once; duplicates and strays are told apart")
    func echoSlotMatching() {
        var slots = EchoSlots(maximumIdentifiers: 1, firstGeneration: 100)
        let open: (Int32, UInt32) -> Bool = { _, serial in serial == 7 }
        guard let (slot, generation) = slots.allocate(batch: 0, serial: 7, request: 3, sendRealtime: 10, sendMonotonic: 20) else {
            Issue.record("no slot")
            return
        }
        #expect(slots.match(slot: slot, generation: generation, isOpen: open, addressMatches: { _, _ in false }) == .stray,
                "right slot, wrong source address")
        #expect(slots.match(slot: slot, generation: generation &+ 1, isOpen: open, addressMatches: { _, _ in true }) == .stray,
                "another generation is a late reply or someone else's")
        #expect(slots.match(slot: slot, generation: generation, isOpen: open, addressMatches: { _, _ in true })
                == .answer(batch: 0, request: 3, sendRealtime: 10, sendMonotonic: 20))
        #expect(slots.match(slot: slot, generation: generation, isOpen: open, addressMatches: { _, _ in true })
                == .duplicate(batch: 0, request: 3))
        #expect(slots.match(slot: slot, generation: generation, isOpen: { _, _ in false }, addressMatches: { _, _ in true })
                == .stray, "a duplicate after its batch closed is a stray")
        #expect(slots.expire(slot: slot, generation: generation) == nil, "answered echoes do not time out")
    }

    @Test("a timed-out echo's slot is reused last, and its late reply is not taken for the new echo")
    func lateReplyAfterReuse() {
        var slots = EchoSlots(maximumIdentifiers: 1, firstGeneration: 1)
        let (slot, old) = slots.allocate(batch: 0, serial: 1, request: 0, sendRealtime: 0, sendMonotonic: 0)!
        #expect(slots.expire(slot: slot, generation: old) != nil)
        #expect(slots.available == 65536)
        // Exhaust the table until the same slot comes round again.
        var again: (slot: Int, generation: UInt32)?
        for _ in 0..<65536 {
            let next = slots.allocate(batch: 0, serial: 1, request: 1, sendRealtime: 0, sendMonotonic: 0)!
            if next.slot == slot { again = next }
        }
        #expect(again != nil && again?.generation != old)
        #expect(slots.match(slot: slot, generation: old, isOpen: { _, _ in true }, addressMatches: { _, _ in true }) == .stray)
    }
}
