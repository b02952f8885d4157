import ForewarnConfig
import ForewarnModel
import Foundation

/// `forewarn incident import FILE.csv`: many incidents entered by hand at once, all or none.
/// RFC 4180 with a header row naming the columns (any order, any case): `lines` (several
/// separated by `,`, `;` or spaces, the cell quoted when it holds a comma), `element` or
/// `customer` (one of the three per row), `start` (required), `end`, `classification`, `note`,
/// `first_call`, `ticket`. Empty cells are "not given". Every problem names `FILE:ROW:COLUMN`
/// (the header is row 1; a field's column in characters).
public enum IncidentImport {
    public static let columns = ["lines", "element", "customer", "start", "end", "classification", "note",
                                 "first_call", "ticket"]

    /// The file's incidents, checked (ids still 0), or every problem found.
    public static func read(path: String, shownAs name: String,
                            rules: ManualEntryRules) -> Result<[(incident: ManualIncident, location: String)], ManualEntryError> {
        do {
            var reader = try CSVReader(path: path)
            return read(&reader, shownAs: name, rules: rules)
        } catch {
            return .failure(ManualEntryError([problem(error, in: name)]))
        }
    }

    /// As `read(path:…)`, from a reader (tests give the text).
    public static func read(_ reader: inout CSVReader, shownAs name: String,
                            rules: ManualEntryRules) -> Result<[(incident: ManualIncident, location: String)], ManualEntryError> {
        var problems: [ManualEntryProblem] = []
        var incidents: [(incident: ManualIncident, location: String)] = []
        func at(_ line: Int, _ column: Int) -> String { "\(name):\(line):\(column)" }
        do {
            guard let header = try reader.nextRow() else {
                return .failure(ManualEntryError([ManualEntryProblem(at(1, 1), "the file is empty: expected a header row "
                                                                     + "(\(columns.joined(separator: ",")))")]))
            }
            var names: [String] = []
            for field in header {
                let column = field.text.trimmingCharacters(in: .whitespaces).lowercased()
                if !columns.contains(column) {
                    problems.append(ManualEntryProblem(at(field.line, field.column), "unknown column '\(field.text)' "
                                                       + "(allowed: \(columns.joined(separator: ", ")))"))
                } else if names.contains(column) {
                    problems.append(ManualEntryProblem(at(field.line, field.column), "column '\(field.text)' appears twice"))
                }
                names.append(column)
            }
            let headerLine = header.first?.line ?? 1
            if !names.contains("start") {
                problems.append(ManualEntryProblem(at(headerLine, 1), "the header has no column 'start'"))
            }
            if !names.contains(where: { ["lines", "element", "customer"].contains($0) }) {
                problems.append(ManualEntryProblem(at(headerLine, 1), "the header names no scope: a column 'lines', "
                                                   + "'element' or 'customer'"))
            }
            guard problems.isEmpty else { return .failure(ManualEntryError(problems)) }

            var firstRow: [String: Int] = [:]
            while let fields = try reader.nextRow() {
                let row = fields[0].line
                guard fields.count == names.count else {
                    problems.append(ManualEntryProblem(at(row, 1), "the row has \(fields.count) fields, "
                                                       + "the header \(names.count)"))
                    continue
                }
                let unreadable = zip(names, fields).filter { $0.1.encodingProblem != nil }
                for (column, field) in unreadable {
                    problems.append(ManualEntryProblem(at(field.line, field.column), "\(column) \(field.encodingProblem!)"))
                }
                guard unreadable.isEmpty else { continue }
                var draft = ManualIncidentDraft(location: at(row, 1), source: "import \(name):\(row)")
                for (column, field) in zip(names, fields) where !field.text.isEmpty {
                    let value = ManualIncidentDraft.Value(field.text, at: at(field.line, field.column))
                    switch column {
                    case "lines": draft.lines = value
                    case "element": draft.element = value
                    case "customer": draft.customer = value
                    case "start": draft.start = value
                    case "end": draft.end = value
                    case "classification": draft.classification = value
                    case "note": draft.note = value
                    case "first_call": draft.firstCall = value
                    default: draft.ticket = value
                    }
                }
                switch draft.check(rules) {
                case .failure(let error):
                    problems += error.problems
                case .success(let incident):
                    let key = incident.duplicateKey
                    if let earlier = firstRow[key] {
                        problems.append(ManualEntryProblem(draft.start?.location ?? at(row, 1),
                                                           "duplicate of row \(earlier) (the same lines from the same start)"))
                    } else {
                        firstRow[key] = row
                        incidents.append((incident, at(row, 1)))
                    }
                }
            }
        } catch {
            problems.append(problem(error, in: name))
        }
        if problems.isEmpty && incidents.isEmpty {
            problems.append(ManualEntryProblem(at(2, 1), "no incidents: the file has a header and no rows"))
        }
        return problems.isEmpty ? .success(incidents) : .failure(ManualEntryError(problems))
    }

    private static func problem(_ error: CSVReader.Problem, in name: String) -> ManualEntryProblem {
        switch error {
        case .unreadable(let reason): return ManualEntryProblem(name, "cannot read: \(reason)")
        case .unterminatedQuote(let line, let column):
            return ManualEntryProblem("\(name):\(line):\(column)", "quoted field is never closed")
        case .textAfterQuote(let line, let column):
            return ManualEntryProblem("\(name):\(line):\(column)",
                                      "text after a closing quote (write \"\" for a quote inside a field)")
        }
    }
}
