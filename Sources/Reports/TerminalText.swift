/// Text from outside (customers' notes, operators' notes, ticketing systems' answers) made safe
/// for a terminal: C0 and C1 control characters and DEL are shown as escapes (`\x1b`, `\r`,
/// `\n`, `\u{9b}`) so that nothing stored can move the cursor, clear the screen or retitle
/// the window of the operator reading it.
public enum TerminalText {
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += #"\n"#
            case "\r": result += #"\r"#
            case "\t": result += #"\t"#
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                result += #"\x"# + hex(scalar.value, width: 2)
            case _ where isControl(scalar):
                result += #"\u{"# + hex(scalar.value, width: 2) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
