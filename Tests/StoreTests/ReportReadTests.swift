import ForewarnModel
import Foundation
import Persistence
import StoreSQLite
import Testing

/// A large store's report lines are read in two parts at once: the same intervals as one pass.
@Suite struct ReportReadTests {
    @Test func twoPartsReadTheSameIntervalsAsOnePass() async throws {
        let temporary = try TemporaryStore()
        defer { temporary.remove() }
        let epoch = Date(unixMilliseconds: 1_800_000_000_000)
        let writer = try SQLiteStore(path: temporary.path, access: .create)
        // 40 incidents over 25 lines each (lines shared between incidents), one still open.
        var changes: [IncidentChange] = []
        for id in 1...40 {
            let start = epoch.addingTimeInterval(Double(id) * 600)
            let header = Incident(id: IncidentID(Int64(id)), root: IncidentRoot(subject: .element("agg1"), kind: .unreachable),
                                  group: "element:agg1", severity: .major, startedAt: start, detectedAt: start, updatedAt: start)
            changes.append(IncidentChange(kind: .open, incident: header, lines: (0..<25).map { offset in
                let line = (id * 7 + offset) % 60
                return LineInterval(line: LineID("L\(line)"), customer: CustomerID("C\(line / 3)"), start: start,
                                    end: id == 40 ? nil : start.addingTimeInterval(Double(300 + offset)))
            }))
        }
        try await writer.record(CorrelationBatch(changes: changes, at: epoch))
        let from = epoch.addingTimeInterval(3_000)
        let to = epoch.addingTimeInterval(20_000)
        let single = try await SQLiteStore(path: temporary.path, access: .readOnly).reportLineTables(from: from, to: to)
        let parts = try await SQLiteStore(path: temporary.path, access: .readOnly, reportSplitRows: 1)
            .reportLineTables(from: from, to: to)
        #expect(single.count == 1)
        #expect(parts.count == 2)
        let onePass = single[0]
        let halves = StoreContractTests.joined(parts)
        #expect(onePass.lines.count > 30)
        #expect(halves.lines == onePass.lines)
        #expect(halves.customers == onePass.customers)
        #expect(halves.lineBounds == onePass.lineBounds)
        #expect(halves.intervalStarts == onePass.intervalStarts)
        #expect(halves.intervalEnds == onePass.intervalEnds)
        #expect(halves.intervalIncidents == onePass.intervalIncidents)
        #expect(halves.incidents == onePass.incidents)
    }
}
