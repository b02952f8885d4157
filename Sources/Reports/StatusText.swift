import Foundation
import ForewarnModel
import Persistence

/// `forewarn status` as text: every line fits 80 columns; with `colour` (a terminal, no
/// `NO_COLOR`) what needs attention is red or yellow and a live daemon green.
extension StatusReport {
    public static let textWidth = 80
    /// Open incidents listed in the text (the most severe); the JSON lists them all.
    public static let textIncidents = 20

    enum Colour: String {
        case red = "31", yellow = "33", green = "32"
    }

    /// Colour only on a terminal, and never when `NO_COLOR` is set to anything but the empty string.
    public static func wantsColour(isTerminal: Bool, environment: [String: String]) -> Bool {
        isTerminal && (environment["NO_COLOR"] ?? "").isEmpty
    }

    public func text(colour: Bool = false) -> String {
        typealias F = ReportFormatting
        var out: [(String, Colour?)] = []
        func add(_ line: String, _ colour: Colour? = nil) { out.append((line, colour)) }
        func ago(_ date: Date) -> String { F.duration(milliseconds: max(0, Int64(now.timeIntervalSince(date) * 1000))) + " ago" }
        func plural(_ count: Int, _ noun: String) -> String { "\(F.grouped(count)) \(noun)\(count == 1 ? "" : "s")" }

        add("forewarn status at \(RFC3339.format(now)), store \(TerminalText.escape(store))")
        if daemons.isEmpty {
            add("DAEMON NOT RUNNING: no daemon has written a heartbeat to this store", .red)
        }
        for daemon in daemons {
            let beat = daemon.heartbeat
            let age = "\(daemon.ageSeconds) s"
            let verdict: (String, Colour?)
            if daemon.alive {
                verdict = beat.state == .degraded
                    ? ("DEGRADED: some writes to the store fail (its log and /healthz say which)", .yellow)
                    : ("running", .green)
            } else if beat.state == .stopped {
                verdict = ("DAEMON NOT RUNNING: stopped", .red)
            } else if beat.state == .failed {
                verdict = ("DAEMON NOT RUNNING: FAILED, stopped on an error (its log says which)", .red)
            } else {
                verdict = ("HEARTBEAT STALE: none for \(age) (state \(beat.state.rawValue)): stopped or stuck", .red)
            }
            add("daemon \(TerminalText.escape(beat.instance)) \(beat.version), pid \(beat.pid) on "
                + TerminalText.escape(beat.hostname))
            add("  " + verdict.0, verdict.1)
            add("  up \(F.duration(milliseconds: Int64(daemon.uptimeSeconds * 1000))) since \(RFC3339.format(beat.startedAt)), "
                + "heartbeat \(age) ago")
            add("  config \(TerminalText.escape(beat.configPath))")
            if let loaded = beat.configLoadedAt { add("  config loaded \(RFC3339.format(loaded)) (\(ago(loaded)))") }
            add("  monitoring \(plural(beat.elements, "element")), \(plural(beat.lines, "line")), "
                + "\(plural(beat.customers, "customer")), \(plural(beat.contracts, "contract"))")
            if let member = daemon.member {
                // correlator: runs the correlator and ticket delivery; standby: members not agreed yet.
                let age = F.duration(milliseconds: Int64(member.age.components.seconds * 1000
                                                         + member.age.components.attoseconds / 1_000_000_000_000_000))
                add("  cluster: \(member.role.rawValue)\(member.leaving ? ", leaving" : ""); polls "
                    + "\(plural(member.elements, "element")), probes \(plural(member.lines, "line")), beat \(age) ago")
            }
        }
        if daemons.contains(where: { $0.member != nil }) && correlator == nil {
            add("NO CORRELATOR: no live instance holds the correlator's lock (incidents are not decided)", .red)
        }

        if let daemon = current, let health = collection {
            let elementsBad = health.elementsUnreachable > 0
            let sharing = daemons.filter { $0.alive && $0.member != nil && $0.heartbeat.collection != nil }.count
            add("collection" + (sharing > 1 ? " (the \(sharing) instances' shares together)" : daemon.alive ? "" : " (as last published)") + ":")
            add("  elements: \(F.grouped(health.elementsReachable)) reachable, \(F.grouped(health.elementsUnreachable)) "
                + "unreachable, \(F.grouped(health.elementsNotPolled)) not yet polled", elementsBad ? .red : nil)
            add("  lines: \(F.grouped(health.linesUp)) up, \(F.grouped(health.linesDown)) down, "
                + "\(F.grouped(health.linesDegraded)) degraded, \(F.grouped(health.linesUnknown)) unknown, "
                + "\(F.grouped(health.linesUnprobed)) unprobed", health.linesDown > 0 ? .red : health.linesDegraded > 0 ? .yellow : nil)
            add("  per second: \(health.pollsPerSecond) polls, \(health.probesPerSecond) probes, "
                + "\(health.trapsPerSecond) traps; \(plural(health.snmpTimeouts, "SNMP timeout"))")
            add("  last trap: " + (health.lastTrapAt.map { "\(RFC3339.format($0)) (\(ago($0)))" } ?? "none since the start"))
        } else if current != nil {
            add("collection: not published yet")
        }

        let planned = incidents.filter(\.incident.planned).count
        var summary = "incidents: \(F.grouped(incidents.count)) open"
        let severities = Severity.allCases.reversed().compactMap { severity in
            openBySeverity[severity].map { "\($0) \(severity.rawValue)" }
        } + (planned > 0 ? ["\(planned) planned"] : [])
        if !severities.isEmpty { summary += " (" + severities.joined(separator: ", ") + ")" }
        add(summary)
        if !incidents.isEmpty {
            add("  id     severity root                   lines cust.  age        found by")
        }
        for open in incidents.prefix(Self.textIncidents) {
            let incident = open.incident
            let root = "\(incident.root.subject.identifier) \(incident.root.kind.rawValue)"
            let colour: Colour? = incident.planned ? nil
                : incident.severity == .critical ? .red : incident.severity == .major ? .yellow : nil
            add("  " + F.padded("#\(incident.id.rawValue)", 7) + F.padded(incident.planned ? "planned" : incident.severity.rawValue, 9)
                + F.padded(F.fit(TerminalText.escape(root), 21), 22) + F.right(F.grouped(open.linesOut), 6)
                + F.right(F.grouped(open.customersOut), 6) + "  "
                + F.padded(F.duration(milliseconds: open.ageSeconds * 1000), 11) + (incident.proactive ? "monitoring" : "customer"),
                colour)
            var detail: [String] = []
            if let at = incident.acknowledgedAt {
                detail.append("ack " + (open.acknowledgedBy.map { "by \(TerminalText.escape($0))" } ?? "") + " \(ago(at))")
            } else {
                detail.append("not acknowledged")
            }
            if let ticket = open.ticket {
                detail.append("ticket \(TerminalText.escape(ticket.ticketID)) (\(TerminalText.escape(ticket.hook.rawValue))"
                              + (ticket.state.map { ", \(TerminalText.escape($0))" } ?? "") + ")")
            } else {
                detail.append("no ticket")
            }
            add("    " + detail.joined(separator: "; ") + ", delivery \(open.delivery.rawValue)", open.delivery == .dead ? .red : nil)
        }

        if incidents.count > Self.textIncidents {
            add("  … \(F.grouped(incidents.count - Self.textIncidents)) more, less severe: forewarn incidents --open")
        }
        if backlog.isEmpty {
            add("tickets: no hook has entries")
        }
        for entry in backlog {
            var text = "tickets \(TerminalText.escape(entry.hook.rawValue)): \(F.grouped(entry.pending)) waiting"
            if let oldest = entry.oldestPending { text += " (oldest \(Self.tenths(now.timeIntervalSince(oldest))) s)" }
            if entry.dead > 0 { text += ", \(F.grouped(entry.dead)) DEAD LETTER\(entry.dead == 1 ? "" : "S") (forewarn outbox --dead)" }
            add(text, entry.dead > 0 ? .red : nil)
        }

        if let credits {
            let totals = credits.totals.keys.sorted().map { F.money(credits.totals[$0]!, $0) }
            add("credits \(credits.month) to date: " + (totals.isEmpty ? "none" : totals.joined(separator: ", ")))
        }
        if let quarter = kpis {
            add("KPIs \(quarter.period) to date   value       target   status      counted")
            func row(_ name: String, _ rate: QuarterKPIs.Rate, decimals: Int) {
                let comparison = rate.comparison == ">=" ? "≥" : rate.comparison
                add("  " + F.padded(name, 21) + F.padded(F.percent(rate.share, decimals: decimals), 12)
                    + F.padded(F.target(comparison, rate.target), 9) + F.padded(rate.status.rawValue, 12)
                    + "\(F.grouped(rate.share.numerator)) of \(F.grouped(rate.share.denominator))",
                    rate.status == .notMet ? .yellow : nil)
            }
            row("proactive rate", quarter.proactive, decimals: 1)
            row("lines hit", quarter.linesHit, decimals: 2)
            row("fixed within a day", quarter.fixedWithinDay, decimals: 1)
        }
        if credits != nil || kpis != nil, let at = accountedAt, now.timeIntervalSince(at) >= 1 {
            add("  (credits and KPIs as of \(RFC3339.format(at)), \(ago(at)))")
        }
        for note in notes { add("note: \(TerminalText.escape(note))") }

        return out.map { line, tint in
            let fitted = F.fit(line, Self.textWidth)
            guard colour, let tint else { return fitted }
            return "\u{1B}[\(tint.rawValue)m" + fitted + "\u{1B}[0m"
        }.joined(separator: "\n") + "\n"
    }
}
