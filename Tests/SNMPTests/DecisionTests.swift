import ForewarnModel
import SNMP
import Testing

/// Virtual time: instants are built from an origin, nothing sleeps.
private let t0 = ContinuousClock.now
private func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int64(seconds * 1000)) }

@Suite("Poll scheduling and reachability verdicts")
struct ReachabilityTests {
    @Test func regularPollsStayOnTheGridWhateverThePollTakes() {
        var machine = Reachability(origin: t0, interval: .seconds(60), phase: .seconds(7))
        #expect(machine.start() == [.poll(at: at(7))])
        #expect(machine.pollSucceeded(at: at(7.9), uptime: 100) == [.declareUp(since: at(7.9)), .poll(at: at(67))])
        // A slow answer does not push the next poll later.
        #expect(machine.pollSucceeded(at: at(69.5), uptime: 6_300) == [.poll(at: at(127))])
        #expect(machine.pollSucceeded(at: at(127.2), uptime: 12_000) == [.poll(at: at(187))])
    }

    @Test func silenceIsUnreachableOnlyAfterTheConfirmationPolls() {
        var machine = Reachability(origin: t0, interval: .seconds(60), phase: .zero)
        _ = machine.start()
        _ = machine.pollSucceeded(at: at(0), uptime: 10)
        #expect(machine.pollFailed(at: at(62)) == [.poll(at: at(67))])
        #expect(machine.pollFailed(at: at(69)) == [.poll(at: at(74))])
        #expect(machine.pollFailed(at: at(76)) == [.poll(at: at(81))])
        #expect(machine.pollFailed(at: at(83)) == [.declareDown(since: at(62), failedPolls: 4), .poll(at: at(120))])
        #expect(machine.state == .down(since: at(62)))
        // Still silent: no new verdict, back on the normal grid.
        #expect(machine.pollFailed(at: at(122)) == [.poll(at: at(180))])
        // Recovery.
        #expect(machine.pollSucceeded(at: at(180.1), uptime: 50) == [.declareRebooted(at: at(180.1)), .declareUp(since: at(180.1)), .poll(at: at(240))])
    }

    @Test func theOutageDatesFromTheFirstUnansweredPollsSending() {
        var machine = Reachability(origin: t0, interval: .seconds(60), phase: .zero, confirmations: 1)
        _ = machine.start()
        _ = machine.pollSucceeded(at: at(0), uptime: 10)
        #expect(machine.pollFailed(at: at(62), sentAt: at(60)) == [.poll(at: at(67))])
        #expect(machine.pollFailed(at: at(69), sentAt: at(67)) == [.declareDown(since: at(60), failedPolls: 2), .poll(at: at(120))])
    }

    @Test func oneLostAnswerIsNoVerdict() {
        var machine = Reachability(origin: t0, interval: .seconds(60), phase: .zero)
        _ = machine.start()
        _ = machine.pollSucceeded(at: at(0), uptime: 10)
        #expect(machine.pollFailed(at: at(60)) == [.poll(at: at(65))])
        #expect(machine.pollSucceeded(at: at(65), uptime: 6_510) == [.poll(at: at(120))])
        #expect(machine.state == .up)
    }

    @Test func labTuning_oneLostPollIsNoVerdict_threeInARowAreOneAndAHalfSeconds() {
        // The lab's tuning (scripts/lab config): 10 s polls, 250 ms timeout, confirmations
        // 250 ms apart, confirm_attempts 2. A trap-triggered poll at 30 s.
        var machine = Reachability(origin: t0, interval: .seconds(10), phase: .zero,
                                   confirmInterval: .milliseconds(250), confirmations: 2)
        _ = machine.start()
        _ = machine.pollSucceeded(at: at(0), uptime: 10)
        // One lost poll, then an answer: no verdict.
        #expect(machine.pollFailed(at: at(10.25), sentAt: at(10)) == [.poll(at: at(10.5))])
        #expect(machine.pollSucceeded(at: at(10.5), uptime: 1_050) == [.poll(at: at(20))])
        #expect(machine.state == .up)
        // A cut: three failures in a row, down 1.25 s after the first poll was sent.
        #expect(machine.trapReceived(at: at(30)) == [.poll(at: at(30))])
        #expect(machine.pollFailed(at: at(30.25), sentAt: at(30)) == [.poll(at: at(30.5))])
        #expect(machine.pollFailed(at: at(30.75), sentAt: at(30.5)) == [.poll(at: at(31))])
        #expect(machine.pollFailed(at: at(31.25), sentAt: at(31)) == [.declareDown(since: at(30), failedPolls: 3), .poll(at: at(40))])
    }

    @Test func rebootIsSysUpTimeGoingBackwardsButNotItsWrap() {
        var machine = Reachability(origin: t0, interval: .seconds(60), phase: .zero)
        _ = machine.start()
        _ = machine.pollSucceeded(at: at(0), uptime: 500_000)
        #expect(machine.pollSucceeded(at: at(60), uptime: 300).first == .declareRebooted(at: at(60)))
        var wrapping = Reachability(origin: t0, interval: .seconds(60), phase: .zero)
        _ = wrapping.start()
        _ = wrapping.pollSucceeded(at: at(0), uptime: UInt32.max - 1000)
        #expect(wrapping.pollSucceeded(at: at(60), uptime: 5000) == [.poll(at: at(120))])
        // Answering normally: 60 s later sysUpTime is 6,000 ticks higher, within the slack.
        #expect(machine.pollSucceeded(at: at(120), uptime: 6_250) == [.poll(at: at(180))])
    }

    @Test func aTrapAsksForAnImmediatePollNotAVerdict() {
        var machine = Reachability(origin: t0, interval: .seconds(60), phase: .zero)
        _ = machine.start()
        _ = machine.pollSucceeded(at: at(0), uptime: 10)
        #expect(machine.trapReceived(at: at(30)) == [.poll(at: at(30))])
        #expect(machine.state == .up)
    }

    @Test func phasesSpreadElementsAndAreStable() {
        let phases = (0..<1000).map { Reachability<ContinuousClock.Instant>.phase(for: "acc\($0)", interval: .seconds(60)) }
        #expect(phases.allSatisfy { $0 >= .zero && $0 < .seconds(60) })
        #expect(Set(phases.map { $0.components.seconds }).count > 50)
        #expect(Reachability<ContinuousClock.Instant>.phase(for: "acc1", interval: .seconds(60)) == phases[1])
    }
}

@Suite("Counter rates")
struct CounterRateTests {
    @Test func counter32WrapsOnce() {
        var rate = CounterRate<ContinuousClock.Instant>(width: .bits32)
        #expect(rate.update(4_294_967_290, at: at(0)) == nil)
        #expect(rate.update(4, at: at(10)) == 1.0) // 5 to the wrap, 4 after it, +1 for zero: 10 in 10 s
    }

    @Test func counter64BackwardsIsADiscontinuity() {
        var rate = CounterRate<ContinuousClock.Instant>(width: .bits64)
        _ = rate.update(1_000_000, at: at(0))
        #expect(rate.update(1_600_000, at: at(60)) == 10_000)
        #expect(rate.update(100, at: at(120)) == nil)
        #expect(rate.update(700, at: at(180)) == 10)
    }

    @Test func rebootRestartsTheBaseline() {
        var rate = CounterRate<ContinuousClock.Instant>(width: .bits32)
        _ = rate.update(50_000, at: at(0))
        #expect(rate.update(20, at: at(60), discontinuity: true) == nil)
        #expect(rate.update(80, at: at(120)) == 1)
    }
}

@Suite("Port health")
struct PortHealthTests {
    typealias Sample = PortHealth<ContinuousClock.Instant>.Sample

    @Test func adminUpOperDownIsALineFaultAdminDownIsNot() {
        var port = PortHealth<ContinuousClock.Instant>(errorRateThreshold: 1)
        #expect(port.update(Sample(adminStatus: 1, operStatus: 1, inErrors: 0, outErrors: 0), at: at(0), rebooted: false)?.health == .up)
        #expect(port.update(Sample(adminStatus: 1, operStatus: 2, inErrors: 0, outErrors: 0), at: at(60), rebooted: false)?.health == .down)
        #expect(port.update(Sample(adminStatus: 2, operStatus: 2, inErrors: 0, outErrors: 0), at: at(120), rebooted: false)?.health == .up)
    }

    @Test func errorRateAboveThresholdIsDegraded() {
        var port = PortHealth<ContinuousClock.Instant>(errorRateThreshold: 1)
        _ = port.update(Sample(adminStatus: 1, operStatus: 1, inErrors: 4_294_967_000, outErrors: 0), at: at(0), rebooted: false)
        // 296 + 400 + 1 errors in 60 s across the wrap: 11.6/s.
        let change = port.update(Sample(adminStatus: 1, operStatus: 1, inErrors: 400, outErrors: 0), at: at(60), rebooted: false)
        #expect(change?.health == .degraded)
        #expect(port.update(Sample(adminStatus: 1, operStatus: 1, inErrors: 410, outErrors: 0), at: at(120), rebooted: false)?.health == .up)
    }
}

extension PortHealthTests {
    @Test func trafficRatesAcrossA32BitWrapAndAReboot() {
        var port = PortHealth<ContinuousClock.Instant>(errorRateThreshold: 1)
        let up = { (octets: UInt64) in
            Sample(adminStatus: 1, operStatus: 1, inErrors: 0, outErrors: 0, inOctets: octets, outOctets: octets, octetsAre64Bit: false)
        }
        _ = port.update(up(4_294_967_295 - 999), at: at(0), rebooted: false)
        _ = port.update(up(124_000), at: at(10), rebooted: false)
        // 1,000 + 124,000 octets in 10 s across the wrap: 100,000 bit/s.
        #expect(port.rates.inBitsPerSecond == 100_000)
        _ = port.update(up(10), at: at(20), rebooted: true)
        #expect(port.rates.inBitsPerSecond == nil)
        _ = port.update(up(1_260), at: at(30), rebooted: false)
        #expect(port.rates.outBitsPerSecond == 1_000)
    }
}

@Suite("Trap admission")
struct TrapAdmissionTests {
    @Test func aStormingSourceIsLimitedOthersAreNot() {
        var admission = TrapAdmission<ContinuousClock.Instant>(ratePerSecond: 10, burst: 20)
        let storm = IPAddress("192.0.2.66")!
        let quiet = IPAddress("192.0.2.7")!
        let accepted = (0..<100).filter { _ in admission.admit(storm, at: at(0)) == .accept }.count
        #expect(accepted == 20)
        #expect(admission.admit(quiet, at: at(0)) == .accept)
        #expect(admission.admit(storm, at: at(0.01)) == .drop)
        #expect(admission.admit(storm, at: at(1)) == .accept) // refilled: 10 tokens
        var fresh = TrapAdmission<ContinuousClock.Instant>(ratePerSecond: 0, burst: 1)
        _ = fresh.admit(storm, at: at(0))
        #expect(fresh.admit(storm, at: at(0)) == .drop)
        #expect(fresh.admit(storm, at: at(61)) == .drop)
    }
}
