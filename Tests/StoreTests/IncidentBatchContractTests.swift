import ForewarnModel
import Foundation
import Persistence
import Testing

/// A batch is written as its changes one after another would be: whatever a store does to
/// write many changes at once, the rows come out the same as from one batch per change.
@Suite struct IncidentBatchContractTests {
    typealias Contract = StoreContractTests
    static func at(_ seconds: Double) -> Date { Contract.at(seconds) }

    static func incident(_ id: Int64, root: Subject, state: Incident.State = .open, mergedInto: Int64? = nil,
                         updated: Double) -> Incident {
        Incident(id: IncidentID(id), state: state, root: IncidentRoot(subject: root, kind: .down), group: "\(root)",
                 severity: .minor, startedAt: at(0), detectedAt: at(5), resolvedAt: state == .resolved ? at(updated) : nil,
                 mergedInto: mergedInto.map(IncidentID.init), updatedAt: at(updated))
    }

    static func line(_ index: Int, start: Double = 0, end: Double? = nil) -> LineInterval {
        LineInterval(line: LineID("L\(index)"), customer: CustomerID("C\(index)"), start: at(start), end: end.map(at))
    }

    static func fault(_ subject: Subject, cleared: Double? = nil, detected: Double = 5) -> FaultRecord {
        FaultRecord(subject: subject, health: .down, since: at(0), detectedAt: at(detected), clearedAt: cleared.map(at))
    }

    static func note(_ text: String, at seconds: Double) -> [TimelineEntry] {
        [TimelineEntry(at: at(seconds), kind: "note", detail: text)]
    }

    /// Five incidents of a line or two each, then what a settling burst does to them: the core's
    /// root learned, lines found unaffected, incidents merged (one into an incident that is then
    /// merged on), one incident changed twice, one fault written twice.
    static let opened: [IncidentChange] = (1...5).map { id in
        IncidentChange(kind: .open, incident: incident(Int64(id), root: .line(LineID("L\(id)")), updated: 5),
                       lines: [line(id), line(id + 10)], faults: [fault(.line(LineID("L\(id)")))],
                       timeline: note("opened \(id)", at: 5))
    }

    static let settling: [IncidentChange] = [
        IncidentChange(kind: .reroot, incident: incident(1, root: .element("core1"), updated: 10),
                       lines: [line(6), line(11, end: 10)], faults: [fault(.element("core1"))],
                       timeline: note("rerooted", at: 10)),
        IncidentChange(kind: .absorbed, incident: incident(2, root: .line("L2"), state: .resolved, mergedInto: 1, updated: 10),
                       timeline: note("merged into 1", at: 10), absorbedInto: IncidentID(1)),
        IncidentChange(kind: .shrink, incident: incident(3, root: .line("L3"), updated: 10),
                       lines: [line(13, end: 0), line(3, start: 0, end: 10)], faults: [fault(.line("L3"), cleared: 10)]),
        IncidentChange(kind: .absorbed, incident: incident(3, root: .line("L3"), state: .resolved, mergedInto: 4, updated: 11),
                       timeline: note("merged into 4", at: 11), absorbedInto: IncidentID(4)),
        IncidentChange(kind: .absorbed, incident: incident(4, root: .line("L4"), state: .resolved, mergedInto: 1, updated: 11),
                       timeline: note("merged into 1", at: 11), absorbedInto: IncidentID(1)),
        IncidentChange(kind: .grow, incident: incident(5, root: .line("L5"), updated: 12), lines: [line(7), line(7, end: 12)],
                       faults: [fault(.element("core1"), detected: 12)], timeline: note("grown", at: 12)),
        IncidentChange(kind: .merge, incident: incident(1, root: .element("core1"), updated: 12),
                       lines: [line(2, start: 0, end: 12)], faults: [fault(.element("core1"), detected: 9)],
                       timeline: note("merged in", at: 12)),
        IncidentChange(kind: .absorbed, incident: incident(5, root: .line("L5"), state: .resolved, mergedInto: 1, updated: 13),
                       timeline: note("merged into 1", at: 13), absorbedInto: IncidentID(1)),
    ]

    /// What a store shows of its incidents: headers with every interval, timelines, open faults.
    struct Shown: Equatable {
        var records: [IncidentRecord]
        var timelines: [[TimelineEntry]]
        var open: [IncidentSnapshot]
    }

    static func shown(_ store: any Store) async throws -> Shown {
        let records = try await store.incidents(openOnly: false, since: nil)
        var timelines: [[TimelineEntry]] = []
        for record in records { timelines.append(try await store.incident(record.incident.id)?.timeline ?? []) }
        return Shown(records: records, timelines: timelines, open: try await store.recoverIncidents().open)
    }

    @Test(arguments: Contract.implementations) func aBatchLeavesWhatItsChangesOneByOneLeave(
        _ implementation: Contract.Implementation
    ) async throws {
        try await Contract.withStore(implementation) { atOnce in
            try await Contract.withStore(implementation) { oneByOne in
                try await atOnce.record(CorrelationBatch(changes: Self.opened, at: Self.at(5)))
                try await atOnce.record(CorrelationBatch(changes: Self.settling, at: Self.at(13)))
                for change in Self.opened + Self.settling {
                    try await oneByOne.record(CorrelationBatch(changes: [change], at: change.incident.updatedAt))
                }
                let written = try await Self.shown(atOnce)
                let reference = try await Self.shown(oneByOne)
                #expect(written == reference)

                let survivor = try #require(written.records.first { $0.incident.id == IncidentID(1) })
                #expect(survivor.lines.map(\.line.rawValue) == ["L1", "L11", "L12", "L14", "L15", "L2", "L3", "L4", "L5", "L6", "L7"])
                #expect(written.records.filter { $0.incident.id != IncidentID(1) }.allSatisfy { $0.lines.isEmpty })
                #expect(written.open.map(\.incident.id) == [IncidentID(1)])
                #expect(Set(written.open[0].faults.map(\.subject)) == [.element("core1"), .line("L1"), .line("L2"), .line("L4"),
                                                                         .line("L5")])
            }
        }
    }
}
