internal import CYaml

/// Bounds what a small YAML file can cost before it is composed. Anchors and aliases let a few
/// hundred bytes stand for billions of nodes ("billion laughs"); Yams composes aliases by
/// reference, but hashing such a node as a mapping key, or walking it, takes the expanded size.
/// One linear pass over libyaml's events adds up the size of the document with every alias
/// expanded and refuses it when aliases add more than `maximumNodes` to what is written out (a
/// long inventory written out in full costs only its length), and refuses nesting past
/// `maximumDepth` (the composer recurses once per level).
enum YAMLBudget {
    static let maximumNodes = 100_000
    static let maximumDepth = 64

    struct Exceeded: Error, Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    /// Checks `yaml`; a syntax error is left for the composer to report in its own words.
    static func check(_ yaml: String) -> Exceeded? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(yaml.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> Exceeded? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var expanded = 0
            var addedByAliases = 0
            var sizes: [String: Int] = [:]
            var open: [(anchor: String?, startedAt: Int)] = []
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                let column = Int(event.start_mark.column) + 1
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_SCALAR_EVENT:
                    expanded += 1
                    if let anchor = text(event.data.scalar.anchor) { sizes[anchor] = 1 }
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    expanded += 1
                    let anchor = event.type == YAML_SEQUENCE_START_EVENT
                        ? text(event.data.sequence_start.anchor) : text(event.data.mapping_start.anchor)
                    open.append((anchor, expanded))
                    if open.count > maximumDepth {
                        return Exceeded(line: line, column: column,
                                        message: "YAML nested deeper than \(maximumDepth) levels")
                    }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    if let last = open.popLast(), let anchor = last.anchor {
                        sizes[anchor] = expanded - last.startedAt + 1
                    }
                case YAML_ALIAS_EVENT:
                    // An undefined alias is the composer's to report.
                    let size = text(event.data.alias.anchor).flatMap { sizes[$0] } ?? 1
                    expanded += size
                    addedByAliases += size - 1
                default:
                    break
                }
                if addedByAliases > maximumNodes {
                    return Exceeded(line: line, column: column,
                                    message: "YAML aliases expand the document beyond \(maximumNodes) nodes (anchors and aliases are limited so that a small file cannot take minutes to read)")
                }
            }
        }
    }

    private static func text(_ pointer: UnsafePointer<UInt8>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }
}
