import Foundation
import ForewarnModel

/// One row of the billing feed: a line's outage and credit in a period, or an adjustment of a
/// closed period booked in this one.
public struct CreditRow: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case credit, adjustment
    }

    public var customer: String
    public var line: String
    public var contract: String
    public var period: String
    public var kind: Kind
    /// For an adjustment: the closed period it corrects.
    public var adjusts: String?
    public var outageSeconds: Int64
    public var availabilityPercent: String
    /// Major units with the currency's minor digits, `40.00`.
    public var credit: String
    public var creditMinorUnits: Int64
    public var currency: String
    public var incidents: [Int64]
    /// Each rule's amount before combining, cap and minimum, rounded by the policy, by rule kind.
    public var rules: [String: String]
    public var exclusions: [Exclusion]
    /// Why there is no credit at all (no contract, no policy), when that is the case.
    public var note: String?
    /// What the customer's bill prints.
    public var statement: String
}

/// A period's feed: every row, as billing imports it.
public struct CreditFeed: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        case open, closed
    }

    public var period: String
    public var state: State
    /// When it was computed (open) or closed.
    public var asOf: String
    public var rows: [CreditRow]

    public init(period: String, state: State, asOf: String, rows: [CreditRow]) {
        (self.period, self.state, self.asOf, self.rows) = (period, state, asOf, rows)
    }

    /// Totals per currency, in minor units.
    public var totals: [String: Int64] {
        rows.reduce(into: [:]) { $0[$1.currency, default: 0] += $1.creditMinorUnits }
    }

    public func only(customer: String?) -> CreditFeed {
        guard let customer else { return self }
        var copy = self
        copy.rows = rows.filter { $0.customer == customer }
        return copy
    }

    // MARK: rendering

    public enum Format: String, Sendable, CaseIterable {
        case csv, json, text
    }

    public func rendered(_ format: Format) -> String {
        switch format {
        case .csv: return csv
        case .json: return json
        case .text: return text
        }
    }

    public static let csvColumns = [
        "customer_id", "line_id", "contract_id", "period", "outage_seconds", "availability_percent", "credit",
        "currency", "incident_ids", "rule_tiers", "rule_per_step", "rule_restore_time", "rule_outage_days", "kind",
        "adjusts_period", "exclusions", "statement",
    ]
    static let ruleKinds = ["tiers", "per_step", "restore_time", "outage_days"]

    /// The feed as bytes, CSV written straight into them: what `--output` writes.
    public func renderedBytes(_ format: Format) -> [UInt8] {
        switch format {
        case .csv: return csvBytes
        case .json: return jsonBytes
        case .text: return Array(text.utf8)
        }
    }

    /// RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, UTF-8.
    public var csv: String { String(decoding: csvBytes, as: UTF8.self) }

    /// `csv`, rendered into one buffer without a string per field.
    public var csvBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count * 320 + 256)
        Self.appendCSVHeader(to: &out)
        for row in rows { Self.appendCSV(row, to: &out) }
        return out
    }

    /// The CSV's first line, the column names.
    public static func appendCSVHeader(to out: inout [UInt8]) {
        out.append(contentsOf: csvColumns.joined(separator: ",").utf8)
        out += [13, 10]
    }

    /// One row of the CSV, CRLF included.
    public static func appendCSV(_ row: CreditRow, to out: inout [UInt8]) {
        let comma = UInt8(ascii: ",")
        append(row.customer, to: &out)
        out.append(comma)
        append(row.line, to: &out)
        out.append(comma)
        append(row.contract, to: &out)
        out.append(comma)
        append(row.period, to: &out)
        out.append(comma)
        append(row.outageSeconds, to: &out)
        out.append(comma)
        append(row.availabilityPercent, to: &out)
        out.append(comma)
        append(row.credit, to: &out)
        out.append(comma)
        append(row.currency, to: &out)
        out.append(comma)
        for (index, incident) in row.incidents.enumerated() {
            if index > 0 { out.append(UInt8(ascii: " ")) }
            append(incident, to: &out)
        }
        for kind in ruleKinds {
            out.append(comma)
            if let amount = row.rules[kind] { append(amount, to: &out) }
        }
        out.append(comma)
        append(row.kind.rawValue, to: &out)
        out.append(comma)
        if let adjusts = row.adjusts { append(adjusts, to: &out) }
        out.append(comma)
        if !row.exclusions.isEmpty || row.note != nil { append(exclusionText(row), to: &out) }
        out.append(comma)
        append(row.statement, to: &out)
        out += [13, 10]
    }

    static func isSpecial(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == 10 || byte == 13
    }

    /// The field, quoted (quotes doubled) when it holds a comma, quote or line break.
    static func append(_ field: String, to out: inout [UInt8]) {
        guard field.utf8.contains(where: isSpecial) else {
            out.append(contentsOf: field.utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in field.utf8 {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Decimal digits, as `String(value)` writes them.
    static func append(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = value.magnitude
        var divisor: UInt64 = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude / divisor % 10))
            divisor /= 10
        } while divisor > 0
    }

    static func exclusionText(_ row: CreditRow) -> String {
        var parts = row.exclusions.map { "\($0.reason): \($0.seconds) s" }
        if let note = row.note { parts.append(note) }
        return parts.joined(separator: "; ")
    }

    /// Pretty-printed, keys in order, snake case: the bytes `JSONEncoder` writes (see `FeedJSON`).
    public var json: String { String(decoding: jsonBytes, as: UTF8.self) }

    public var jsonBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count * 900 + 256)
        FeedJSON.appendHead(asOf: asOf, period: period, to: &out)
        for (index, row) in rows.enumerated() {
            if index > 0 { out.append(contentsOf: ",\n".utf8) }
            FeedJSON.appendRow(row, to: &out)
        }
        FeedJSON.appendTail(state: state, to: &out)
        return out
    }

    public static func decode(json: String) throws(BillingError) -> CreditFeed {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(CreditFeed.self, from: Data(json.utf8))
        } catch {
            throw BillingError("the stored feed cannot be read: \(error)")
        }
    }

    public var text: String {
        let totalsText = totals.keys.sorted().map { currency in
            "\(Money(minorUnits: totals[currency]!, currency: currency).decimalText) \(currency)"
        }.joined(separator: ", ")
        var out = "credits \(period) (\(state.rawValue), as of \(asOf)): \(rows.count) row\(rows.count == 1 ? "" : "s")"
            + (totalsText.isEmpty ? "" : ", total \(totalsText)") + "\n"
        for row in rows {
            let what = row.kind == .adjustment ? "adjusts \(row.adjusts ?? "?")" : "outage \(row.outageSeconds) s"
            out += "\(row.customer) \(row.line) \(row.contract.isEmpty ? "-" : row.contract): \(what), "
                + "availability \(row.availabilityPercent) %, credit \(row.credit) \(row.currency)"
                + (row.incidents.isEmpty ? "" : ", incidents \(row.incidents.map { "#\($0)" }.joined(separator: " "))") + "\n"
            for exclusion in row.exclusions {
                out += "    excluded: \(exclusion.reason), \(exclusion.seconds) s\n"
            }
            if let note = row.note { out += "    \(note)\n" }
            if !row.statement.isEmpty { out += "    bill: \(row.statement)\n" }
        }
        return out
    }
}
