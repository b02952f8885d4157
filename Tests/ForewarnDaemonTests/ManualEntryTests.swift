import ForewarnConfig
import ForewarnDaemon
import ForewarnModel
import Foundation
import Persistence
import Testing

/// What operators type for incidents entered by hand, checked without a store: times, scopes,
/// import rows (every problem at FILE:ROW:COLUMN), corrections. The clock is fixed.
@Suite struct ManualEntryTests {
    static let now = RFC3339.parse("2026-11-20T12:00:00Z")!
    static let prague = TimeZone(identifier: "Europe/Prague")!

    ///     core ── agg1 ── acc1 (L1 C1, L2 C2)
    ///        │       └──┐
    ///        └── agg2 ── acc2 (dual-homed; L3 C1)
    ///                └── L4 C3
    static let configuration: Configuration = {
        func element(_ id: String, _ kind: ElementKind, _ upstream: [ElementID], _ number: UInt32) -> Element {
            Element(id: ElementID(id), name: id, address: .v4(number), kind: kind, upstream: upstream)
        }
        func line(_ id: String, _ customer: String, _ element: String) -> Line {
            Line(id: LineID(id), customer: CustomerID(customer), element: ElementID(element), port: nil, probe: .none,
                 target: nil, contract: nil, service: .data)
        }
        return Configuration(source: "test.yaml", daemon: DaemonSettings(),
                             elements: [element("core", .core, [], 1), element("agg1", .aggregation, ["core"], 2),
                                        element("agg2", .aggregation, ["core"], 3),
                                        element("acc1", .access, ["agg1"], 4),
                                        element("acc2", .access, ["agg1", "agg2"], 5)],
                             lines: [line("L1", "C1", "acc1"), line("L2", "C2", "acc1"), line("L3", "C1", "acc2"),
                                     line("L4", "C3", "agg2")],
                             customers: ["C1", "C2", "C3", "C4"].map { Customer(id: CustomerID($0), name: $0) })
    }()

    static let rules = ManualEntryRules(configuration: configuration, now: now, timeZone: prague, by: "eva")

    static func draft(_ values: [String: String]) -> ManualIncidentDraft {
        var draft = ManualIncidentDraft(location: "forewarn incident add", source: "command line")
        func value(_ key: String) -> ManualIncidentDraft.Value? {
            values[key].map { ManualIncidentDraft.Value($0, at: "--\(key)") }
        }
        (draft.lines, draft.element, draft.customer) = (value("lines"), value("element"), value("customer"))
        (draft.start, draft.end, draft.classification) = (value("start"), value("end"), value("classification"))
        (draft.note, draft.firstCall, draft.ticket) = (value("note"), value("first-call"), value("ticket"))
        return draft
    }

    static func problems(_ values: [String: String]) -> [String] {
        switch draft(values).check(rules) {
        case .success: return []
        case .failure(let error): return error.problems.map(\.description)
        }
    }

    // MARK: times

    @Test func timesAreRFC3339OrLocalInTheZone() throws {
        func parse(_ text: String) -> Result<Date, OperatorTime.Problem> { OperatorTime.parse(text, in: Self.prague) }
        #expect(try parse("2026-11-10T09:30:00Z").get() == RFC3339.parse("2026-11-10T09:30:00Z"))
        #expect(try parse("2026-11-10 09:30").get() == RFC3339.parse("2026-11-10T08:30:00Z"))
        #expect(try parse("2026-07-10 09:30:15").get() == RFC3339.parse("2026-07-10T07:30:15Z"))
        #expect(try OperatorTime.parse("2026-07-10 09:30", in: TimeZone(identifier: "UTC")!).get()
                == RFC3339.parse("2026-07-10T09:30:00Z"))
        // 29 March 2026: 02:00 → 03:00 in Prague; 25 October 2026: 03:00 → 02:00.
        #expect(parse("2026-03-29 02:30") == .failure(.init("'2026-03-29 02:30' does not exist in Europe/Prague (the "
                                                            + "clocks were put forward)")))
        #expect(parse("2026-10-25 02:30") == .failure(.init("'2026-10-25 02:30' happened twice in Europe/Prague (the "
                                                            + "clocks were put back): write it in RFC 3339 with its offset")))
        #expect(try parse("2026-10-25T02:30:00+01:00").get() == RFC3339.parse("2026-10-25T01:30:00Z"))
        for bad in ["yesterday", "2026-02-30 10:00", "2026-11-10 9:30", "10.11.2026 09:30", "2026-11-10 25:00"] {
            #expect((try? parse(bad).get()) == nil, "\(bad)")
        }
    }

    // MARK: one incident

    @Test func theScopeIsLinesAnElementsCutOffLinesOrACustomersLines() throws {
        func lines(_ values: [String: String]) throws -> [LineID] { try Self.draft(values).check(Self.rules).get().lines }
        #expect(try lines(["lines": "L2,L1 L2", "start": "2026-11-10 09:00"]) == ["L1", "L2"])
        // acc2 has a way up through agg2: agg1's failure alone does not cut it off.
        #expect(try lines(["element": "agg1", "start": "2026-11-10 09:00"]) == ["L1", "L2"])
        #expect(try lines(["element": "core", "start": "2026-11-10 09:00"]) == ["L1", "L2", "L3", "L4"])
        #expect(try lines(["customer": "C1", "start": "2026-11-10 09:00"]) == ["L1", "L3"])
        let entered = try Self.draft(["element": "agg1", "start": "2026-11-10 09:00", "end": "2026-11-10T09:30:00Z",
                                      "classification": "force-majeure", "first-call": "2026-11-10 09:10",
                                      "ticket": " RT-5 ", "note": "flood"]).check(Self.rules).get()
        #expect(entered == ManualIncident(id: IncidentID(0), scope: .element("agg1"), lines: ["L1", "L2"],
                                          start: RFC3339.parse("2026-11-10T08:00:00Z")!,
                                          end: RFC3339.parse("2026-11-10T09:30:00Z")!, classification: .forceMajeure,
                                          note: "flood", firstCall: RFC3339.parse("2026-11-10T08:10:00Z")!,
                                          ticket: "RT-5", by: "eva", at: Self.now, source: "command line"))
    }

    @Test func badEntriesNameTheOptionAndTheReason() {
        #expect(Self.problems(["start": "2026-11-10 09:00"]) == ["forewarn incident add: give the lines, an element or a customer"])
        #expect(Self.problems(["lines": "L1", "element": "agg1", "start": "2026-11-10 09:00"])
                == ["forewarn incident add: give one of lines, element or customer, not lines and element"])
        #expect(Self.problems(["lines": "L1,L9,L8", "start": "2026-11-10 09:00"]) == ["--lines: lines: unknown lines 'L9', 'L8'"])
        #expect(Self.problems(["element": "agg9", "start": "2026-11-10 09:00"]) == ["--element: element: unknown element 'agg9'"])
        #expect(Self.problems(["customer": "C4", "start": "2026-11-10 09:00"]) == ["--customer: customer: 'C4' has no lines"])
        #expect(Self.problems(["lines": "L1"]) == ["forewarn incident add: give the start"])
        #expect(Self.problems(["lines": "L1", "start": "2026-11-10 10:00", "end": "2026-11-10 09:00"])
                == ["--end: end: 2026-11-10 09:00 is not after the start"])
        #expect(Self.problems(["lines": "L1", "start": "2026-11-21 10:00"])
                == ["--start: start: 2026-11-21 10:00 is in the future (now 2026-11-20T12:00:00.000Z)"])
        #expect(Self.problems(["lines": "L1", "start": "1999-12-31T10:00:00Z"])
                == ["--start: start: 1999-12-31T10:00:00Z is before 2000"])
        #expect(Self.problems(["lines": "L1", "start": "2026-11-10 10:00", "classification": "aliens"])
                == ["--classification: classification: unknown 'aliens' (network, customer-caused, force-majeure or planned)"])
        #expect(Self.problems(["lines": "L1", "start": "2026-11-10 10:00", "first-call": "2026-11-10 09:00"])
                == ["--first-call: first call: 2026-11-10 09:00 is before the start (the outage had begun by then: correct the start)"])
        // Every problem at once.
        #expect(Self.problems(["lines": "L9", "start": "soon", "end": "later"]).count == 3)
    }

    // MARK: imports

    static func importing(_ text: String) -> Result<[(incident: ManualIncident, location: String)], ManualEntryError> {
        var reader = CSVReader(bytes: Array(text.utf8))
        return IncidentImport.read(&reader, shownAs: "a.csv", rules: rules)
    }

    static func importProblems(_ text: String) -> [String] {
        switch importing(text) {
        case .success: return []
        case .failure(let error): return error.problems.map(\.description)
        }
    }

    @Test func anImportReadsEveryRowWithItsPlace() throws {
        let rows = try Self.importing(#"""
            \#u{FEFF}Lines,Start,end,classification,note,first_call,ticket,element
            "L1,L2",2026-11-10 09:00,2026-11-10 10:00,,"fibre, cut",,,
            ,2026-11-11T08:00:00Z,,customer-caused,,2026-11-11 09:30,RT-8,agg1

            L4,2026-11-12 09:00,2026-11-12 09:05,planned,"said ""planned""",,,

            """#).get()
        #expect(rows.map(\.location) == ["a.csv:2:1", "a.csv:3:1", "a.csv:5:1"])
        #expect(rows.map(\.incident.lines) == [["L1", "L2"], ["L1", "L2"], ["L4"]])
        #expect(rows[0].incident.note == "fibre, cut")
        #expect(rows[0].incident.source == "import a.csv:2")
        #expect(rows[1].incident.scope == .element("agg1"))
        #expect(rows[1].incident.end == nil)
        #expect(rows[1].incident.ticket == "RT-8")
        #expect(rows[2].incident.classification == .planned)
        #expect(rows[2].incident.note == #"said "planned""#)
    }

    @Test func badRowsRefuseTheFileNamingRowColumnAndReason() {
        let text = """
            lines,start,end,classification
            L1,2026-11-10 09:00,2026-11-10 10:00,network
            L9,2026-11-10 09:00,,
            L1,2026-11-10 10:00,2026-11-10 09:00,
            L2,2026-11-10 09:00,,aliens
            L2,2026-12-10 09:00,,
            L1,2026-11-10 09:00,2026-11-10 11:00,
            L3,2026-11-10 09:00
            """
        #expect(Self.importProblems(text) == [
            "a.csv:3:1: lines: unknown line 'L9'",
            "a.csv:4:21: end: 2026-11-10 09:00 is not after the start",
            "a.csv:5:22: classification: unknown 'aliens' (network, customer-caused, force-majeure or planned)",
            "a.csv:6:4: start: 2026-12-10 09:00 is in the future (now 2026-11-20T12:00:00.000Z)",
            "a.csv:7:4: duplicate of row 2 (the same lines from the same start)",
            "a.csv:8:1: the row has 2 fields, the header 4",
        ])
    }

    @Test func aFieldThatIsNoTextIsRefusedWhereItStands() {
        #expect(Self.importProblems("lines,start,note\nL1,2026-11-10 09:00,cut\u{0}here\n") == [
            "a.csv:2:21: note contains a NUL byte (byte 4 of the value)",
        ])
    }

    @Test func aBadHeaderOrFileIsRefusedBeforeAnyRow() {
        #expect(Self.importProblems("") == ["a.csv:1:1: the file is empty: expected a header row "
                                            + "(lines,element,customer,start,end,classification,note,first_call,ticket)"])
        #expect(Self.importProblems("lines,start\n") == ["a.csv:2:1: no incidents: the file has a header and no rows"])
        #expect(Self.importProblems("lines,begin\nL1,x\n") == [
            "a.csv:1:7: unknown column 'begin' (allowed: lines, element, customer, start, end, classification, note, first_call, ticket)",
            "a.csv:1:1: the header has no column 'start'",
        ])
        #expect(Self.importProblems("start,end\n2026-11-10 09:00,\n")
                == ["a.csv:1:1: the header names no scope: a column 'lines', 'element' or 'customer'"])
        #expect(Self.importProblems("lines,start\n\"L1,2026-11-10 09:00\n")
                == ["a.csv:2:1: quoted field is never closed"])
    }

    @Test func entriesAlreadyInTheStoreAreRefused() throws {
        let rows = try Self.importing("lines,start\n\"L2,L1\",2026-11-10T08:00:00Z\nL1,2026-11-10T08:00:00Z\n").get()
        let stored = IncidentRecord(
            incident: Incident(id: IncidentID(12), state: .resolved, root: IncidentRoot(subject: .line("L1"), kind: .manual),
                               group: "manual", severity: .minor, startedAt: RFC3339.parse("2026-11-10T08:00:00Z")!,
                               detectedAt: Self.now, updatedAt: Self.now, enteredBy: "eva", enteredAt: Self.now),
            lines: [LineInterval(line: "L1", customer: "C1", start: RFC3339.parse("2026-11-10T08:00:00Z")!),
                    LineInterval(line: "L2", customer: "C2", start: RFC3339.parse("2026-11-10T08:00:00Z")!)])
        #expect(ManualEntry.alreadyEntered(rows, stored: [stored]).map(\.description)
                == ["a.csv:2:1: already entered as incident #12 (the same lines from the same start)"])
    }

    // MARK: corrections

    static func record(manual: Bool, state: Incident.State, lines: [LineInterval]) -> IncidentRecord {
        IncidentRecord(incident: Incident(
            id: IncidentID(3), state: state, root: IncidentRoot(subject: .element("acc1"), kind: manual ? .manual : .unreachable),
            group: manual ? "manual" : "element:acc1", severity: .minor, startedAt: lines.map(\.start).min()!,
            detectedAt: Self.now, resolvedAt: state == .resolved ? lines.compactMap(\.end).max() : nil, updatedAt: Self.now,
            enteredBy: manual ? "eva" : nil, enteredAt: manual ? Self.now : nil), lines: lines)
    }

    static func time(_ text: String) -> Date { RFC3339.parse(text)! }

    @Test func aCorrectionCarriesOldAndNewAndTheIncidentsNewBounds() throws {
        let lines = [LineInterval(line: "L1", customer: "C1", start: Self.time("2026-11-10T08:00:00Z"), end: Self.time("2026-11-10T09:00:00Z")),
                     LineInterval(line: "L2", customer: "C2", start: Self.time("2026-11-10T08:30:00Z"), end: Self.time("2026-11-10T10:00:00Z"))]
        let manual = Self.record(manual: true, state: .resolved, lines: lines)
        let request = IncidentCorrection.Request(line: "L1", start: Self.time("2026-11-10T08:45:00Z"), reason: "log", by: "jan")
        let edit = try IncidentCorrection.edit(manual, request, now: Self.now).get()
        #expect(edit.interval?.old == lines[0])
        #expect(edit.interval?.new.start == Self.time("2026-11-10T08:45:00Z"))
        // An incident entered by hand spans its intervals: it now starts with L2's.
        #expect(edit.header.startedAt == Self.time("2026-11-10T08:30:00Z"))
        #expect(edit.header.resolvedAt == Self.time("2026-11-10T10:00:00Z"))
        // A detected one keeps its root's earlier start.
        let detected = Self.record(manual: false, state: .resolved, lines: lines)
        #expect(try IncidentCorrection.edit(detected, request, now: Self.now).get().header.startedAt
                == Self.time("2026-11-10T08:00:00Z"))
        let later = IncidentCorrection.Request(line: "L2", end: Self.time("2026-11-10T11:00:00Z"), reason: "log", by: "jan")
        #expect(try IncidentCorrection.edit(detected, later, now: Self.now).get().header.resolvedAt
                == Self.time("2026-11-10T11:00:00Z"))
        let cause = IncidentCorrection.Request(classification: .customerCaused, reason: "their router", by: "jan")
        let classified = try IncidentCorrection.edit(detected, cause, now: Self.now).get()
        #expect(classified.interval == nil)
        #expect(classified.classification == .customerCaused)
    }

    @Test func badCorrectionsAreRefusedWithTheReason() {
        let open = [LineInterval(line: "L1", customer: "C1", start: Self.time("2026-11-10T08:00:00Z"))]
        func problem(_ record: IncidentRecord, _ request: IncidentCorrection.Request) -> String? {
            if case .failure(let error) = IncidentCorrection.edit(record, request, now: Self.now) {
                return error.problems.first?.description
            }
            return nil
        }
        let detected = Self.record(manual: false, state: .open, lines: open)
        let end = Self.time("2026-11-10T09:00:00Z")
        #expect(problem(detected, .init(line: "L1", end: end, reason: " ", by: "")) == "--reason: say why (it goes to the timeline with the old and new values)")
        #expect(problem(detected, .init(line: "L1", end: end, reason: "x", by: ""))?.hasPrefix(
            "--end: line L1 is still in incident #3: its end comes from its probe") == true)
        #expect(problem(Self.record(manual: true, state: .open, lines: open), .init(line: "L1", end: end, reason: "x", by: "")) == nil)
        #expect(problem(detected, .init(line: "L7", start: end, reason: "x", by: "")) == "--line: line L7 is not in incident #3")
        #expect(problem(detected, .init(start: end, reason: "x", by: "")) == "--line: --start and --end correct one line's interval: name the line")
        #expect(problem(detected, .init(reason: "x", by: ""))?.hasPrefix("incident #3: nothing to correct") == true)
        #expect(problem(detected, .init(classification: .network, reason: "x", by: "")) == "--classification: incident #3 is classified network already")
        #expect(problem(detected, .init(line: "L1", start: Self.time("2026-11-21T00:00:00Z"), reason: "x", by: ""))
                == "--start: 2026-11-21T00:00:00.000Z is in the future (now 2026-11-20T12:00:00.000Z)")
        let resolved = Self.record(manual: true, state: .resolved, lines: [LineInterval(line: "L1", customer: "C1",
                                                                                        start: Self.time("2026-11-10T08:00:00Z"), end: end)])
        #expect(problem(resolved, .init(line: "L1", start: Self.time("2026-11-10T09:30:00Z"), reason: "x", by: ""))
                == "--start: the interval would run from 2026-11-10T09:30:00.000Z to 2026-11-10T09:00:00.000Z: it must end after it starts")
    }

    @Test func resolvingByHandNeedsATimeAfterEveryLinesStart() {
        let record = Self.record(manual: true, state: .open, lines: [LineInterval(line: "L1", customer: "C1",
                                                                                  start: Self.time("2026-11-10T08:00:00Z"))])
        #expect(IncidentCorrection.resolveProblem(record, at: Self.time("2026-11-10T09:00:00Z"), now: Self.now) == nil)
        #expect(IncidentCorrection.resolveProblem(record, at: Self.time("2026-11-10T07:00:00Z"), now: Self.now)?.description
                == "--at: line L1 is in incident #3 from 2026-11-10T08:00:00.000Z, after 2026-11-10T07:00:00.000Z")
        #expect(IncidentCorrection.resolveProblem(record, at: Self.time("2026-11-21T00:00:00Z"), now: Self.now) != nil)
    }
}
