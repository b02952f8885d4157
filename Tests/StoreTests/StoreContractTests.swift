import ForewarnModel
import Foundation
import Persistence
import Stores
import Synchronization
import Testing

/// The contract every store implementation keeps, run against each of them (SQLite today; the
/// PostgreSQL store joins `StoreContractTests.implementations`). Only the protocols are used.
@Suite struct StoreContractTests {
    struct Implementation: Sendable, CustomTestStringConvertible {
        var name: String
        /// A fresh, empty store in `folder` (SQLite) or in a database of its own (PostgreSQL).
        var make: @Sendable (_ folder: String) async throws -> any Store
        /// Whatever `make` made beside the folder, removed.
        var remove: @Sendable (_ store: any Store) async -> Void = { _ in }
        var testDescription: String { name }
    }

    /// SQLite always; PostgreSQL when the test script started a server (`make test` does).
    static let implementations: [Implementation] = {
        var all = [Implementation(name: "sqlite") { folder in try StoreFactory.open(folder + "/forewarn.sqlite", access: .create) }]
        if TestPostgres.url != nil {
            all.append(Implementation(name: "postgresql", make: { _ in
                let url = try await TestPostgres.createDatabase()
                PostgresDatabases.shared.remember(url)
                return try StoreFactory.open(url, access: .create)
            }, remove: { store in
                if let url = PostgresDatabases.shared.url(displayed: store.location) { await TestPostgres.dropDatabase(url) }
            }))
        }
        return all
    }()

    static let epoch = Date(unixMilliseconds: 1_800_000_000_000)
    static func at(_ seconds: Double) -> Date { epoch.addingTimeInterval(seconds) }

    static func withStore(_ implementation: Implementation, _ body: (any Store) async throws -> Void) async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let store = try await implementation.make(temporary.folder)
        do {
            try await body(store)
        } catch {
            await implementation.remove(store)
            throw error
        }
        await implementation.remove(store)
    }

    static func incident(_ id: Int64, state: Incident.State = .open, classification: Classification = .network,
                         resolvedAt: Date? = nil) -> Incident {
        Incident(id: IncidentID(id), state: state, root: IncidentRoot(subject: .element("agg1"), kind: .unreachable),
                 group: "element:agg1", severity: .major, classification: classification, startedAt: at(0),
                 detectedAt: at(5), resolvedAt: resolvedAt, updatedAt: at(5))
    }

    static func entry(_ incident: Int64, _ hook: HookID, _ event: Hook.Event) -> OutboxEntry {
        OutboxEntry(incident: IncidentID(incident), hook: hook, event: event, payload: #"{"id":\#(incident)}"#)
    }

    /// Opens incident `id` with lines L1 (C1) and L2 (C2) from t=0 and an outbox `open` for `hooks`.
    static func open(_ id: Int64, in store: any Store, hooks: [HookID] = ["rt"]) async throws {
        let change = IncidentChange(
            kind: .open, incident: incident(id),
            lines: [LineInterval(line: "L1", customer: "C1", start: at(0)), LineInterval(line: "L2", customer: "C2", start: at(0))],
            faults: [FaultRecord(subject: .element("agg1"), health: .down, since: at(0), detectedAt: at(5))],
            timeline: [TimelineEntry(at: at(5), kind: "opened", detail: "agg1 unreachable")], announce: [.open])
        try await store.record(CorrelationBatch(changes: [change], outbox: hooks.map { entry(id, $0, .open) }, at: at(5)))
    }

    @Test(arguments: implementations) func heartbeatsKeepTheLatestPerInstanceNewestFirst(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            func beat(_ instance: String, _ seconds: Double, _ state: Heartbeat.State) -> Heartbeat {
                Heartbeat(instance: instance, pid: 7, hostname: "noc1", version: "0.1.0", configPath: "/etc/f.yaml",
                          startedAt: Self.at(0), beatAt: Self.at(seconds), state: state, elements: 3, lines: 20,
                          customers: 10, contracts: 2)
            }
            try await store.writeHeartbeat(beat("a", 1, .running))
            try await store.writeHeartbeat(beat("b", 2, .running))
            try await store.writeHeartbeat(beat("a", 3, .stopped))
            #expect(try await store.heartbeats() == [beat("a", 3, .stopped), beat("b", 2, .running)])
        }
    }

    @Test(arguments: implementations) func heartbeatsCarryCollectionHealthAndTheConfigurationLoadTime(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            var beat = Heartbeat(instance: "a", pid: 7, hostname: "noc1", version: "0.1.0", configPath: "/etc/f.yaml",
                                 startedAt: Self.at(0), beatAt: Self.at(1), state: .running, elements: 3, lines: 20,
                                 customers: 10, contracts: 2, configLoadedAt: Self.at(0.5), interval: .seconds(5))
            try await store.writeHeartbeat(beat)
            #expect(try await store.heartbeats() == [beat])
            beat.beatAt = Self.at(6)
            beat.collection = CollectionHealth(elementsReachable: 1, elementsUnreachable: 1, elementsNotPolled: 1,
                                               linesUp: 12, linesDown: 3, linesDegraded: 2, linesUnknown: 1,
                                               linesUnprobed: 2, pollsPerSecond: 0.5, probesPerSecond: 3.3,
                                               trapsPerSecond: 0.1, lastTrapAt: Self.at(4), snmpTimeouts: 9)
            try await store.writeHeartbeat(beat)
            #expect(try await store.heartbeats() == [beat])
            // A later beat without a measurement does not keep the old one.
            beat.collection = nil
            beat.beatAt = Self.at(7)
            try await store.writeHeartbeat(beat)
            #expect(try await store.heartbeats().first?.collection == nil)
        }
    }

    @Test(arguments: implementations) func transitionsComeBackOldestFirstBySubjectAndTime(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            let transitions = [
                StateTransition(subject: .element("agg1"), from: .unknown, to: .up, at: Self.at(1), evidence: "poll"),
                StateTransition(subject: .port("agg1", .ifName("ge-0/0/1")), from: .up, to: .down, at: Self.at(2),
                                evidence: "linkDown trap"),
                StateTransition(subject: .line("L1"), from: .up, to: .down, at: Self.at(3), evidence: "3 lost rounds"),
            ]
            try await store.appendTransitions(transitions)
            #expect(try await store.transitions(of: nil, since: Self.at(0)) == transitions)
            #expect(try await store.transitions(of: .line("L1"), since: Self.at(0)) == [transitions[2]])
            #expect(try await store.transitions(of: nil, since: Self.at(2)) == Array(transitions[1...]))
        }
    }

    @Test(arguments: implementations) func anIncidentBatchComesBackListedShownAndRecovered(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            try await Self.open(1, in: store)
            let end = IncidentChange(kind: .shrink, incident: Self.incident(1),
                                     lines: [LineInterval(line: "L2", customer: "C2", start: Self.at(0), end: Self.at(30))])
            try await store.record(CorrelationBatch(changes: [end], at: Self.at(30)))

            let listed = try await store.incidents(openOnly: true, since: nil)
            #expect(listed.map(\.incident) == [Self.incident(1)])
            #expect(listed.first?.lines.map(\.line) == ["L1", "L2"])
            #expect(listed.first?.customers == ["C1", "C2"])
            #expect(listed.first?.ticket == nil)

            let shown = try #require(try await store.incident(IncidentID(1)))
            #expect(shown.timeline == [TimelineEntry(at: Self.at(5), kind: "opened", detail: "agg1 unreachable")])
            #expect(try await store.incident(IncidentID(2)) == nil)

            let recovery = try await store.recoverIncidents()
            #expect(recovery.open.map(\.incident.id) == [IncidentID(1)])
            #expect(recovery.open.first?.lines == [LineInterval(line: "L1", customer: "C1", start: Self.at(0))])
            #expect(recovery.open.first?.faults.map(\.subject) == [.element("agg1")])
            #expect(recovery.scopes[IncidentID(1)] == IncidentScope(lines: ["L1": "C1", "L2": "C2"], merged: [], opened: ["rt"]))
        }
    }

    @Test(arguments: implementations) func incidentIDsAreNeverHandedOutTwice(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            let first = try await store.reserveIncidentIDs(64)
            let second = try await store.reserveIncidentIDs(1)
            #expect(first == 1 ..< 65)
            #expect(second == 65 ..< 66)
            // Given back only when nobody reserved after it: never twice, never over another's.
            try await store.releaseIncidentIDs(first.dropFirst(3))
            #expect(try await store.reserveIncidentIDs(1) == 66 ..< 67)
            try await store.releaseIncidentIDs(66 ..< 67)
            #expect(try await store.reserveIncidentIDs(2) == 66 ..< 68)
        }
    }

    @Test(arguments: implementations) func commandsQueueInOrderUntilProcessed(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            let window = MaintenanceWindow(id: "MW1", start: Self.at(0), end: Self.at(3600), elements: ["agg1"],
                                           lines: [], reason: "swap")
            let call = OperatorCommand.reportCall(CustomerReport(line: "L1", at: Self.at(1), note: "down", source: "cli"))
            let first = try await store.enqueue(call, at: Self.at(1))
            _ = try await store.enqueue(.maintenanceAdd(window), at: Self.at(2))
            #expect(try await store.pendingCommands(limit: 10).map(\.command) == [call, .maintenanceAdd(window)])
            try await store.record(CorrelationBatch(processedCommands: [(first, "ok")], at: Self.at(3)))
            #expect(try await store.pendingCommands(limit: 10).map(\.command) == [.maintenanceAdd(window)])
            #expect(try await store.maintenanceWindows() == [window])
        }
    }

    @Test(arguments: implementations) func theOutboxDeliversInOrderPerIncidentAndHookAndKeepsTheTicket(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            try await Self.open(1, in: store, hooks: ["rt", "chat"])
            try await store.record(CorrelationBatch(changes: [IncidentChange(kind: .update, incident: Self.incident(1))],
                                                    outbox: [Self.entry(1, "rt", .update), Self.entry(1, "rt", .open)],
                                                    at: Self.at(10)))
            // A second `open` for the same incident and hook is never stored.
            #expect(try await store.outbox(.pending, limit: 10).map { "\($0.entry.hook):\($0.entry.event)" }
                    == ["rt:open", "chat:open", "rt:update"])

            // Only the head of each queue is due; a claimed one is not handed out again.
            let claimed = try await store.claimOutbox(limit: 10, now: Self.at(10), lease: .seconds(30))
            #expect(claimed.map { "\($0.entry.hook):\($0.entry.event)" } == ["rt:open", "chat:open"])
            #expect(try await store.claimOutbox(limit: 10, now: Self.at(11), lease: .seconds(30)).isEmpty)

            let rtOpen = claimed[0].id
            try await store.markAttempt(rtOpen, at: Self.at(11))
            try await store.markFailed(rtOpen, at: Self.at(12), error: "503 Service Unavailable", retryAt: Self.at(20),
                                       uncertain: false, timeline: TimelineEntry(at: Self.at(12), kind: "ticket",
                                                                                 detail: "rt: open failed, retrying"))
            #expect(try await store.claimOutbox(limit: 10, now: Self.at(15), lease: .seconds(30)).isEmpty)
            let retried = try await store.claimOutbox(limit: 10, now: Self.at(20), lease: .seconds(30))
            #expect(retried.map(\.id) == [rtOpen])
            #expect(retried.first?.attempts == 1)
            #expect(retried.first?.lastError == "503 Service Unavailable")
            #expect(retried.first?.uncertain == false)

            // Sent, and no answer recorded (a crash): the entry stays uncertain.
            try await store.markAttempt(rtOpen, at: Self.at(20))
            try await store.releaseOutboxClaims()
            let reclaimed = try await store.claimOutbox(limit: 10, now: Self.at(20), lease: .seconds(30))
            #expect(reclaimed.first { $0.id == rtOpen }?.uncertain == true)

            try await store.markDone([rtOpen], at: Self.at(21), outcome: .sent, note: nil,
                                     ticket: TicketUpdate(ticketID: "RT-42", state: "new"),
                                     timeline: TimelineEntry(at: Self.at(21), kind: "ticket", detail: "rt: ticket RT-42 opened"))
            let next = try await store.claimOutbox(limit: 10, now: Self.at(21), lease: .seconds(30))
            #expect(next.map { "\($0.entry.hook):\($0.entry.event)" } == ["rt:update"])
            try await store.markDone([next[0].id], at: Self.at(22), outcome: .sent, note: nil,
                                     ticket: TicketUpdate(ticketID: nil, state: "open"), timeline: nil)

            let tickets = try await store.tickets(of: IncidentID(1))
            #expect(tickets == [Ticket(incident: IncidentID(1), hook: "rt", ticketID: "RT-42", state: "open",
                                       openedAt: Self.at(21), updatedAt: Self.at(22))])
            #expect(try await store.incidents(openOnly: false, since: nil).first?.ticket?.ticketID == "RT-42")
            #expect(try await store.outboxQueue(incident: IncidentID(1), hook: "rt").ticket?.ticketID == "RT-42")
            #expect(try await store.outboxQueue(incident: IncidentID(1), hook: "chat").ticket == nil)
            #expect(try await store.outbox(.delivered, limit: 10).map(\.outcome) == [.sent, .sent])
            #expect(try await store.outboxBacklog() == [OutboxBacklog(hook: "chat", pending: 1, oldestPending: Self.at(5), dead: 0)])
            // The outcomes' timeline entries were written with them.
            let timeline = try #require(try await store.incident(IncidentID(1))).timeline.filter { $0.kind == "ticket" }
            #expect(timeline.map(\.detail) == ["rt: open failed, retrying", "rt: ticket RT-42 opened"])
        }
    }

    @Test(arguments: implementations) func aDeadEntryWaitsAndHoldsWhatIsBehindIt(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            try await Self.open(1, in: store)
            try await store.record(CorrelationBatch(outbox: [Self.entry(1, "rt", .resolve)], at: Self.at(10)))
            let open = try #require(try await store.claimOutbox(limit: 1, now: Self.at(10), lease: .seconds(30)).first)
            try await store.markFailed(open.id, at: Self.at(11), error: "400 Bad Request: no such queue", retryAt: nil,
                                       uncertain: false, timeline: nil)
            #expect(try await store.outbox(.dead, limit: 10).map(\.id) == [open.id])
            #expect(try await store.outbox(.dead, limit: 10).first?.failedAt == Self.at(11))
            // The resolve needs the open's ticket: it waits behind the dead open.
            #expect(try await store.claimOutbox(limit: 10, now: Self.at(100), lease: .seconds(30)).isEmpty)
            #expect(try await store.outbox(.pending, limit: 10).map(\.entry.event) == [.resolve])
            #expect(try await store.outboxBacklog() == [OutboxBacklog(hook: "rt", pending: 1, oldestPending: Self.at(10), dead: 1)])

            // Retried by an operator, it is due again; dropped, the resolve behind it comes up.
            #expect(try await store.scheduleOutbox([open.id], at: Self.at(200)) == 1)
            #expect(try await store.claimOutbox(limit: 10, now: Self.at(200), lease: .seconds(30)).map(\.id) == [open.id])
            #expect(try await store.dropOutbox([open.id], at: Self.at(201), reason: "opened by hand as RT-7") == 1)
            #expect(try await store.dropOutbox([open.id], at: Self.at(202), reason: "again") == 0)
            let queue = try await store.outboxQueue(incident: IncidentID(1), hook: "rt")
            #expect(queue.entries.map(\.entry.event) == [.resolve])
            #expect(queue.ticket == nil)
            #expect(try await store.outbox(.delivered, limit: 10).first?.outcome == .dropped)
        }
    }

    @Test(arguments: implementations) func notBeforeHoldsAnEntryAndTheTimelineTakesDeliveries(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            try await Self.open(1, in: store, hooks: [])
            try await store.record(CorrelationBatch(outbox: [OutboxEntry(incident: IncidentID(1), hook: "rt", event: .open,
                                                                         payload: "{}", notBefore: Self.at(300))],
                                                    at: Self.at(10)))
            #expect(try await store.claimOutbox(limit: 10, now: Self.at(299), lease: .seconds(30)).isEmpty)
            let claimed = try await store.claimOutbox(limit: 10, now: Self.at(300), lease: .seconds(30))
            #expect(claimed.count == 1)
            try await store.markDone(claimed.map(\.id), at: Self.at(301), outcome: .sent, note: nil,
                                     ticket: TicketUpdate(ticketID: "7", state: nil),
                                     timeline: TimelineEntry(at: Self.at(301), kind: "ticket", detail: "hook rt: ticket 7 opened"))
            let timeline = try #require(try await store.incident(IncidentID(1))).timeline
            #expect(timeline.last == TimelineEntry(at: Self.at(301), kind: "ticket", detail: "hook rt: ticket 7 opened"))
        }
    }

    @Test(arguments: implementations) func theLedgerKeepsExactAmounts(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            let entries = [
                LedgerEntry(period: "2026-11", line: "L1", customer: "C1", contract: "basic", kind: .credit,
                            amount: Money(minorUnits: 4_000, currency: "CZK"), outageMilliseconds: 10_800_000,
                            reason: "incident #1", createdAt: Self.at(0)),
                LedgerEntry(period: "2026-11", line: "L1", customer: "C1", contract: "basic", kind: .adjustment,
                            amount: Money(minorUnits: -1, currency: "CZK"), outageMilliseconds: -1_000,
                            reason: "incident #1 corrected", createdAt: Self.at(1)),
                LedgerEntry(period: "2026-12", line: "L2", customer: "C2", contract: "basic", kind: .credit,
                            amount: Money(minorUnits: 9_223_372_036_854_775_807, currency: "EUR"), outageMilliseconds: 1,
                            reason: "incident #2", createdAt: Self.at(2)),
            ]
            try await store.appendLedger(entries)
            #expect(try await store.ledger(period: "2026-11") == Array(entries[0...1]))
            #expect(try await store.ledger(period: "2026-12") == [entries[2]])
            #expect(try await store.ledger(period: "2027-01").isEmpty)
        }
    }

    @Test(arguments: implementations) func lineIntervalsOverlappingAPeriodComeWithTheirIncident(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            try await Self.open(1, in: store)
            let resolved = Self.incident(1, state: .resolved, classification: .forceMajeure, resolvedAt: Self.at(60))
            try await store.record(CorrelationBatch(changes: [IncidentChange(kind: .resolve, incident: resolved, lines: [
                LineInterval(line: "L1", customer: "C1", start: Self.at(0), end: Self.at(60)),
                LineInterval(line: "L2", customer: "C2", start: Self.at(0), end: Self.at(20)),
            ])], at: Self.at(60)))
            let overlapping = try await store.lineIntervals(from: Self.at(30), to: Self.at(90))
            #expect(overlapping == [IncidentLineInterval(incident: resolved, interval: LineInterval(
                line: "L1", customer: "C1", start: Self.at(0), end: Self.at(60)))])
            #expect(try await store.lineIntervals(from: Self.at(60), to: Self.at(90)).isEmpty)
            #expect(try await store.lineIntervals(from: Self.at(-10), to: Self.at(1)).map(\.interval.line) == ["L1", "L2"])
        }
    }
    static func detected(_ id: Int64, at seconds: Double, lines: [LineInterval] = []) -> IncidentChange {
        var header = incident(id)
        header.detectedAt = at(seconds)
        header.startedAt = at(seconds - 5)
        return IncidentChange(kind: .open, incident: header, lines: lines)
    }

    @Test(arguments: implementations) func incidentsDetectedInARangeComeByID(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            try await store.record(CorrelationBatch(changes: [Self.detected(3, at: 100), Self.detected(1, at: 50),
                                                              Self.detected(2, at: 200), Self.detected(4, at: 10)],
                                                    at: Self.at(200)))
            // From inclusive, to exclusive.
            #expect(try await store.incidents(detectedFrom: Self.at(50), to: Self.at(200)).map(\.id) == [IncidentID(1), IncidentID(3)])
            #expect(try await store.incidents(detectedFrom: Self.at(0), to: Self.at(1_000)).map(\.detectedAt)
                    == [Self.at(50), Self.at(200), Self.at(100), Self.at(10)])
        }
    }

    @Test(arguments: implementations) func aReportLineTableHoldsEveryOverlappingIntervalInLineOrder(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            func interval(_ line: LineID, _ customer: CustomerID, _ start: Double, _ end: Double?) -> LineInterval {
                LineInterval(line: line, customer: customer, start: Self.at(start), end: end.map(Self.at))
            }
            try await store.record(CorrelationBatch(changes: [
                Self.detected(1, at: 5, lines: [interval("L2", "C2", 0, 60), interval("L10", "C1", 30, nil), interval("L1", "C1", 0, 10)]),
                Self.detected(2, at: 25, lines: [interval("L2", "C2", 20, 40), interval("L1", "C9", -50, -20)]),
                Self.detected(3, at: 95, lines: [interval("L3", "C3", 90, 120)]),
            ], at: Self.at(100)))
            let table = Self.joined(try await store.reportLineTables(from: Self.at(5), to: Self.at(90)))
            // L1's interval [-50, -20) and L3's [90, 120) do not overlap [5, 90); lines by id bytes.
            #expect(table.lines == ["L1", "L10", "L2"])
            #expect(table.customers == ["C1", "C1", "C2"])
            #expect(table.lineBounds == [0, 1, 2, 4])
            #expect(table.intervalStarts == [0, 30, 0, 20].map { Self.at($0).unixMilliseconds })
            #expect(table.intervalEnds == [Self.at(10).unixMilliseconds, LineOutageTable.stillOpen,
                                           Self.at(60).unixMilliseconds, Self.at(40).unixMilliseconds])
            #expect(table.intervalIncidents == [1, 1, 1, 2])
            #expect(Set(table.incidents.keys) == [IncidentID(1), IncidentID(2)])
            #expect(table.incidents[IncidentID(2)]?.detectedAt == Self.at(25))
            #expect(Self.joined(try await store.reportLineTables(from: Self.at(200), to: Self.at(300))).lines == ["L10"])
            let empty = Self.joined(try await store.reportLineTables(from: Self.at(-100), to: Self.at(-60)))
            #expect(empty.lines.isEmpty && empty.lineBounds == [0] && empty.incidents.isEmpty)
        }
    }

    /// Parts of a report's line table as one table; every line in one part, the parts in line order.
    static func joined(_ parts: [LineOutageTable]) -> LineOutageTable {
        var table = LineOutageTable()
        for part in parts {
            if let last = table.lines.last, let first = part.lines.first {
                #expect(last.rawValue.utf8.lexicographicallyPrecedes(first.rawValue.utf8), "parts out of line order")
            }
            let offset = table.intervalCount
            table.lines += part.lines
            table.customers += part.customers
            table.lineBounds += part.lineBounds.dropFirst().map { $0 + offset }
            table.intervalStarts += part.intervalStarts
            table.intervalEnds += part.intervalEnds
            table.intervalIncidents += part.intervalIncidents
            table.incidents.merge(part.incidents) { first, _ in first }
        }
        return table
    }

    @Test(arguments: implementations) func ledgerTotalsSumEachPeriodPerCurrency(_ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            func entry(_ period: String, _ line: LineID, _ minor: Int64, _ currency: String,
                       _ kind: LedgerEntry.Kind = .credit) -> LedgerEntry {
                LedgerEntry(period: period, line: line, customer: "C1", contract: "basic", kind: kind,
                            amount: Money(minorUnits: minor, currency: currency), outageMilliseconds: 1_000,
                            reason: "incident #1", createdAt: Self.at(0), adjusts: kind == .adjustment ? "2026-10" : nil)
            }
            try await store.appendLedger([entry("2026-11", "L1", 4_000, "CZK"), entry("2026-11", "L2", 1_500, "CZK"),
                                          entry("2026-11", "L3", 99, "EUR"), entry("2026-11", "L1", -500, "CZK", .adjustment),
                                          entry("2026-12", "L1", 7, "CZK")])
            let totals = try await store.ledgerTotals(periods: ["2026-11", "2026-12", "2027-01"])
            #expect(totals == ["2026-11": ["CZK": 5_000, "EUR": 99], "2026-12": ["CZK": 7]])
        }
    }
}

/// The store's part in incidents entered by hand: who entered them and when, tickets that
/// existed already, their commands and results, the look-up that refuses an entry made twice.
extension StoreContractTests {
    static func manualIncident(_ id: Int64, start: Double, state: Incident.State = .resolved) -> Incident {
        Incident(id: IncidentID(id), state: state, root: IncidentRoot(subject: .line("L1"), kind: .manual),
                 group: "manual", severity: .minor, startedAt: Self.at(start), detectedAt: Self.at(1_000),
                 resolvedAt: state == .resolved ? Self.at(start + 60) : nil, updatedAt: Self.at(1_000),
                 enteredBy: "eva", enteredAt: Self.at(1_000))
    }

    @Test(arguments: implementations) func anEnteredIncidentKeepsWhoEnteredItAndItsTicket(
        _ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            let incident = Self.manualIncident(7, start: 0)
            let change = IncidentChange(kind: .resolve, incident: incident, lines: [
                LineInterval(line: "L1", customer: "C1", start: Self.at(0), end: Self.at(60)),
            ], timeline: [TimelineEntry(at: Self.at(1_000), kind: "entered", detail: "entered by hand by eva")],
                                        enteredTicket: "RT-9")
            let ticket = Ticket(incident: IncidentID(7), hook: "rt", ticketID: "RT-9", state: nil,
                                openedAt: Self.at(1_000), updatedAt: Self.at(1_000))
            try await store.record(CorrelationBatch(changes: [change], tickets: [ticket], at: Self.at(1_000)))
            // A ticket the store has is never replaced by one entered later.
            var other = ticket
            other.ticketID = "RT-10"
            try await store.record(CorrelationBatch(tickets: [other], at: Self.at(1_001)))

            let shown = try #require(try await store.incident(IncidentID(7)))
            #expect(shown.record.incident == incident)
            #expect(shown.record.incident.isManual)
            #expect(shown.record.tickets == [ticket])
            #expect(try await store.tickets(of: IncidentID(7)) == [ticket])
            // The hook holding the ticket counts as having opened it (no `open` after a restart).
            let open = Self.manualIncident(8, start: 10, state: .open)
            try await store.record(CorrelationBatch(changes: [IncidentChange(kind: .open, incident: open, lines: [
                LineInterval(line: "L2", customer: "C2", start: Self.at(10))])],
                tickets: [Ticket(incident: IncidentID(8), hook: "rt", ticketID: "RT-11", state: nil,
                                 openedAt: Self.at(1_000), updatedAt: Self.at(1_000))], at: Self.at(1_000)))
            let recovery = try await store.recoverIncidents()
            #expect(recovery.open.map(\.incident) == [open])
            #expect(recovery.scopes[IncidentID(8)]?.opened == ["rt"])
        }
    }

    @Test(arguments: implementations) func enteredIncidentsAreFoundByTheirStart(
        _ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            try await Self.open(1, in: store)  // detected: never listed here
            for (id, start) in [(2, 0.0), (3, 100), (4, 200)] {
                try await store.record(CorrelationBatch(changes: [IncidentChange(
                    kind: .resolve, incident: Self.manualIncident(Int64(id), start: start),
                    lines: [LineInterval(line: "L1", customer: "C1", start: Self.at(start), end: Self.at(start + 60))])],
                    at: Self.at(1_000)))
            }
            let found = try await store.manualIncidents(startingFrom: Self.at(0), to: Self.at(100))
            #expect(found.map(\.incident.id) == [IncidentID(2), IncidentID(3)])
            #expect(found.first?.lines.map(\.line) == ["L1"])
            #expect(try await store.manualIncidents(startingFrom: Self.at(101), to: Self.at(199)).isEmpty)
        }
    }

    @Test(arguments: implementations) func enteredAndCorrectedIncidentsQueueAsCommandsWithResults(
        _ implementation: Implementation) async throws {
        try await Self.withStore(implementation) { store in
            let entry = ManualIncident(id: IncidentID(5), scope: .element("agg1"), lines: ["L1", "L2"],
                                       start: Self.at(0), end: Self.at(60), classification: .forceMajeure,
                                       note: "flood, \"basement\"", firstCall: Self.at(30), ticket: "RT-1",
                                       by: "eva", at: Self.at(100), source: "import a.csv:2")
            let open = ManualIncident(id: IncidentID(6), scope: .customer("C1"), lines: ["L1"], start: Self.at(0),
                                      end: nil, by: "", at: Self.at(100), source: "command line")
            let interval = LineInterval(line: "L1", customer: "C1", start: Self.at(0), end: Self.at(60))
            var corrected = interval
            corrected.end = nil
            let edit = IncidentEdit(incident: IncidentID(5), interval: IncidentEdit.Interval(old: interval, new: corrected),
                                    classification: .network, reason: "typo", by: "jan", at: Self.at(200),
                                    header: Self.manualIncident(5, start: 0))
            let add = try await store.enqueue(.addIncidents([entry, open]), at: Self.at(100))
            let correct = try await store.enqueue(.editIncident(edit), at: Self.at(200))
            #expect(try await store.pendingCommands(limit: 10).map(\.command) == [.addIncidents([entry, open]),
                                                                                   .editIncident(edit)])
            #expect(try await store.commandResult(add) == nil)
            try await store.record(CorrelationBatch(processedCommands: [(add, "ok"), (correct, "refused: no incident #5")],
                                                    at: Self.at(300)))
            #expect(try await store.commandResult(add) == CommandResult(processedAt: Self.at(300), result: "ok"))
            #expect(try await store.commandResult(correct)?.refused == true)
            #expect(try await store.commandResult(999) == nil)
        }
    }
}
