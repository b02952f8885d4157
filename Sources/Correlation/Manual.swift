import ForewarnModel
import Foundation

/// An open incident entered by hand. Its lines stay in it until it is resolved
/// (`forewarn incident resolve ID --at TIME`) or each line's end is corrected: monitoring
/// neither extends nor ends it, and nothing detected merges into it (a detected incident on the
/// same lines is kept beside it; credits count each line's time once).
struct ManualOpenIncident: Sendable {
    var header: Incident
    /// Lines with an open interval: their customer and start (seconds since 1970).
    var lines: [LineID: (customer: CustomerID, start: Double)]
}

/// Where the correlator holds an incident being corrected.
enum EditedIncidentHolder {
    case detected, manual, resolved
}

/// Incidents entered by hand and corrections of any incident.
extension Correlator {
    // MARK: entering

    /// All of them, or none when one cannot be applied (the CLI checked them against the same
    /// inventory; this guards against a reload in between).
    mutating func enter(_ incidents: [ManualIncident], now: Instant) {
        var problems: [String] = []
        var ids: Set<IncidentID> = []
        for incident in incidents {
            let id = incident.id
            if incident.lines.isEmpty { problems.append("incident \(id) has no lines") }
            let unknown = incident.lines.filter { topology.lineIndex[$0] == nil }
            if !unknown.isEmpty {
                problems.append("incident \(id): unknown line\(unknown.count == 1 ? "" : "s") "
                                + unknown.prefix(5).map { "'\($0)'" }.joined(separator: ", "))
            }
            if case .element(let element) = incident.scope, topology.elementIndex[element] == nil {
                problems.append("incident \(id): unknown element '\(element)'")
            }
            if let end = incident.end, end <= incident.start { problems.append("incident \(id) ends before it starts") }
            if open[id] != nil || manual[id] != nil || recent[id] != nil || !ids.insert(id).inserted {
                problems.append("incident \(id) exists already")
            }
        }
        guard problems.isEmpty else {
            let shown = problems.prefix(5).joined(separator: "; ") + (problems.count > 5 ? "; …" : "")
            emitter.other.append(.rejected("\(shown); nothing entered"))
            return
        }
        for incident in incidents { enter(incident, now: now) }
    }

    private mutating func enter(_ entry: ManualIncident, now: Instant) {
        let id = entry.id
        incidentIDs.seen(id)
        let start = entry.start.timeIntervalSince1970
        let covered = coveredByMaintenance(entry.root, at: start)
        let classification = entry.classification ?? (covered ? .planned : .network)
        var customers: Set<CustomerID> = []
        var services: Set<ServiceKind> = []
        var lines: [LineID: (customer: CustomerID, start: Double)] = [:]
        for line in entry.lines {
            let index = Int(topology.lineIndex[line]!)
            customers.insert(topology.lineCustomer[index])
            services.insert(topology.lineService[index])
            lines[line] = (topology.lineCustomer[index], start)
        }
        var header = Incident(id: id, state: entry.end == nil ? .open : .resolved,
                              root: IncidentRoot(subject: entry.root, kind: .manual), group: Self.manualGroup,
                              severity: Severity.of(customers: customers.count, services: services),
                              planned: covered || classification == .planned, classification: classification,
                              startedAt: entry.start, detectedAt: entry.at, firstCallAt: entry.firstCall,
                              resolvedAt: entry.end, updatedAt: date(now), enteredBy: entry.by, enteredAt: entry.at)
        header.proactive = Self.proactive(header)
        for line in entry.lines {
            emitter.line(id, index: topology.lineIndex[line]!, LineInterval(line: line, customer: lines[line]!.customer,
                                                                            start: entry.start, end: entry.end))
        }
        emitter.touch(id, entry.end == nil ? .open : .resolve, created: true)
        note(id, "entered", Self.describe(entry, classification: classification), now: now)
        if entry.end == nil {
            manual[id] = ManualOpenIncident(header: header, lines: lines)
        } else {
            remember(header)
        }
        if let ticket = entry.ticket {
            emitter.enteredTicket(id, ticket)
        } else if !header.planned {
            // Announced at once, with its whole scope: there is nothing to settle.
            unannounced.insert(id)
            emitter.announce(id)
        }
    }

    /// The grouping key of an incident entered by hand: none of the correlator's groups.
    static var manualGroup: String { "manual" }

    static func describe(_ entry: ManualIncident, classification: Classification) -> String {
        let shown = entry.lines.prefix(10).map(\.rawValue).joined(separator: ", ")
            + (entry.lines.count > 10 ? " and \(entry.lines.count - 10) more" : "")
        let count = "\(entry.lines.count) line\(entry.lines.count == 1 ? "" : "s")"
        var scope: String
        switch entry.scope {
        case .lines: scope = "\(count) (\(shown))"
        case .element(let element): scope = "element \(element), \(count) behind it (\(shown))"
        case .customer(let customer): scope = "customer \(customer), \(count) (\(shown))"
        }
        scope += ", from \(RFC3339.format(entry.start))"
        scope += entry.end.map { " to \(RFC3339.format($0))" } ?? ", still going on"
        var text = "entered by hand" + (entry.by.isEmpty ? "" : " by \(entry.by)") + " (\(entry.source)): \(scope); "
            + classification.rawValue
        if let call = entry.firstCall { text += "; first call \(RFC3339.format(call))" }
        if let ticket = entry.ticket { text += "; existing ticket \(ticket) (no ticket opened)" }
        if !entry.note.isEmpty { text += "; note: \(entry.note)" }
        return text
    }

    /// The open incident entered by hand that holds this line (the oldest, when several do).
    func manualIncident(covering line: LineID) -> IncidentID? {
        manual.filter { $0.value.lines[line] != nil }.keys.min()
    }

    /// The dense index of a line, or a distinct negative slot for one gone from the inventory.
    func slot(of line: LineID, fallback: Int) -> Int32 { topology.lineIndex[line] ?? Int32(-1 - fallback) }

    // MARK: operator actions on an open incident entered by hand

    mutating func manualAction(_ action: OperatorAction, now: Instant) {
        let id = action.incident
        let by = action.by.isEmpty ? "" : " by \(action.by)"
        switch action.kind {
        case .acknowledge:
            if manual[id]!.header.acknowledgedAt == nil { manual[id]!.header.acknowledgedAt = action.at }
            note(id, "acknowledged", "acknowledged\(by)", now: now, significant: true)
        case .note(let text):
            note(id, "note", "note\(by): \(text)", now: now)
        case .classify(let classification):
            manual[id]!.header.classification = classification
            note(id, "classified", "classified \(classification.rawValue)\(by)", now: now, significant: true)
        case .resolve(let text):
            let at = action.at.timeIntervalSince1970
            if let late = manual[id]!.lines.filter({ $0.value.start > at }).keys.min() {
                emitter.other.append(.rejected("incident \(id): line \(late) entered from "
                                               + "\(Self.format(manual[id]!.lines[late]!.start)), after \(Self.format(at))"))
                return
            }
            note(id, "manual-resolve", "resolved manually\(by) at \(Self.format(at))" + (text.isEmpty ? "" : ": \(text)"),
                 now: now)
            resolveManual(id, at: at, reason: "resolved manually\(by)", now: now)
        }
    }

    /// Ends every line still in the incident at `at` and resolves it.
    mutating func resolveManual(_ id: IncidentID, at: Double, reason: String, now: Instant) {
        guard var incident = manual.removeValue(forKey: id) else { return }
        for (position, line) in incident.lines.keys.sorted().enumerated() {
            let entry = incident.lines[line]!
            emitter.line(id, index: slot(of: line, fallback: position),
                         LineInterval(line: line, customer: entry.customer, start: Date(timeIntervalSince1970: entry.start),
                                      end: Date(timeIntervalSince1970: max(at, entry.start))))
        }
        incident.header.state = .resolved
        incident.header.resolvedAt = Date(timeIntervalSince1970: max(at, incident.header.startedAt.timeIntervalSince1970))
        remember(incident.header)
        emitter.touch(id, .resolve)
        emitter.timeline(id, TimelineEntry(at: date(now), kind: "resolved", detail: reason))
    }

    // MARK: corrections

    /// Corrects one line's interval and/or the classification of any incident, open or
    /// resolved, detected or entered by hand; old and new values go to the timeline.
    mutating func edit(_ edit: IncidentEdit, now: Instant) {
        let id = edit.incident
        var header: Incident
        let holder: EditedIncidentHolder
        if let incident = open[id] {
            (header, holder) = (incident.header, .detected)
        } else if let incident = manual[id] {
            (header, holder) = (incident.header, .manual)
        } else if let incident = recent[id] {
            (header, holder) = (incident, .resolved)
        } else if edit.header.state == .resolved, edit.header.id == id {
            // Resolved before the correlator's memory: continued from the store as the CLI read it.
            (header, holder) = (edit.header, .resolved)
        } else {
            emitter.other.append(.rejected("no incident \(id)"))
            return
        }
        if let survivor = header.mergedInto {
            emitter.other.append(.rejected("incident \(id) was merged into \(survivor): correct that one"))
            return
        }
        var changes: [String] = []
        var endsManualLine = false
        if let interval = edit.interval {
            let line = interval.old.line
            let oldStart = interval.old.start.unixMilliseconds
            func refuse(_ reason: String) { emitter.other.append(.rejected("incident \(id), line \(line): \(reason)")) }
            guard interval.new.line == line, interval.new.end.map({ $0 > interval.new.start }) ?? true else {
                refuse("the corrected interval must end after it starts")
                return
            }
            switch holder {
            case .detected:
                if let index = topology.lineIndex[line], lineIncident[Int(index)] == id.rawValue,
                   Date(timeIntervalSince1970: lineStart[Int(index)]).unixMilliseconds == oldStart {
                    guard interval.new.end == nil else {
                        refuse("still in the incident: its end comes from its probe, or resolve the incident with --at")
                        return
                    }
                    lineStart[Int(index)] = interval.new.start.timeIntervalSince1970
                } else if interval.old.end == nil {
                    refuse("no open interval from \(RFC3339.format(interval.old.start)) (changed meanwhile: look again)")
                    return
                }
                header.startedAt = min(header.startedAt, interval.new.start)
            case .manual:
                if let entry = manual[id]!.lines[line],
                   Date(timeIntervalSince1970: entry.start).unixMilliseconds == oldStart {
                    if interval.new.end == nil {
                        manual[id]!.lines[line]!.start = interval.new.start.timeIntervalSince1970
                    } else {
                        manual[id]!.lines[line] = nil
                        endsManualLine = true
                    }
                } else if interval.old.end == nil {
                    refuse("no open interval from \(RFC3339.format(interval.old.start)) (changed meanwhile: look again)")
                    return
                }
                header.startedAt = edit.header.startedAt
            case .resolved:
                guard interval.old.end != nil, interval.new.end != nil else {
                    refuse("the incident is resolved: the interval has an end")
                    return
                }
                header.startedAt = edit.header.startedAt
                header.resolvedAt = edit.header.resolvedAt
            }
            let slot = slot(of: line, fallback: 0)
            if interval.new.start.unixMilliseconds != oldStart {
                // The store keys intervals by line and start: the old one is ended where it started (dropped).
                emitter.line(id, index: slot, LineInterval(line: line, customer: interval.old.customer,
                                                           start: interval.old.start, end: interval.old.start))
            }
            emitter.line(id, index: slot, interval.new)
            changes.append("line \(line) \(Self.describe(interval.old)) → \(Self.describe(interval.new))")
        }
        if let classification = edit.classification, classification != header.classification {
            changes.append("classification \(header.classification.rawValue) → \(classification.rawValue)")
            header.classification = classification
        }
        guard !changes.isEmpty else {
            emitter.other.append(.rejected("incident \(id): nothing to change"))
            return
        }
        switch holder {
        case .detected: open[id]!.header = header
        case .manual: manual[id]!.header = header
        case .resolved: remember(header)
        }
        note(id, "edited", "edited" + (edit.by.isEmpty ? "" : " by \(edit.by)") + ": " + changes.joined(separator: "; ")
             + "; reason: \(edit.reason)", now: now, significant: true)
        if endsManualLine, manual[id]?.lines.isEmpty == true, let end = edit.header.resolvedAt ?? edit.interval?.new.end {
            resolveManual(id, at: max(end.timeIntervalSince1970, header.startedAt.timeIntervalSince1970),
                          reason: "every line's outage has ended (corrected by hand)", now: now)
        }
    }

    static func describe(_ interval: LineInterval) -> String {
        "\(RFC3339.format(interval.start)) – " + (interval.end.map(RFC3339.format) ?? "ongoing")
    }
}
