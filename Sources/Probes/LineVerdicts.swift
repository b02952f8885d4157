import Foundation
import ForewarnModel

/// One round of one line as the verdict machine sees it.
public struct RoundResult: Sendable, Hashable {
    /// When the round started (its first probe): outages are dated from here.
    public var at: Date
    public var sent: Int
    public var received: Int
    public var rttAverageNanoseconds: Int64?

    public init(at: Date, sent: Int, received: Int, rttAverageNanoseconds: Int64? = nil) {
        self.at = at
        self.sent = sent
        self.received = received
        self.rttAverageNanoseconds = rttAverageNanoseconds
    }

    public init(at: Date, outcome: ProbeOutcome) {
        self.init(at: at, sent: outcome.sent, received: outcome.received, rttAverageNanoseconds: outcome.rttAverageNanoseconds)
    }

    public var lost: Bool { received == 0 }
}

/// A line's health changed: the action the verdict machine returns.
public struct VerdictChange: Sendable, Hashable {
    public var line: Int
    public var from: Health
    public var to: Health
    /// The first round of the evidence (first lost, first lossy, first good round), not the round that confirmed it.
    public var since: Date
    public var detail: String
}

/// The verdict state machine of every probed line, held as flat arrays (a million lines cost tens
/// of bytes each, not an object each). Rounds are fed in per line in time order; each returns the
/// change of health it caused, if any. No clock of its own: time is the rounds' timestamps.
///
/// - down: `downAfter` (K) consecutive lost rounds (no probe answered), dated at the first of them.
/// - degraded: over a full window of `window` rounds, loss above `degradedLoss` or average RTT above
///   `degradedRTT`, dated at the first bad round of the current bad stretch.
/// - up: from down after `upAfter` (R) consecutive answered rounds; from degraded after R
///   consecutive clean rounds once the window is within thresholds; from unknown at the first
///   answered round. Dated at the first round of the streak.
public struct LineVerdicts: Sendable {
    public let profiles: [ProbeProfile]
    private let stride: Int

    private var health: [Health]
    private var profileIndex: [UInt16]
    private var lostStreak: [UInt16]
    private var lostStreakStart: [Double]
    private var answeredStreak: [UInt16]
    private var answeredStreakStart: [Double]
    private var cleanStreak: [UInt16]
    private var cleanStreakStart: [Double]
    /// Sliding window, `stride` entries per line: sent (8 bits), received (8 bits), average RTT in
    /// units of 100 µs (15 bits, saturating at 3.2 s), and whether the round was bad (bit 31).
    private var ring: [UInt32]
    private var ringNext: [UInt8]
    private var ringFill: [UInt8]
    private var windowSent: [UInt32]
    private var windowReceived: [UInt32]
    private var windowRTTUnits: [UInt32]
    private var windowAnswered: [UInt16]
    private var badInWindow: [UInt16]
    private var badStretchStart: [Double]

    /// - Parameters:
    ///   - profiles: the verdict settings lines refer to by index.
    ///   - lineProfiles: for each line, the index of its profile.
    public init(profiles: [ProbeProfile], lineProfiles: [Int]) {
        self.profiles = profiles.isEmpty ? [.standard] : profiles
        stride = max(1, min(255, self.profiles.map(\.window).max() ?? 1))
        let count = lineProfiles.count
        health = Array(repeating: .unknown, count: count)
        profileIndex = lineProfiles.map { UInt16(clamping: $0) }
        lostStreak = Array(repeating: 0, count: count)
        lostStreakStart = Array(repeating: 0, count: count)
        answeredStreak = Array(repeating: 0, count: count)
        answeredStreakStart = Array(repeating: 0, count: count)
        cleanStreak = Array(repeating: 0, count: count)
        cleanStreakStart = Array(repeating: 0, count: count)
        ring = Array(repeating: 0, count: count * stride)
        ringNext = Array(repeating: 0, count: count)
        ringFill = Array(repeating: 0, count: count)
        windowSent = Array(repeating: 0, count: count)
        windowReceived = Array(repeating: 0, count: count)
        windowRTTUnits = Array(repeating: 0, count: count)
        windowAnswered = Array(repeating: 0, count: count)
        badInWindow = Array(repeating: 0, count: count)
        badStretchStart = Array(repeating: 0, count: count)
    }

    public var count: Int { health.count }

    public func health(of line: Int) -> Health { health[line] }

    /// Loss over the line's current window (0…1), nil before any round.
    public func windowLoss(of line: Int) -> Double? {
        windowSent[line] == 0 ? nil : 1 - Double(windowReceived[line]) / Double(windowSent[line])
    }

    public mutating func record(line: Int, _ round: RoundResult) -> VerdictChange? {
        let profile = profiles[Int(profileIndex[line])]
        let window = max(1, min(stride, profile.window))
        let at = round.at.timeIntervalSince1970
        let sent = UInt32(clamping: max(round.sent, round.received))
        let received = UInt32(clamping: round.received)
        let rttUnits: UInt32 = round.received == 0 ? 0
            : UInt32(clamping: min(0x7ffe, (round.rttAverageNanoseconds ?? 0) / 100_000))
        let rttTooHigh = profile.degradedRTT.map { round.received > 0 && (round.rttAverageNanoseconds ?? 0) > $0.nanosecondsClamped } ?? false
        let bad = received < sent || rttTooHigh

        // Slide the window.
        let base = line * stride
        if Int(ringFill[line]) == window {
            evict(ring[base + Int(ringNext[line])], line: line)
        } else {
            ringFill[line] += 1
        }
        let packed = min(sent, 0xff) | min(received, 0xff) << 8 | rttUnits << 16 | (bad ? 1 << 31 : 0)
        ring[base + Int(ringNext[line])] = packed
        ringNext[line] = UInt8((Int(ringNext[line]) + 1) % window)
        windowSent[line] += min(sent, 0xff)
        windowReceived[line] += min(received, 0xff)
        if round.received > 0 {
            windowRTTUnits[line] += rttUnits
            windowAnswered[line] += 1
        }
        if bad {
            if badInWindow[line] == 0 { badStretchStart[line] = at }
            badInWindow[line] += 1
        }

        // Streaks.
        if round.lost {
            if lostStreak[line] == 0 { lostStreakStart[line] = at }
            lostStreak[line] &+= 1
            answeredStreak[line] = 0
            cleanStreak[line] = 0
        } else {
            lostStreak[line] = 0
            if answeredStreak[line] == 0 { answeredStreakStart[line] = at }
            answeredStreak[line] &+= 1
            if bad {
                cleanStreak[line] = 0
            } else {
                if cleanStreak[line] == 0 { cleanStreakStart[line] = at }
                cleanStreak[line] &+= 1
            }
        }

        let current = health[line]
        if Int(lostStreak[line]) >= profile.downAfter {
            guard current != .down else { return nil }
            // The outage's losses say nothing about the quality after it: start a fresh window.
            clearWindow(line)
            return change(line, to: .down, since: lostStreakStart[line],
                          detail: "\(lostStreak[line]) rounds in a row without an answer")
        }
        let degradation = degradationReason(line, profile: profile, window: window)
        switch current {
        case .down:
            guard Int(answeredStreak[line]) >= profile.upAfter else { return nil }
            return change(line, to: degradation == nil ? .up : .degraded, since: answeredStreakStart[line],
                          detail: "answered \(answeredStreak[line]) rounds in a row" + (degradation.map { "; \($0)" } ?? ""))
        case .unknown:
            guard !round.lost else { return nil }
            return change(line, to: degradation == nil ? .up : .degraded, since: at,
                          detail: degradation ?? "answered")
        case .up:
            guard let degradation else { return nil }
            return change(line, to: .degraded, since: badStretchStart[line], detail: degradation)
        case .degraded:
            guard degradation == nil, Int(cleanStreak[line]) >= profile.upAfter else { return nil }
            return change(line, to: .up, since: cleanStreakStart[line],
                          detail: "\(cleanStreak[line]) clean rounds in a row, window within thresholds")
        }
    }

    private func degradationReason(_ line: Int, profile: ProbeProfile, window: Int) -> String? {
        guard Int(ringFill[line]) >= window, windowSent[line] > 0 else { return nil }
        let loss = 1 - Double(windowReceived[line]) / Double(windowSent[line])
        let threshold = Double(profile.degradedLoss.millionths) / Double(Percentage.scale) / 100
        if loss > threshold {
            return "loss \(Int((loss * 100).rounded())) % over the last \(window) rounds (threshold \(profile.degradedLoss) %)"
        }
        if let limit = profile.degradedRTT, windowAnswered[line] > 0 {
            let averageNanoseconds = Int64(windowRTTUnits[line]) * 100_000 / Int64(windowAnswered[line])
            if averageNanoseconds > limit.nanosecondsClamped {
                return "average round trip \(averageNanoseconds / 1_000_000) ms over the last \(window) rounds "
                    + "(threshold \(limit.nanosecondsClamped / 1_000_000) ms)"
            }
        }
        return nil
    }

    private mutating func evict(_ packed: UInt32, line: Int) {
        let sent = packed & 0xff
        let received = packed >> 8 & 0xff
        let rttUnits = packed >> 16 & 0x7fff
        windowSent[line] -= sent
        windowReceived[line] -= received
        if received > 0 {
            windowRTTUnits[line] -= rttUnits
            windowAnswered[line] -= 1
        }
        if packed >> 31 != 0 { badInWindow[line] -= 1 }
    }

    private mutating func clearWindow(_ line: Int) {
        ringFill[line] = 0
        ringNext[line] = 0
        windowSent[line] = 0
        windowReceived[line] = 0
        windowRTTUnits[line] = 0
        windowAnswered[line] = 0
        badInWindow[line] = 0
    }

    private mutating func change(_ line: Int, to new: Health, since: Double, detail: String) -> VerdictChange {
        let old = health[line]
        health[line] = new
        return VerdictChange(line: line, from: old, to: new, since: Date(timeIntervalSince1970: since), detail: detail)
    }
}
