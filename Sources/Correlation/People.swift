import ForewarnModel
import Foundation

/// What people bring in: customers' calls, operators' actions, maintenance windows; and reboots.
extension Correlator {
    // MARK: customer reports

    mutating func customerReport(_ report: CustomerReport, now: Instant) {
        guard let line = topology.lineIndex[report.line] else {
            emitter.other.append(.rejected("customer report about unknown line '\(report.line)'"))
            return
        }
        let at = report.at.timeIntervalSince1970
        let detail = "customer \(topology.lineCustomer[Int(line)]) called about line \(report.line) at "
            + "\(Self.format(at)) (\(report.source))" + (report.note.isEmpty ? "" : ": \(report.note)")
        let existing = lineIncident[Int(line)]
        if existing != 0, var incident = open[IncidentID(existing)] {
            let id = IncidentID(existing)
            let first = incident.header.firstCallAt.map { min($0, report.at) } ?? report.at
            incident.header.firstCallAt = first
            incident.header.proactive = Self.proactive(incident.header)
            open[id] = incident
            note(id, "customer-call", detail, now: now, significant: true)
            emitter.other.append(.customerReportFiled(report, incident: id))
            return
        }
        if let id = manualIncident(covering: report.line) {
            let first = manual[id]!.header.firstCallAt.map { min($0, report.at) } ?? report.at
            manual[id]!.header.firstCallAt = first
            manual[id]!.header.proactive = Self.proactive(manual[id]!.header)
            note(id, "customer-call", detail, now: now, significant: true)
            emitter.other.append(.customerReportFiled(report, incident: id))
            return
        }
        let id = openIncident(.line(line), root: IncidentRoot(subject: .line(report.line), kind: .customerReport),
                              since: at, now: now)
        addLine(line, to: id, start: min(at, seconds(now)), ifUnseenSince: nil)
        open[id]!.holds.insert(line)
        open[id]!.header.firstCallAt = report.at
        open[id]!.header.proactive = Self.proactive(open[id]!.header)
        updateSeverity(id)
        note(id, "customer-call", detail + "; monitoring had not seen it", now: now)
        emitter.other.append(.customerReportFiled(report, incident: id))
        request(.probeLine(report.line), now: now)
        request(.pollElement(topology.elementIDs[Int(topology.lineElement[Int(line)])]), now: now)
    }

    // MARK: operator actions

    mutating func operatorAction(_ action: OperatorAction, now: Instant) {
        let id = action.incident
        if manual[id] != nil {
            manualAction(action, now: now)
            return
        }
        let isOpen = open[id] != nil
        guard isOpen || recent[id] != nil else {
            emitter.other.append(.rejected("no incident \(id) (open, or resolved since the daemon started)"))
            return
        }
        let by = action.by.isEmpty ? "" : " by \(action.by)"
        switch action.kind {
        case .acknowledge:
            guard isOpen else {
                emitter.other.append(.rejected("incident \(id) is resolved: nothing to acknowledge"))
                return
            }
            if open[id]!.header.acknowledgedAt == nil { open[id]!.header.acknowledgedAt = action.at }
            note(id, "acknowledged", "acknowledged\(by)", now: now, significant: true)
        case .note(let text):
            if !isOpen { emitter.touch(id, .update) }
            note(id, "note", "note\(by): \(text)", now: now)
        case .classify(let classification):
            if isOpen {
                open[id]!.header.classification = classification
            } else {
                recent[id]!.classification = classification
            }
            note(id, "classified", "classified \(classification.rawValue)\(by)", now: now, significant: true)
        case .resolve(let text):
            guard let incident = open[id] else {
                emitter.other.append(.rejected("incident \(id) is already resolved"))
                return
            }
            // Its faults stay known (a later recovery is recognised) but open nothing new.
            for key in incident.faults {
                faults[key]?.status = .dismissed
                faults[key]?.incident = nil
            }
            for line in incident.openLines where faults[.line(line)] != nil {
                faults[.line(line)]?.status = .dismissed
                faults[.line(line)]?.incident = nil
            }
            open[id]!.holds = []
            note(id, "manual-resolve", "resolved manually\(by)" + (text.isEmpty ? "" : ": \(text)"), now: now)
            resolve(id, at: action.at.timeIntervalSince1970, reason: "resolved manually\(by)", now: now)
        }
    }

    // MARK: maintenance

    func coveredByMaintenance(_ subject: Subject, at time: Double) -> Bool {
        let instant = Date(timeIntervalSince1970: time)
        return windows.values.contains { window in
            guard window.covers(instant) else { return false }
            switch subject {
            case .element(let id), .port(let id, _):
                return window.elements.contains(id)
            case .line(let id):
                if window.lines.contains(id) { return true }
                guard let index = topology.lineIndex[id] else { return false }
                return window.elements.contains(topology.elementIDs[Int(topology.lineElement[Int(index)])])
            }
        }
    }

    /// A window that ended while its planned incident's fault persists: the planned part is
    /// closed at the window's end and what is still down continues as an ordinary incident
    /// from then on, with a ticket, so credits count only the unplanned part.
    mutating func endWindows(now: Instant) {
        let nowSeconds = seconds(now)
        let ended = windows.values.filter { !endedWindows.contains($0.id) && $0.end.timeIntervalSince1970 <= nowSeconds }
            .sorted { $0.end != $1.end ? $0.end < $1.end : $0.id < $1.id }
        for window in ended {
            endedWindows.insert(window.id)
            let end = window.end.timeIntervalSince1970
            let planned = open.values.filter { incident in
                incident.header.planned && !coveredByMaintenance(incident.header.root.subject, at: end)
            }.map(\.header.id).sorted()
            for id in planned { continueAfterMaintenance(id, window: window, at: end, now: now) }
        }
    }

    mutating func continueAfterMaintenance(_ id: IncidentID, window: MaintenanceWindow, at end: Double, now: Instant) {
        guard let incident = open[id] else { return }
        var keys = Array(incident.faults)
        keys += incident.openLines.filter { faults[.line($0)] != nil }.map { FaultKey.line($0) }
        open[id]!.faults = []
        open[id]!.holds = []
        note(id, "maintenance-ended", "maintenance window '\(window.id)' ended while the fault persists; "
             + "it continues as a new, unplanned incident", now: now)
        resolve(id, at: end, reason: "maintenance window '\(window.id)' ended", now: now)
        for key in sortedKeys(keys) {
            guard var fault = faults[key] else { continue }
            fault.status = .pending
            fault.incident = nil
            fault.since = max(fault.since, end)
            faults[key] = fault
        }
        for key in sortedKeys(keys) { settle(key, now: now) }
    }

    // MARK: reboots

    mutating func rebooted(_ key: FaultKey, observation: Observation, now: Instant) {
        guard case .element(let element) = key else { return }
        let detail = "\(observation.subject) restarted at \(Self.format(observation.since.timeIntervalSince1970)): "
            + observation.detail
        if let id = faults[key]?.incident, open[id] != nil {
            note(id, "rebooted", detail, now: now)
            return
        }
        let root = IncidentRoot(subject: observation.subject, kind: .rebooted)
        let id = openIncident(.element(element), root: root, since: observation.since.timeIntervalSince1970, now: now, register: false)
        note(id, "rebooted", detail, now: now)
        resolve(id, at: max(observation.since.timeIntervalSince1970, observation.observedAt.timeIntervalSince1970),
                reason: "the element is back (a restart is over when it is known)", now: now)
    }
}
