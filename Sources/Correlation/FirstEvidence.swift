import ForewarnModel
import Foundation

/// After a restart the sources learn every fault again and date it from their own first failure
/// after the start. The store's transitions still hold the first evidence of faults that were
/// in their hold-down when the daemon went (nothing decided on them yet, so nothing restored):
/// the first observation of the same state takes that start instead, so the outage is not
/// re-dated by the restart.
extension Correlator {
    /// `transitions`: per subject still bad in the store, the transitions since its last `up`
    /// (`IncidentRecovery.firstEvidence`). Call after `recover`, before the first observation.
    public mutating func restoreFirstEvidence(_ transitions: [StateTransition]) {
        for transition in transitions where transition.to == .down || transition.to == .degraded {
            guard let key = topology.faultKey(of: transition.subject) else { continue }
            let at = transition.at.timeIntervalSince1970
            firstEvidence[key, default: [:]][transition.to] = min(firstEvidence[key]?[transition.to] ?? at, at)
        }
    }

    /// The start of a fault observed as `health` since `observedSince`: the recorded first
    /// evidence of that state when this is the subject's first observation since the restart and
    /// no fault is held for it. Any first observation uses up the subject's evidence.
    mutating func recordedStart(of key: FaultKey, health: Health, observedSince: Double) -> Double {
        guard let recorded = firstEvidence.removeValue(forKey: key), faults[key] == nil,
              let start = recorded[health], start < observedSince else { return observedSince }
        return start
    }
}
