import ForewarnModel

/// The feed's JSON written straight into bytes, a row at a time: exactly the bytes `JSONEncoder`
/// gives for a `CreditFeed` with `.prettyPrinted, .sortedKeys, .withoutEscapingSlashes` and
/// snake-case keys (the tests hold the two equal on random feeds), so documents frozen by either
/// export the same. Foundation's encoder holds the whole document as a tree and sorts every
/// object's keys through the collator: minutes and gigabytes for a 200,000-line month.
enum FeedJSON {
    /// Everything before the first row: `as_of` and `period` (keys in byte order), then `rows`.
    static func appendHead(asOf: String, period: String, to out: inout [UInt8]) {
        out.append(contentsOf: "{\n  \"as_of\" : ".utf8)
        appendString(asOf, to: &out)
        out.append(contentsOf: ",\n  \"period\" : ".utf8)
        appendString(period, to: &out)
        out.append(contentsOf: ",\n  \"rows\" : [\n".utf8)
    }

    /// Everything after the last row (an empty `rows` comes out as the encoder writes it too),
    /// with the final line break.
    static func appendTail(state: CreditFeed.State, to out: inout [UInt8]) {
        out.append(contentsOf: "\n  ],\n  \"state\" : ".utf8)
        appendString(state.rawValue, to: &out)
        out.append(contentsOf: "\n}\n".utf8)
    }

    /// One row at the rows' depth, without the separator between rows (`,\n`).
    static func appendRow(_ row: CreditRow, to out: inout [UInt8]) {
        out.append(contentsOf: "    {\n".utf8)
        var first = true
        func key(_ name: String) {
            if !first { out.append(contentsOf: ",\n".utf8) }
            out.append(contentsOf: "      \"".utf8)
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: "\" : ".utf8)
            first = false
        }
        if let adjusts = row.adjusts {
            key("adjusts")
            appendString(adjusts, to: &out)
        }
        key("availability_percent")
        appendString(row.availabilityPercent, to: &out)
        key("contract")
        appendString(row.contract, to: &out)
        key("credit")
        appendString(row.credit, to: &out)
        key("credit_minor_units")
        CreditFeed.append(row.creditMinorUnits, to: &out)
        key("currency")
        appendString(row.currency, to: &out)
        key("customer")
        appendString(row.customer, to: &out)
        key("exclusions")
        appendArray(row.exclusions, to: &out) { exclusion, out in
            out.append(contentsOf: "        {\n".utf8)
            if let incident = exclusion.incident {
                out.append(contentsOf: "          \"incident\" : ".utf8)
                CreditFeed.append(incident.rawValue, to: &out)
                out.append(contentsOf: ",\n".utf8)
            }
            out.append(contentsOf: "          \"kind\" : ".utf8)
            appendString(exclusion.kind.rawValue, to: &out)
            out.append(contentsOf: ",\n          \"reason\" : ".utf8)
            appendString(exclusion.reason, to: &out)
            out.append(contentsOf: ",\n          \"seconds\" : ".utf8)
            CreditFeed.append(exclusion.seconds, to: &out)
            out.append(contentsOf: "\n        }".utf8)
        }
        key("incidents")
        appendArray(row.incidents, to: &out) { incident, out in
            out.append(contentsOf: "        ".utf8)
            CreditFeed.append(incident, to: &out)
        }
        key("kind")
        appendString(row.kind.rawValue, to: &out)
        key("line")
        appendString(row.line, to: &out)
        if let note = row.note {
            key("note")
            appendString(note, to: &out)
        }
        key("outage_seconds")
        CreditFeed.append(row.outageSeconds, to: &out)
        key("period")
        appendString(row.period, to: &out)
        key("rules")
        if row.rules.isEmpty {
            out.append(contentsOf: "{\n\n      }".utf8)
        } else {
            out.append(contentsOf: "{\n".utf8)
            let names = row.rules.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, name) in names.enumerated() {
                out.append(contentsOf: (index == 0 ? "        " : ",\n        ").utf8)
                appendString(name, to: &out)
                out.append(contentsOf: " : ".utf8)
                appendString(row.rules[name]!, to: &out)
            }
            out.append(contentsOf: "\n      }".utf8)
        }
        key("statement")
        appendString(row.statement, to: &out)
        out.append(contentsOf: "\n    }".utf8)
    }

    /// An array inside a row: its items at the next depth, `[` and `]` as the encoder sets them.
    private static func appendArray<Item>(_ items: [Item], to out: inout [UInt8],
                                          _ item: (Item, inout [UInt8]) -> Void) {
        guard !items.isEmpty else {
            out.append(contentsOf: "[\n\n      ]".utf8)
            return
        }
        out.append(contentsOf: "[\n".utf8)
        for (index, value) in items.enumerated() {
            if index > 0 { out.append(contentsOf: ",\n".utf8) }
            item(value, &out)
        }
        out.append(contentsOf: "\n      ]".utf8)
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\b \f \n \r \t` or `\u00XX`
    /// (lower-case hex), everything else, `/` and non-ASCII included, as it is.
    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            out.append(contentsOf: text.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out += [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
