import ForewarnModel
import Foundation
import Persistence
import Testing

/// Recovery after a restart carries the first evidence of the subjects still bad (contract).
@Suite struct FirstEvidenceContractTests {
    @Test(arguments: StoreContractTests.implementations)
    func recoveryCarriesTheTransitionsOfSubjectsStillBadSinceTheirLastUp(_ implementation: StoreContractTests.Implementation) async throws {
        try await StoreContractTests.withStore(implementation) { store in
            let now = Date()
            func at(_ secondsAgo: Double) -> Date { Date(unixMilliseconds: now.addingTimeInterval(-secondsAgo).unixMilliseconds) }
            func transition(_ subject: Subject, _ from: Health, _ to: Health, _ secondsAgo: Double) -> StateTransition {
                StateTransition(subject: subject, from: from, to: to, at: at(secondsAgo), evidence: "e")
            }
            let stillDown = [transition(.line("L1"), .up, .down, 100), transition(.line("L1"), .down, .up, 90),
                             transition(.line("L1"), .up, .degraded, 60), transition(.line("L1"), .degraded, .down, 50)]
            let recovered = [transition(.line("L2"), .up, .down, 40), transition(.line("L2"), .down, .up, 30)]
            let element = [transition(.element("acc1"), .unknown, .down, 20)]
            let tooOld = [transition(.line("L3"), .up, .down, IncidentRecovery.firstEvidenceWindow + 60)]
            try await store.appendTransitions(stillDown + recovered + element + tooOld)

            let evidence = try await store.recoverIncidents().firstEvidence
            #expect(evidence == Array(stillDown[2...]) + element)
        }
    }
}
