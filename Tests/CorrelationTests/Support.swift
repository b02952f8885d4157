import Correlation
import ForewarnModel
import Foundation

/// The lab network of the scripted timelines:
///
///     core ── agg1 ── acc1 (L1–L20, ports 1–2)
///        │       └── acc2 (L21–L40, ports 1–2)
///        │       └──┐
///        └── agg2 ── acc3 (dual-homed to agg1 and agg2; L41–L50)
///                └── acc4 (L51–L60, ports 1–3)
///
/// agg1's uplink is agg1:xe-0/0/0 ↔ core:xe-1/0/1; acc3's uplinks are acc3:up1 ↔ agg1:down3
/// and acc3:up2 ↔ agg2:down3.
enum Lab {
    static let epoch = Date(unixMilliseconds: 1_800_000_000_000)

    static func element(_ id: String, _ kind: ElementKind, upstream: [String] = [],
                        uplinks: [ElementID: Uplink] = [:], number: Int) -> Element {
        Element(id: ElementID(id), name: id, address: .v4(0xC000_0200 + UInt32(number)), kind: kind,
                upstream: upstream.map { ElementID($0) }, uplinks: uplinks)
    }

    static let elements: [Element] = [
        element("core", .core, number: 1),
        element("agg1", .aggregation, upstream: ["core"],
                uplinks: ["core": Uplink(port: .ifName("xe-0/0/0"), peerPort: .ifName("xe-1/0/1"))], number: 2),
        element("agg2", .aggregation, upstream: ["core"], number: 3),
        element("acc1", .access, upstream: ["agg1"], number: 4),
        element("acc2", .access, upstream: ["agg1"], number: 5),
        element("acc3", .access, upstream: ["agg1", "agg2"],
                uplinks: ["agg1": Uplink(port: .ifName("up1"), peerPort: .ifName("down3")),
                          "agg2": Uplink(port: .ifName("up2"), peerPort: .ifName("down3"))], number: 6),
        element("acc4", .access, upstream: ["agg2"], number: 7),
    ]

    static var lines: [Line] {
        (1...60).map { number in
            let element: String
            let port: Int
            switch number {
            case 1...20: element = "acc1"; port = number <= 10 ? 1 : 2
            case 21...40: element = "acc2"; port = number <= 30 ? 1 : 2
            case 41...50: element = "acc3"; port = 1
            default: element = "acc4"; port = (number - 51) % 3 + 1
            }
            return Line(id: LineID("L\(number)"), customer: CustomerID("C\(number)"), element: ElementID(element),
                        port: .ifIndex(port), probe: .icmp, target: .v4(0xC633_6400 + UInt32(number)), contract: nil,
                        service: number % 10 == 0 ? .voice : .data)
        }
    }

    static let topology = Topology(elements: elements, lines: lines)

    static func lineIDs(_ range: ClosedRange<Int>) -> [LineID] { range.map { LineID("L\($0)") } }
}

/// A correlator driven along a scripted timeline on a virtual clock, with every action it
/// returned applied to a ledger the way the store applies them.
struct Timeline {
    var correlator: Correlator<VirtualInstant>
    var ledger = Ledger()
    var now = VirtualInstant()
    var confirmations: [ConfirmationRequest] = []
    var rejections: [String] = []
    var reports: [(CustomerReport, IncidentID)] = []

    init(topology: Topology = Lab.topology, settings: CorrelationSettings = CorrelationSettings(holdDown: .seconds(3))) {
        correlator = Correlator(topology: topology, settings: settings, epoch: VirtualInstant(), epochDate: Lab.epoch)
    }

    func date(_ seconds: Double) -> Date { Lab.epoch.addingTimeInterval(seconds) }

    /// Moves the clock to `t` seconds, ticking at every hold-down deadline on the way.
    mutating func advance(to seconds: Double) {
        let target = VirtualInstant.seconds(seconds)
        while let deadline = correlator.nextDeadline, deadline <= target {
            now = max(now, deadline)
            apply(correlator.tick(now: now))
            if correlator.nextDeadline == deadline { break }
        }
        now = max(now, target)
        apply(correlator.tick(now: now))
    }

    mutating func send(_ event: CorrelatorEvent, at seconds: Double) {
        advance(to: seconds)
        apply(correlator.handle(event, now: now))
    }

    mutating func observe(_ subject: Subject, _ health: Health, at seconds: Double, since: Double? = nil,
                          source: Observation.Source = .poll) {
        let observation = Observation(subject: subject, kind: .state(health), since: date(since ?? seconds),
                                      observedAt: date(seconds), source: source, detail: "scripted")
        send(.observation(observation), at: seconds)
    }

    mutating func element(_ id: String, _ health: Health, at seconds: Double) {
        observe(.element(ElementID(id)), health, at: seconds)
    }

    mutating func lines(_ ids: [LineID], _ health: Health, at seconds: Double) {
        for id in ids { observe(.line(id), health, at: seconds) }
    }

    mutating func port(_ element: String, _ port: PortReference, _ health: Health, at seconds: Double) {
        observe(.port(ElementID(element), port), health, at: seconds, source: .trap)
    }

    mutating func call(_ line: String, at seconds: Double, note: String = "") {
        send(.customerReport(CustomerReport(line: LineID(line), at: date(seconds), note: note, source: "cli")),
             at: seconds)
    }

    mutating func apply(_ actions: [CorrelatorAction]) {
        for action in actions {
            switch action {
            case .incident(let change): ledger.apply(change)
            case .confirm(let request): confirmations.append(request)
            case .rejected(let reason): rejections.append(reason)
            case .customerReportFiled(let report, let incident): reports.append((report, incident))
            }
        }
    }

    var open: [Incident] { ledger.incidents.values.filter { $0.state == .open }.sorted { $0.id < $1.id } }
    var all: [Incident] { ledger.incidents.values.sorted { $0.id < $1.id } }
}

/// Applies incident changes as the store does (upsert header, upsert intervals by line and
/// start, move an absorbed incident's rows), so tests check what would be persisted.
struct Ledger {
    struct Slot: Hashable {
        var line: LineID
        var start: Date
    }

    var incidents: [IncidentID: Incident] = [:]
    var lines: [IncidentID: [Slot: LineInterval]] = [:]
    /// Like the store's fault table: one row per subject and start, owned by one incident.
    var faults: [String: (incident: IncidentID, record: FaultRecord)] = [:]
    var timeline: [IncidentID: [TimelineEntry]] = [:]
    var changes: [IncidentChange] = []
    var outbox: [(incident: IncidentID, event: Hook.Event)] = []
    /// What each outbox row would tell: the change it rode on and the scope stored by then.
    var announced: [Announcement] = []

    struct Announcement {
        var event: Hook.Event
        var change: IncidentChange.Kind
        var incident: Incident
        var lines: Int
        var customers: Int
    }

    /// Every announced state is consistent: an `open` event rides on an `open` change, and the
    /// severity matches the customers stored (warning exactly when there are none).
    var announcementsAreConsistent: Bool {
        announced.allSatisfy { row in
            (row.event != .open || row.change == .open) && (row.customers == 0) == (row.incident.severity == .warning)
        }
    }

    func firstOpen(_ id: IncidentID) -> Announcement? { announced.first { $0.incident.id == id && $0.event == .open } }

    mutating func apply(_ change: IncidentChange) {
        let id = change.incident.id
        changes.append(change)
        incidents[id] = change.incident
        for interval in change.lines {
            // An interval that ends where it starts is a line found unaffected: dropped.
            if let end = interval.end, end <= interval.start {
                lines[id]?.removeValue(forKey: Slot(line: interval.line, start: interval.start))
                continue
            }
            lines[id, default: [:]][Slot(line: interval.line, start: interval.start)] = interval
        }
        for fault in change.faults {
            faults["\(fault.subject.kind):\(fault.subject.identifier)@\(fault.since.unixMilliseconds)"] = (id, fault)
        }
        timeline[id, default: []].append(contentsOf: change.timeline)
        if let into = change.absorbedInto {
            for (slot, interval) in lines.removeValue(forKey: id) ?? [:] where lines[into]?[slot] == nil {
                var moved = interval
                moved.line = interval.line
                lines[into, default: [:]][slot] = moved
            }
            for (key, fault) in faults where fault.incident == id { faults[key] = (into, fault.record) }
        }
        for event in change.announce {
            if event == .open && outbox.contains(where: { $0.incident == id && $0.event == .open }) { continue }
            outbox.append((id, event))
            let stored = self.lines(of: id)
            announced.append(Announcement(event: event, change: change.kind, incident: change.incident,
                                          lines: Set(stored.map(\.line)).count,
                                          customers: Set(stored.map(\.customer)).count))
        }
    }

    func lines(of id: IncidentID) -> [LineInterval] {
        (lines[id] ?? [:]).values.sorted { $0.line != $1.line ? $0.line < $1.line : $0.start < $1.start }
    }

    func lineIDs(of id: IncidentID) -> [LineID] {
        Array(Set(lines(of: id).map(\.line))).sorted { lineNumber($0) < lineNumber($1) }
    }

    func openLineIDs(of id: IncidentID) -> [LineID] {
        Array(Set(lines(of: id).filter { $0.end == nil }.map(\.line))).sorted { lineNumber($0) < lineNumber($1) }
    }

    func lineNumber(_ id: LineID) -> Int { Int(id.rawValue.dropFirst()) ?? 0 }

    func events(_ id: IncidentID) -> [Hook.Event] { outbox.filter { $0.incident == id }.map(\.event) }

    /// The store's view of open incidents, as recovery reads it.
    var snapshots: [IncidentSnapshot] {
        incidents.values.filter { $0.state == .open }.sorted { $0.id < $1.id }.map { incident in
            IncidentSnapshot(incident: incident, lines: lines(of: incident.id).filter { $0.end == nil },
                             faults: faults.values.filter { $0.incident == incident.id && $0.record.clearedAt == nil }
                                .map(\.record).sorted { $0.subject.identifier < $1.subject.identifier })
        }
    }
}
