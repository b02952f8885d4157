import Foundation
import ForewarnModel

/// A strict RFC 4180 reader over bytes: quoted fields with `""` escapes, CRLF or LF, a header row.
/// It keeps each field's line and column so a bad value is reported where it stands. Used for
/// the inventory files and for `forewarn incident import`.
public struct CSVReader {
    public struct Field: Sendable, Hashable {
        public var text: String
        /// Where the field starts: the file's line (the header is line 1) and the column, from 1.
        public var line: Int
        public var column: Int
        /// Why the field's bytes are no text: invalid UTF-8 or a NUL byte (`text` then holds
        /// replacement characters and must not be used).
        public var encodingProblem: String?

        public init(text: String, line: Int, column: Int, encodingProblem: String? = nil) {
            (self.text, self.line, self.column, self.encodingProblem) = (text, line, column, encodingProblem)
        }
    }

    public enum Problem: Error, Sendable, CustomStringConvertible {
        case unreadable(String)
        case unterminatedQuote(line: Int, column: Int)
        case textAfterQuote(line: Int, column: Int)

        /// Where it is (line and column, when known) and what is wrong, for `FILE:` to precede.
        public var description: String {
            switch self {
            case .unreadable(let reason): return "cannot read: \(reason)"
            case .unterminatedQuote(let line, let column): return "\(line):\(column): quoted field is never closed"
            case .textAfterQuote(let line, let column):
                return "\(line):\(column): text after a closing quote (write \"\" for a quote inside a field)"
            }
        }
    }

    private let bytes: [UInt8]
    private var offset = 0
    private var line = 1
    private var lineStart = 0

    public init(path: String) throws(Problem) {
        let bytes: [UInt8]
        do { bytes = try InputFile.bytes(path) } catch { throw .unreadable(error.reason) }
        self.init(bytes: bytes)
    }

    public init(bytes: [UInt8]) {
        var bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // spreadsheet exports add a BOM
        self.bytes = bytes
    }

    /// The next non-empty row, or nil at the end.
    public mutating func nextRow() throws(Problem) -> [Field]? {
        while offset < bytes.count {
            if bytes[offset] == UInt8(ascii: "\n") || bytes[offset] == UInt8(ascii: "\r") {
                skipNewline()
                continue
            }
            var row: [Field] = []
            while true {
                row.append(try nextField())
                guard offset < bytes.count else { return row }
                if bytes[offset] == UInt8(ascii: ",") {
                    offset += 1
                    if offset == bytes.count { row.append(Field(text: "", line: line, column: offset - lineStart + 1)) }
                    continue
                }
                skipNewline()
                return row
            }
        }
        return nil
    }

    private mutating func skipNewline() {
        if bytes[offset] == UInt8(ascii: "\r") { offset += 1 }
        if offset < bytes.count && bytes[offset] == UInt8(ascii: "\n") { offset += 1 }
        line += 1
        lineStart = offset
    }

    private mutating func nextField() throws(Problem) -> Field {
        let fieldLine = line
        let column = offset - lineStart + 1
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else {
            let start = offset
            while offset < bytes.count, bytes[offset] != UInt8(ascii: ","), bytes[offset] != UInt8(ascii: "\n"),
                  bytes[offset] != UInt8(ascii: "\r") {
                offset += 1
            }
            // Unquoted fields lose surrounding blanks (hand-edited files); quoted ones keep them.
            var first = start
            var end = offset
            while first < end, bytes[first] == UInt8(ascii: " ") || bytes[first] == UInt8(ascii: "\t") { first += 1 }
            while end > first, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") { end -= 1 }
            return Field(text: String(decoding: bytes[first..<end], as: UTF8.self), line: fieldLine,
                         column: column + first - start, encodingProblem: TextBytes.problem(bytes[first..<end]))
        }
        offset += 1
        var content: [UInt8] = []
        while true {
            guard offset < bytes.count else { throw .unterminatedQuote(line: fieldLine, column: column) }
            let byte = bytes[offset]
            offset += 1
            if byte == UInt8(ascii: "\"") {
                if offset < bytes.count && bytes[offset] == UInt8(ascii: "\"") {
                    content.append(byte)
                    offset += 1
                    continue
                }
                break
            }
            if byte == UInt8(ascii: "\n") {
                line += 1
                lineStart = offset
            }
            content.append(byte)
        }
        if offset < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(bytes[offset]) {
            throw .textAfterQuote(line: line, column: offset - lineStart + 1)
        }
        return Field(text: String(decoding: content, as: UTF8.self), line: fieldLine, column: column,
                     encodingProblem: TextBytes.problem(content[...]))
    }
}

/// Checks that bytes are text a field may hold: strict UTF-8 (RFC 3629: no overlong forms, no
/// surrogates, nothing above U+10FFFF) without NUL. Decoding would otherwise turn a bad byte
/// into U+FFFD and keep going, so two different ids could become one, or an id no ticket or
/// bill can show.
enum TextBytes {
    static func problem(_ bytes: ArraySlice<UInt8>) -> String? {
        if let nul = bytes.firstIndex(of: 0) {
            return "contains a NUL byte (byte \(nul - bytes.startIndex + 1) of the value)"
        }
        guard let bad = invalidUTF8(bytes) else { return nil }
        return "is not valid UTF-8 (byte 0x\(String(bytes[bad], radix: 16, uppercase: true)) at byte "
            + "\(bad - bytes.startIndex + 1) of the value; save the file as UTF-8)"
    }

    /// The index where the first sequence that is not UTF-8 starts, if one does.
    static func invalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int? {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return index
            }
            for offset in 1..<length {
                guard index + offset < bytes.endIndex else { return index }
                let byte = bytes[index + offset]
                if !(offset == 1 ? low...high : 0x80...0xBF).contains(byte) { return index }
            }
            index += length
        }
        return nil
    }
}

/// Reads a CSV file with a header row whose columns are named from `columns`.
enum CSVTable {
    /// Calls `row` with each data row as column name → field; returns false when the file could not be read.
    static func read(path: String, shownAs name: String, referencedAt reference: SourceLocation,
                     columns: [String], required: Set<String>, sink: inout DiagnosticSink,
                     row: (_ values: [(column: String, field: CSVReader.Field)], _ at: SourceLocation,
                           _ sink: inout DiagnosticSink) -> Void) {
        func location(_ line: Int, _ column: Int? = nil) -> SourceLocation {
            SourceLocation(file: name, line: line, column: column)
        }
        do {
            var reader = try CSVReader(path: path)
            guard let header = try reader.nextRow() else {
                sink.report(location(1), "the file is empty: expected a header row (\(columns.joined(separator: ",")))")
                return
            }
            var names: [String?] = []
            var headerValid = true
            for field in header {
                let column = field.text.lowercased()
                if let problem = field.encodingProblem {
                    sink.report(location(field.line, field.column), "the header's column name \(problem)")
                    headerValid = false
                } else if !columns.contains(column) {
                    sink.report(location(field.line, field.column),
                                "unknown column '\(field.text)' (allowed: \(columns.joined(separator: ", ")))")
                    headerValid = false
                } else if names.contains(column) {
                    sink.report(location(field.line, field.column), "column '\(field.text)' appears twice")
                    headerValid = false
                }
                names.append(column)
            }
            for missing in required.subtracting(names.compactMap { $0 }).sorted() {
                sink.report(location(header.first?.line ?? 1), "the header has no column '\(missing)'")
                headerValid = false
            }
            guard headerValid else { return }
            while let fields = try reader.nextRow() {
                let at = location(fields[0].line)
                guard fields.count == names.count else {
                    sink.report(at, "row has \(fields.count) fields, the header has \(names.count)")
                    continue
                }
                var values: [(column: String, field: CSVReader.Field)] = []
                values.reserveCapacity(names.count)
                var readable = true
                for (name, field) in zip(names, fields) {
                    if let problem = field.encodingProblem {
                        sink.report(location(field.line, field.column), "'\(name!)' \(problem)")
                        readable = false
                    } else if !field.text.isEmpty {
                        values.append((name!, field))
                    }
                }
                // A row with a field that is no text is reported and left out whole.
                if readable { row(values, at, &sink) }
            }
        } catch {
            switch error {
            case .unreadable(let reason):
                sink.report(reference, "cannot read '\(name)': \(reason)")
            case .unterminatedQuote(let line, let column):
                sink.report(location(line, column), "quoted field is never closed")
            case .textAfterQuote(let line, let column):
                sink.report(location(line, column), "text after a closing quote (write \"\" for a quote inside a field)")
            }
        }
    }
}

enum LineCSV {
    static func read(path: String, shownAs name: String, referencedAt reference: SourceLocation,
                     index: inout InventoryIndex, probes: LineProbeContext, sink: inout DiagnosticSink) -> [Line] {
        var lines: [Line] = []
        CSVTable.read(path: path, shownAs: name, referencedAt: reference, columns: LineFields.keys,
                      required: LineFields.required, sink: &sink) { values, at, sink in
            var fields = LineFields(location: at)
            for (key, field) in values {
                fields.values[key] = (field.text, SourceLocation(file: name, line: field.line, column: field.column))
            }
            if let line = fields.validate(index: &index, probes: probes, sink: &sink) { lines.append(line) }
        }
        return lines
    }
}

enum CustomerCSV {
    static func read(path: String, shownAs name: String, referencedAt reference: SourceLocation,
                     index: inout InventoryIndex, sink: inout DiagnosticSink) -> [Customer] {
        var customers: [Customer] = []
        CSVTable.read(path: path, shownAs: name, referencedAt: reference, columns: ["id", "name"], required: ["id"],
                      sink: &sink) { values, at, sink in
            guard let id = values.first(where: { $0.column == "id" })?.field else {
                sink.report(at, "a customer has no id")
                return
            }
            let location = SourceLocation(file: name, line: id.line, column: id.column)
            guard index.addCustomer(CustomerID(id.text), at: location, sink: &sink) else { return }
            let customerName = values.first(where: { $0.column == "name" })?.field.text ?? id.text
            customers.append(Customer(id: CustomerID(id.text), name: customerName))
        }
        return customers
    }
}
