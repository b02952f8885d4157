import ForewarnModel
import Foundation
import Persistence
import Testing
import Ticketing

/// What each hook is told about incident changes, without a database.
@Suite struct TicketAnnouncerTests {
    static let epoch = Date(timeIntervalSince1970: 1_800_000_000)
    static let rt = Hook(id: "rt", target: .webhook(url: "http://127.0.0.1:1/"), events: [.open, .update, .resolve])
    static let chat = Hook(id: "chat", target: .command(arguments: ["/bin/true"]), events: [.open])
    static let inventory = TicketInventory(
        elements: [Element(id: "agg1", name: "Brno aggregation 1", address: .v4(1), kind: .aggregation)],
        customers: [Customer(id: "C1", name: "Nováková")], publicURL: "https://noc.example.net")

    static func incident(_ id: Int64, state: Incident.State = .open, severity: Severity = .major,
                         mergedInto: Int64? = nil) -> Incident {
        Incident(id: IncidentID(id), state: state, root: IncidentRoot(subject: .element("agg1"), kind: .unreachable),
                 group: "element:agg1", severity: severity, startedAt: epoch, detectedAt: epoch.addingTimeInterval(5),
                 resolvedAt: state == .resolved ? epoch.addingTimeInterval(60) : nil,
                 mergedInto: mergedInto.map { IncidentID($0) }, updatedAt: epoch)
    }

    static func interval(_ line: String, _ customer: String, start: Double = 0, end: Double? = nil) -> LineInterval {
        LineInterval(line: LineID(line), customer: CustomerID(customer), start: epoch.addingTimeInterval(start),
                     end: end.map { epoch.addingTimeInterval($0) })
    }

    static func object(_ entry: OutboxEntry) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(entry.payload.utf8)) as? [String: Any])
    }

    static func incidentObject(_ entry: OutboxEntry) throws -> [String: Any] {
        try #require(try object(entry)["incident"] as? [String: Any])
    }

    @Test func thePayloadIsCanonicalJSON() throws {
        let awkward = TicketInventory(
            elements: [Element(id: "agg1", name: "Brno \"core\"\n/ agg\u{1}", address: .v4(1), kind: .aggregation)],
            customers: [Customer(id: "C1", name: "Nováková")], publicURL: nil)
        var announcer = TicketAnnouncer(inventory: awkward)
        let change = IncidentChange(kind: .open, incident: Self.incident(7), lines: [Self.interval("L1", "C1")],
                                    announce: [.open])
        let payload = try #require(announcer.announce([change], hooks: [Self.rt]).first).payload
        // Keys in code-point order, no space, literals as JSON literals, the same bytes every time.
        #expect(payload.hasPrefix(#"{"change":"open","customers":[{"id":"C1","name":"Nováková"}],"customers_more":0,"#
                                  + #""event":"open","incident":{"classification":"network","customers":1,"#))
        #expect(payload.contains(#""flapping":false,"id":7,"#))
        #expect(payload.contains(#""merged":[],"merged_into":null,"#))
        #expect(payload.contains(#""name":"Brno \"core\"\n/ agg\u0001""#))
        var again = TicketAnnouncer(inventory: awkward)
        #expect(again.announce([change], hooks: [Self.rt]).first?.payload == payload)
        // Foundation reads it back as the same document.
        let root = try #require(try Self.incidentObject(OutboxEntry(incident: IncidentID(7), hook: "rt", event: .open,
                                                                    payload: payload))["root"] as? [String: String])
        #expect(root["name"] == "Brno \"core\"\n/ agg\u{1}")
    }

    @Test func anOpenGoesToEverySubscribedHookWithTheIncidentsScopeAndNames() throws {
        var announcer = TicketAnnouncer(inventory: Self.inventory)
        let change = IncidentChange(kind: .open, incident: Self.incident(1),
                                    lines: [Self.interval("L1", "C1"), Self.interval("L2", "C1"), Self.interval("L3", "C2")],
                                    timeline: [TimelineEntry(at: Self.epoch, kind: "opened", detail: "agg1 unreachable")],
                                    announce: [.open])
        let entries = announcer.announce([change], hooks: [Self.rt, Self.chat])
        #expect(entries.map { "\($0.hook):\($0.event.rawValue)" } == ["rt:open", "chat:open"])
        let document = try Self.object(entries[0])
        let incident = try Self.incidentObject(entries[0])
        #expect(document["event"] as? String == "open")
        #expect(incident["lines"] as? Int == 3)
        #expect(incident["customers"] as? Int == 2)
        #expect(incident["severity"] as? String == "major")
        #expect(incident["started_at"] as? String == "2027-01-15T08:00:00.000Z")
        #expect(incident["summary"] as? String == "agg1 unreachable")
        #expect(incident["resolved_at"] as? String == "")
        #expect(incident["link"] as? String == "https://noc.example.net/incidents/1")
        #expect(incident["root"] as? [String: String] == ["type": "element", "id": "agg1", "kind": "unreachable",
                                                          "name": "Brno aggregation 1", "element_kind": "aggregation"])
        #expect((document["lines"] as? [[String: String]])?.map { $0["id"] } == ["L1", "L2", "L3"])
        #expect((document["customers"] as? [[String: String]])?.first == ["id": "C1", "name": "Nováková"])
        #expect(document["lines_more"] as? Int == 0)
    }

    @Test func updatesAndResolvesFollowTheOpenAndNotWhatIsNotAnnounced() {
        var announcer = TicketAnnouncer()
        let open = IncidentChange(kind: .open, incident: Self.incident(1), announce: [.open])
        let grow = IncidentChange(kind: .grow, incident: Self.incident(1), lines: [Self.interval("L1", "C1")])
        let update = IncidentChange(kind: .update, incident: Self.incident(1), announce: [.update])
        let resolve = IncidentChange(kind: .resolve, incident: Self.incident(1, state: .resolved), announce: [.resolve])
        #expect(announcer.announce([open], hooks: [Self.rt, Self.chat]).map(\.event) == [.open, .open])
        #expect(announcer.announce([grow], hooks: [Self.rt]).isEmpty)
        #expect(announcer.announce([update], hooks: [Self.rt, Self.chat]).map { "\($0.hook):\($0.event)" } == ["rt:update"])
        #expect(announcer.announce([resolve], hooks: [Self.rt, Self.chat]).map { "\($0.hook):\($0.event)" } == ["rt:resolve"])
    }

    @Test func routingOpensTheTicketWhenTheIncidentQualifies() {
        var majors = Self.rt
        majors.routing = HookRouting(minimumSeverity: .major, minimumCustomers: 2)
        var lineCards = Self.rt
        lineCards.id = "cards"
        lineCards.routing = HookRouting(rootKinds: [.lineCard])
        var announcer = TicketAnnouncer()
        let minor = IncidentChange(kind: .open, incident: Self.incident(1, severity: .minor),
                                   lines: [Self.interval("L1", "C1")], announce: [.open])
        #expect(announcer.announce([minor], hooks: [majors, lineCards]).isEmpty)
        let grown = IncidentChange(kind: .grow, incident: Self.incident(1, severity: .major),
                                   lines: [Self.interval("L2", "C2")], announce: [.update])
        #expect(announcer.announce([grown], hooks: [majors, lineCards]).map { "\($0.hook):\($0.event)" } == ["rt:open"])
        // A resolve for a hook that never took the incident sends nothing.
        let resolve = IncidentChange(kind: .resolve, incident: Self.incident(1, state: .resolved), announce: [.resolve])
        #expect(announcer.announce([resolve], hooks: [majors, lineCards]).map { "\($0.hook):\($0.event)" } == ["rt:resolve"])
    }

    @Test func openAfterDelaysTheOpenFromDetection() throws {
        var patient = Self.rt
        patient.openAfter = .seconds(300)
        var announcer = TicketAnnouncer()
        let entries = announcer.announce([IncidentChange(kind: .open, incident: Self.incident(1), announce: [.open])],
                                         hooks: [patient, Self.chat])
        #expect(entries.map(\.notBefore) == [Self.epoch.addingTimeInterval(305), nil])
    }

    @Test func plannedIncidentsReachNoHook() {
        var announcer = TicketAnnouncer()
        var planned = Self.incident(1)
        planned.planned = true
        #expect(announcer.announce([IncidentChange(kind: .open, incident: planned, announce: [.open])], hooks: [Self.rt]).isEmpty)
    }

    @Test func aResolveCountsEveryLineTheIncidentEverHadAndNotThoseFoundUnaffected() throws {
        var announcer = TicketAnnouncer()
        _ = announcer.announce([IncidentChange(kind: .open, incident: Self.incident(1),
                                               lines: [Self.interval("L1", "C1"), Self.interval("L2", "C2"),
                                                       Self.interval("L3", "C3")], announce: [.open])], hooks: [Self.rt])
        // L3's probe answered: its interval ends where it started, it was never cut off.
        let resolve = IncidentChange(kind: .resolve, incident: Self.incident(1, state: .resolved),
                                     lines: [Self.interval("L1", "C1", end: 60), Self.interval("L2", "C2", end: 61),
                                             Self.interval("L3", "C3", end: 0)], announce: [.resolve])
        let entry = try #require(announcer.announce([resolve], hooks: [Self.rt]).first)
        let incident = try Self.incidentObject(entry)
        #expect(incident["lines"] as? Int == 2)
        #expect(incident["customers"] as? Int == 2)
        #expect(incident["resolved_at"] as? String == "2027-01-15T08:01:00.000Z")
        #expect((try Self.object(entry)["lines"] as? [[String: String]])?.first?["end"] == "2027-01-15T08:01:00.000Z")
        #expect(announcer.scope(of: IncidentID(1)).lines == 2)
    }

    @Test func aMergeMovesTheScopeAndTheSurvivorListsWhatMergedIntoIt() throws {
        var announcer = TicketAnnouncer()
        _ = announcer.announce([
            IncidentChange(kind: .open, incident: Self.incident(1), lines: [Self.interval("L1", "C1")], announce: [.open]),
            IncidentChange(kind: .open, incident: Self.incident(2), lines: [Self.interval("L2", "C2")], announce: [.open]),
        ], hooks: [Self.rt])
        // One batch: the survivor's update is written before the absorbed one, and still sees it.
        let entries = announcer.announce([
            IncidentChange(kind: .merge, incident: Self.incident(1), announce: [.update]),
            IncidentChange(kind: .absorbed, incident: Self.incident(2, state: .resolved, mergedInto: 1),
                           absorbedInto: IncidentID(1), announce: [.resolve]),
        ], hooks: [Self.rt])
        #expect(entries.map { "\($0.incident.rawValue):\($0.event.rawValue)" } == ["1:update", "2:resolve"])
        let survivor = try Self.incidentObject(entries[0])
        #expect(survivor["merged"] as? [Int64] == [2])
        #expect(survivor["lines"] as? Int == 2)
        let absorbed = try Self.incidentObject(entries[1])
        #expect(absorbed["lines"] as? Int == 0)
        #expect(absorbed["merged_into"] as? Int64 == 1)
    }

    @Test func aRestartContinuesFromTheRecoveredScope() throws {
        var announcer = TicketAnnouncer(recovered: [
            IncidentID(7): IncidentScope(lines: ["L1": "C1", "L2": "C1"], merged: [IncidentID(9), IncidentID(8)],
                                         opened: ["rt"]),
        ])
        let grow = IncidentChange(kind: .grow, incident: Self.incident(7), lines: [Self.interval("L3", "C3")],
                                  announce: [.update])
        let entries = announcer.announce([grow], hooks: [Self.rt])
        // Opened before the restart: an update, not a second open.
        #expect(entries.map(\.event) == [.update])
        let incident = try Self.incidentObject(try #require(entries.first))
        #expect(incident["lines"] as? Int == 3)
        #expect(incident["customers"] as? Int == 2)
        #expect(incident["merged"] as? [Int64] == [8, 9])
    }
}

extension TicketAnnouncerTests {
    /// An incident entered by hand with a ticket that exists already: the hooks taking it record
    /// that ticket and open none; later changes go to it like to any ticket.
    @Test func anEnteredTicketIsRecordedForTheHooksTakingTheIncidentAndNoneIsOpened() {
        var announcer = TicketAnnouncer(inventory: Self.inventory)
        let pager = Hook(id: "pager", target: .command(arguments: ["/bin/true"]), events: [.open],
                         routing: HookRouting(minimumSeverity: .critical))
        var incident = Self.incident(4, severity: .minor)
        incident.root.kind = .manual
        let entered = IncidentChange(kind: .open, incident: incident, lines: [Self.interval("L1", "C1")],
                                     enteredTicket: "RT-77")
        let told = announcer.announcements([entered], hooks: [Self.rt, pager])
        #expect(told.outbox.isEmpty)
        #expect(told.tickets.map { "\($0.hook):\($0.ticketID)" } == ["rt:RT-77"])
        #expect(told.tickets.first?.openedAt == incident.detectedAt)
        var resolved = incident
        resolved.state = .resolved
        let later = announcer.announce([IncidentChange(kind: .resolve, incident: resolved, announce: [.resolve])],
                                       hooks: [Self.rt, pager])
        #expect(later.map { "\($0.hook):\($0.event.rawValue)" } == ["rt:resolve"])

        // No hook takes it: the ticket is still recorded (listings show it), for no hook.
        let alone = announcer.announcements([IncidentChange(kind: .open, incident: Self.incident(5, severity: .minor),
                                                            enteredTicket: "RT-78")], hooks: [pager])
        #expect(alone.tickets.map { "\($0.hook.rawValue):\($0.ticketID)" } == [":RT-78"])
        #expect(alone.outbox.isEmpty)
    }
}
