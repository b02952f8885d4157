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

    static func incident(_ id: Int64, state: Incident.State = .open, mergedInto: Int64? = nil) -> Incident {
        Incident(id: IncidentID(id), state: state, root: IncidentRoot(subject: .element("agg1"), kind: .unreachable),
                 group: "element:agg1", severity: .major, startedAt: epoch, detectedAt: epoch.addingTimeInterval(5),
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

    @Test func anOpenGoesToEverySubscribedHookWithTheIncidentsScope() throws {
        var announcer = TicketAnnouncer()
        let change = IncidentChange(kind: .open, incident: Self.incident(1),
                                    lines: [Self.interval("L1", "C1"), Self.interval("L2", "C1"), Self.interval("L3", "C2")],
                                    timeline: [TimelineEntry(at: Self.epoch, kind: "opened", detail: "agg1 unreachable")],
                                    announce: [.open])
        let entries = announcer.announce([change], hooks: [Self.rt, Self.chat])
        #expect(entries.map { "\($0.hook):\($0.event.rawValue)" } == ["rt:open", "chat:open"])
        let payload = try Self.object(entries[0])
        #expect(payload["lines"] as? Int == 3)
        #expect(payload["customers"] as? Int == 2)
        #expect(payload["event"] as? String == "open")
        #expect(payload["severity"] as? String == "major")
        #expect(payload["started_at"] as? String == "2027-01-15T08:00:00.000Z")
        #expect(payload["summary"] as? String == "agg1 unreachable")
        #expect(payload["resolved_at"] is NSNull)
    }

    @Test func changesNotAnnouncedOrNotSubscribedMakeNoEntry() {
        var announcer = TicketAnnouncer()
        let grow = IncidentChange(kind: .grow, incident: Self.incident(1), lines: [Self.interval("L1", "C1")])
        let update = IncidentChange(kind: .update, incident: Self.incident(1), announce: [.update])
        #expect(announcer.announce([grow], hooks: [Self.rt]).isEmpty)
        #expect(announcer.announce([update], hooks: [Self.chat]).isEmpty)
        #expect(announcer.announce([update], hooks: [Self.rt]).map(\.event) == [.update])
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
        let payload = try Self.object(try #require(announcer.announce([resolve], hooks: [Self.rt]).first))
        #expect(payload["lines"] as? Int == 2)
        #expect(payload["customers"] as? Int == 2)
        #expect(payload["resolved_at"] as? String == "2027-01-15T08:01:00.000Z")
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
        let survivor = try Self.object(entries[0])
        #expect(survivor["merged"] as? [Int64] == [2])
        #expect(survivor["lines"] as? Int == 2)
        let absorbed = try Self.object(entries[1])
        #expect(absorbed["lines"] as? Int == 0)
        #expect(absorbed["merged_into"] as? Int64 == 1)
    }

    @Test func aRestartContinuesFromTheRecoveredScope() throws {
        var announcer = TicketAnnouncer(recovered: [
            IncidentID(7): IncidentScope(lines: ["L1": "C1", "L2": "C1"], merged: [IncidentID(9), IncidentID(8)]),
        ])
        let grow = IncidentChange(kind: .grow, incident: Self.incident(7), lines: [Self.interval("L3", "C3")],
                                  announce: [.update])
        let payload = try Self.object(try #require(announcer.announce([grow], hooks: [Self.rt]).first))
        #expect(payload["lines"] as? Int == 3)
        #expect(payload["customers"] as? Int == 2)
        #expect(payload["merged"] as? [Int64] == [8, 9])
    }
}
