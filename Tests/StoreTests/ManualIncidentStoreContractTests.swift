import ForewarnModel
import Foundation
import Persistence
import Stores
import Testing

/// The store's part in incidents entered by hand: who entered them and when, tickets that
/// existed already, their commands and results, the look-up that refuses an entry made twice.
/// Run against every implementation, like `StoreContractTests`.
@Suite struct ManualIncidentStoreContractTests {
    typealias Contract = StoreContractTests

    static func manual(_ id: Int64, start: Double, state: Incident.State = .resolved) -> Incident {
        Incident(id: IncidentID(id), state: state, root: IncidentRoot(subject: .line("L1"), kind: .manual),
                 group: "manual", severity: .minor, startedAt: Contract.at(start), detectedAt: Contract.at(1_000),
                 resolvedAt: state == .resolved ? Contract.at(start + 60) : nil, updatedAt: Contract.at(1_000),
                 enteredBy: "eva", enteredAt: Contract.at(1_000))
    }

    @Test(arguments: Contract.implementations) func anEnteredIncidentKeepsWhoEnteredItAndItsTicket(
        _ implementation: Contract.Implementation) async throws {
        try await Contract.withStore(implementation) { store in
            let incident = Self.manual(7, start: 0)
            let change = IncidentChange(kind: .resolve, incident: incident, lines: [
                LineInterval(line: "L1", customer: "C1", start: Contract.at(0), end: Contract.at(60)),
            ], timeline: [TimelineEntry(at: Contract.at(1_000), kind: "entered", detail: "entered by hand by eva")],
                                        enteredTicket: "RT-9")
            let ticket = Ticket(incident: IncidentID(7), hook: "rt", ticketID: "RT-9", state: nil,
                                openedAt: Contract.at(1_000), updatedAt: Contract.at(1_000))
            try await store.record(CorrelationBatch(changes: [change], tickets: [ticket], at: Contract.at(1_000)))
            // A ticket the store has is never replaced by one entered later.
            var other = ticket
            other.ticketID = "RT-10"
            try await store.record(CorrelationBatch(tickets: [other], at: Contract.at(1_001)))

            let shown = try #require(try await store.incident(IncidentID(7)))
            #expect(shown.record.incident == incident)
            #expect(shown.record.incident.isManual)
            #expect(shown.record.tickets == [ticket])
            #expect(try await store.tickets(of: IncidentID(7)) == [ticket])
            // The hook holding the ticket counts as having opened it (no `open` after a restart).
            let open = Self.manual(8, start: 10, state: .open)
            try await store.record(CorrelationBatch(changes: [IncidentChange(kind: .open, incident: open, lines: [
                LineInterval(line: "L2", customer: "C2", start: Contract.at(10))])],
                tickets: [Ticket(incident: IncidentID(8), hook: "rt", ticketID: "RT-11", state: nil,
                                 openedAt: Contract.at(1_000), updatedAt: Contract.at(1_000))], at: Contract.at(1_000)))
            let recovery = try await store.recoverIncidents()
            #expect(recovery.open.map(\.incident) == [open])
            #expect(recovery.scopes[IncidentID(8)]?.opened == ["rt"])
        }
    }

    @Test(arguments: Contract.implementations) func enteredIncidentsAreFoundByTheirStart(
        _ implementation: Contract.Implementation) async throws {
        try await Contract.withStore(implementation) { store in
            try await Contract.open(1, in: store)  // detected: never listed here
            for (id, start) in [(2, 0.0), (3, 100), (4, 200)] {
                try await store.record(CorrelationBatch(changes: [IncidentChange(
                    kind: .resolve, incident: Self.manual(Int64(id), start: start),
                    lines: [LineInterval(line: "L1", customer: "C1", start: Contract.at(start), end: Contract.at(start + 60))])],
                    at: Contract.at(1_000)))
            }
            let found = try await store.manualIncidents(startingFrom: Contract.at(0), to: Contract.at(100))
            #expect(found.map(\.incident.id) == [IncidentID(2), IncidentID(3)])
            #expect(found.first?.lines.map(\.line) == ["L1"])
            #expect(try await store.manualIncidents(startingFrom: Contract.at(101), to: Contract.at(199)).isEmpty)
        }
    }

    @Test(arguments: Contract.implementations) func enteredAndCorrectedIncidentsQueueAsCommandsWithResults(
        _ implementation: Contract.Implementation) async throws {
        try await Contract.withStore(implementation) { store in
            let entry = ManualIncident(id: IncidentID(5), scope: .element("agg1"), lines: ["L1", "L2"],
                                       start: Contract.at(0), end: Contract.at(60), classification: .forceMajeure,
                                       note: "flood, \"basement\"", firstCall: Contract.at(30), ticket: "RT-1",
                                       by: "eva", at: Contract.at(100), source: "import a.csv:2")
            let open = ManualIncident(id: IncidentID(6), scope: .customer("C1"), lines: ["L1"], start: Contract.at(0),
                                      end: nil, by: "", at: Contract.at(100), source: "command line")
            let interval = LineInterval(line: "L1", customer: "C1", start: Contract.at(0), end: Contract.at(60))
            var corrected = interval
            corrected.end = nil
            let edit = IncidentEdit(incident: IncidentID(5), interval: IncidentEdit.Interval(old: interval, new: corrected),
                                    classification: .network, reason: "typo", by: "jan", at: Contract.at(200),
                                    header: Self.manual(5, start: 0))
            let add = try await store.enqueue(.addIncidents([entry, open]), at: Contract.at(100))
            let correct = try await store.enqueue(.editIncident(edit), at: Contract.at(200))
            #expect(try await store.pendingCommands(limit: 10).map(\.command) == [.addIncidents([entry, open]),
                                                                                   .editIncident(edit)])
            #expect(try await store.commandResult(add) == nil)
            try await store.record(CorrelationBatch(processedCommands: [(add, "ok"), (correct, "refused: no incident #5")],
                                                    at: Contract.at(300)))
            #expect(try await store.commandResult(add) == CommandResult(processedAt: Contract.at(300), result: "ok"))
            #expect(try await store.commandResult(correct)?.refused == true)
            #expect(try await store.commandResult(999) == nil)
        }
    }
}
