import Correlation
import ForewarnConfig
import ForewarnModel
import Foundation
import Persistence

/// One thing wrong with what an operator entered, where it stands: `FILE:ROW:COLUMN` of an
/// import (the header is row 1, columns count characters from 1) or the option (`--start`).
public struct ManualEntryProblem: Sendable, Hashable, CustomStringConvertible {
    public var location: String
    public var message: String

    public init(_ location: String, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// Incidents entered by hand that cannot be recorded: every problem found (an import is
/// refused whole), the first `reportedLimit` listed.
public struct ManualEntryError: Error, Sendable, CustomStringConvertible {
    public static let reportedLimit = 50

    public var problems: [ManualEntryProblem]

    public init(_ problems: [ManualEntryProblem]) { self.problems = problems }

    public var description: String {
        var lines = problems.prefix(Self.reportedLimit).map(\.description)
        if problems.count > Self.reportedLimit { lines.append("… and \(problems.count - Self.reportedLimit) more problems") }
        return lines.joined(separator: "\n")
    }
}

/// Instants as operators type them: RFC 3339, or `YYYY-MM-DD HH:MM` (optionally `:SS`) in a
/// time zone. A local time the clocks skipped, or one they passed twice, is refused rather than
/// guessed.
public enum OperatorTime {
    /// Why a text is not an instant.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var reason: String
        public init(_ reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    public static func parse(_ text: String, in zone: TimeZone) -> Result<Date, Problem> {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let date = RFC3339.parse(text) { return .success(date) }
        let expected = "not a time: write RFC 3339 (2026-11-10T09:30:00Z, 2026-11-10T10:30:00+01:00) "
            + "or YYYY-MM-DD HH:MM in \(zone.identifier)"
        let bytes = Array(text.utf8)
        guard bytes.count == 16 || bytes.count == 19, bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "T"),
              bytes.count == 16 || bytes[16] == UInt8(ascii: ":") else { return .failure(Problem("'\(text)' is \(expected)")) }
        let seconds = bytes.count == 19 ? String(decoding: bytes[17..<19], as: UTF8.self) : "00"
        // The wall-clock reading as if it were UTC, checked as a date (no 30 February).
        guard let naive = RFC3339.parse(String(decoding: bytes[0..<10], as: UTF8.self) + "T"
                                        + String(decoding: bytes[11..<16], as: UTF8.self) + ":\(seconds)Z") else {
            return .failure(Problem("'\(text)' is \(expected)"))
        }
        // Every offset in force around then; the instants whose local reading it is.
        let offsets = Set([-86_400.0, 0, 86_400].map { zone.secondsFromGMT(for: naive.addingTimeInterval($0)) })
        let instants = Set(offsets.map { naive.addingTimeInterval(-Double($0)) }.filter { instant in
            Double(zone.secondsFromGMT(for: instant)) == naive.timeIntervalSince(instant)
        })
        switch instants.count {
        case 1: return .success(instants.first!)
        case 0: return .failure(Problem("'\(text)' does not exist in \(zone.identifier) (the clocks were put forward)"))
        default:
            return .failure(Problem("'\(text)' happened twice in \(zone.identifier) (the clocks were put back): "
                                    + "write it in RFC 3339 with its offset"))
        }
    }
}

/// What incidents entered by hand are checked against: the inventory, the clock, the zone
/// local times are read in, and who enters them.
public struct ManualEntryRules: Sendable {
    public var topology: Topology
    public var lineCustomers: [LineID: CustomerID]
    public var customerLines: [CustomerID: [LineID]]
    public var elements: Set<ElementID>
    public var now: Date
    public var timeZone: TimeZone
    public var by: String

    public init(configuration: Configuration, now: Date, timeZone: TimeZone, by: String) {
        topology = Topology(elements: configuration.elements, lines: configuration.lines)
        var lineCustomers: [LineID: CustomerID] = [:]
        var customerLines: [CustomerID: [LineID]] = [:]
        for line in configuration.lines where lineCustomers[line.id] == nil {
            lineCustomers[line.id] = line.customer
            customerLines[line.customer, default: []].append(line.id)
        }
        for customer in configuration.customers where customerLines[customer.id] == nil { customerLines[customer.id] = [] }
        self.lineCustomers = lineCustomers
        self.customerLines = customerLines
        elements = Set(configuration.elements.map(\.id))
        self.now = now
        self.timeZone = timeZone
        self.by = by
    }

    /// An instant an operator gave: readable, not before 2000, not after now.
    func instant(_ value: ManualIncidentDraft.Value, _ name: String,
                 _ problems: inout [ManualEntryProblem]) -> Date? {
        switch OperatorTime.parse(value.text, in: timeZone) {
        case .failure(let reason):
            problems.append(ManualEntryProblem(value.location, "\(name): \(reason)"))
            return nil
        case .success(let date):
            if date < TimeBounds.floor {
                problems.append(ManualEntryProblem(value.location, "\(name): \(value.text) is before 2000"))
                return nil
            }
            if date > now {
                problems.append(ManualEntryProblem(value.location,
                                                   "\(name): \(value.text) is in the future (now \(RFC3339.format(now)))"))
                return nil
            }
            return date
        }
    }
}

/// An incident as an operator wrote it (options of `incident add`, or one import row), each
/// value with where it stands, before it is checked.
public struct ManualIncidentDraft: Sendable {
    public struct Value: Sendable, Hashable {
        public var text: String
        public var location: String
        public init(_ text: String, at location: String) {
            self.text = text
            self.location = location
        }
    }

    public var lines: Value?
    public var element: Value?
    public var customer: Value?
    public var start: Value?
    public var end: Value?
    public var classification: Value?
    public var note: Value?
    public var firstCall: Value?
    public var ticket: Value?
    /// Where the whole entry stands (`FILE:ROW:1`, or `command line`), for what concerns it whole.
    public var location: String
    /// How the timeline names where it came from (`command line`, `import FILE:ROW`).
    public var source: String

    public init(location: String, source: String) {
        self.location = location
        self.source = source
    }

    /// The checked incident (its id still 0: ids are reserved once everything is valid), or
    /// what is wrong with it.
    public func check(_ rules: ManualEntryRules) -> Result<ManualIncident, ManualEntryError> {
        var problems: [ManualEntryProblem] = []
        var scope = ManualIncident.Scope.lines
        var lines: [LineID] = []
        let given: [(name: String, value: Value?)] = [("lines", self.lines), ("element", element), ("customer", customer)]
        let named = given.filter { $0.value != nil }.map(\.name)
        if named.count != 1 {
            problems.append(ManualEntryProblem(location, named.isEmpty ? "give the lines, an element or a customer"
                                               : "give one of lines, element or customer, not \(named.joined(separator: " and "))"))
        } else if let value = self.lines {
            var unknown: [String] = []
            for token in value.text.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " || $0 == "\t" }) {
                let line = LineID(String(token))
                if rules.lineCustomers[line] == nil { unknown.append(String(token)) } else { lines.append(line) }
            }
            if !unknown.isEmpty {
                problems.append(ManualEntryProblem(value.location, "lines: unknown line"
                                                   + (unknown.count == 1 ? "" : "s") + " "
                                                   + unknown.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
                                                   + (unknown.count > 5 ? " and \(unknown.count - 5) more" : "")))
            } else if lines.isEmpty {
                problems.append(ManualEntryProblem(value.location, "lines: empty"))
            }
        } else if let value = element {
            let element = ElementID(value.text)
            scope = .element(element)
            if let behind = rules.topology.linesCutOff(by: element) {
                lines = behind
                if behind.isEmpty { problems.append(ManualEntryProblem(value.location, "element: '\(value.text)' has no lines behind it")) }
            } else {
                problems.append(ManualEntryProblem(value.location, "element: unknown element '\(value.text)'"))
            }
        } else if let value = customer {
            let customer = CustomerID(value.text)
            scope = .customer(customer)
            if let owned = rules.customerLines[customer] {
                lines = owned
                if owned.isEmpty { problems.append(ManualEntryProblem(value.location, "customer: '\(value.text)' has no lines")) }
            } else {
                problems.append(ManualEntryProblem(value.location, "customer: unknown customer '\(value.text)'"))
            }
        }
        var start: Date?
        if let value = self.start {
            start = rules.instant(value, "start", &problems)
        } else {
            problems.append(ManualEntryProblem(location, "give the start"))
        }
        let end = self.end.flatMap { rules.instant($0, "end", &problems) }
        if let start, let end, end <= start, let value = self.end {
            problems.append(ManualEntryProblem(value.location, "end: \(value.text) is not after the start"))
        }
        var classification: Classification?
        if let value = self.classification {
            classification = Classification(rawValue: value.text)
            if classification == nil {
                problems.append(ManualEntryProblem(value.location, "classification: unknown '\(value.text)' "
                                                   + "(network, customer-caused, force-majeure or planned)"))
            }
        }
        let firstCall = self.firstCall.flatMap { rules.instant($0, "first call", &problems) }
        if let start, let firstCall, firstCall < start, let value = self.firstCall {
            problems.append(ManualEntryProblem(value.location, "first call: \(value.text) is before the start "
                                               + "(the outage had begun by then: correct the start)"))
        }
        let ticket = self.ticket?.text.trimmingCharacters(in: .whitespaces)
        guard problems.isEmpty, let start else { return .failure(ManualEntryError(problems)) }
        return .success(ManualIncident(id: IncidentID(0), scope: scope, lines: Array(Set(lines)).sorted(), start: start,
                                       end: end, classification: classification, note: note?.text ?? "",
                                       firstCall: firstCall, ticket: ticket?.isEmpty == false ? ticket : nil,
                                       by: rules.by, at: rules.now, source: source))
    }
}

extension ManualIncident {
    /// Two entries for the same outage: the same lines from the same start.
    public var duplicateKey: String {
        "\(start.unixMilliseconds) " + lines.map(\.rawValue).joined(separator: "\u{1F}")
    }
}

public enum ManualEntry {
    /// Entries that repeat one already in the store (an import run twice): refused, naming it.
    public static func alreadyEntered(_ entries: [(incident: ManualIncident, location: String)],
                                      stored: [IncidentRecord]) -> [ManualEntryProblem] {
        var existing: [String: IncidentID] = [:]
        for record in stored {
            let lines = Array(Set(record.lines.map(\.line))).sorted()
            let key = "\(record.incident.startedAt.unixMilliseconds) " + lines.map(\.rawValue).joined(separator: "\u{1F}")
            existing[key] = existing[key] ?? record.incident.id
        }
        return entries.compactMap { entry in
            existing[entry.incident.duplicateKey].map {
                ManualEntryProblem(entry.location, "already entered as incident \($0) (the same lines from the same start)")
            }
        }
    }
}
