import ForewarnModel
import Foundation
import Yams

/// A YAML node together with the file it came from, for messages that name file:line:column.
struct Located {
    let node: Node
    let file: String

    var location: SourceLocation {
        SourceLocation(file: file, line: node.mark?.line, column: node.mark?.column)
    }

    /// The text of a scalar; nil for a mapping or sequence.
    var scalarText: String? { node.scalar?.string }

    var isNull: Bool {
        guard let scalar = node.scalar else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }
}

/// The keys of one YAML mapping, checked against the keys its section allows. Unknown keys are
/// reported where they stand (the YAML parser already rejects repeated ones).
struct Fields {
    let owner: Located
    var what: String
    private var entries: [String: (key: Located, value: Located)] = [:]

    /// `what` names the mapping in messages; for a list item with an `id`, pass `kind` and the
    /// item is named by its id ("element 'agg1'") as soon as it has one.
    init?(_ located: Located, what: String, kind: String? = nil, allowed: [String], sink: inout DiagnosticSink) {
        guard let mapping = located.node.mapping else {
            sink.report(located.location, "\(what) must be a mapping of keys to values")
            return nil
        }
        owner = located
        self.what = what
        if let kind, let id = mapping.first(where: { $0.key.scalar?.string == "id" })?.value.scalar?.string, !id.isEmpty {
            self.what = "\(kind) '\(id)'"
        }
        let allowedSet = Set(allowed)
        for (keyNode, valueNode) in mapping {
            let key = Located(node: keyNode, file: located.file)
            let value = Located(node: valueNode, file: located.file)
            guard let name = key.scalarText else {
                sink.report(key.location, "\(self.what) has a key that is not a plain name")
                continue
            }
            guard allowedSet.contains(name) else {
                sink.report(key.location,
                            "unknown key '\(name)' in \(self.what) (allowed: \(allowed.joined(separator: ", ")))")
                continue
            }
            entries[name] = (key, value)
        }
    }

    func value(_ key: String) -> Located? {
        guard let entry = entries[key], !entry.value.isNull else { return nil }
        return entry.value
    }

    func has(_ key: String) -> Bool { value(key) != nil }

    func keyLocation(_ key: String) -> SourceLocation { entries[key]?.key.location ?? owner.location }

    func string(_ key: String, required: Bool = false, sink: inout DiagnosticSink) -> String? {
        guard let value = value(key) else {
            if required { sink.report(owner.location, "\(what) is missing required key '\(key)'") }
            return nil
        }
        guard let text = value.scalarText else {
            sink.report(value.location, "'\(key)' in \(what) must be a single value, not a list or mapping")
            return nil
        }
        if text.isEmpty && required {
            sink.report(value.location, "'\(key)' in \(what) must not be empty")
            return nil
        }
        return text
    }

    func list(_ key: String, sink: inout DiagnosticSink) -> [Located] {
        guard let value = value(key) else { return [] }
        guard let sequence = value.node.sequence else {
            sink.report(value.location, "'\(key)' in \(what) must be a list")
            return []
        }
        return sequence.map { Located(node: $0, file: value.file) }
    }

    func strings(_ key: String, sink: inout DiagnosticSink) -> [(text: String, at: Located)] {
        list(key, sink: &sink).compactMap { item in
            guard let text = item.scalarText, !text.isEmpty else {
                sink.report(item.location, "each entry of '\(key)' in \(what) must be a single value")
                return nil
            }
            return (text, item)
        }
    }

    func integer(_ key: String, in range: ClosedRange<Int64>, sink: inout DiagnosticSink) -> Int64? {
        guard let text = string(key, sink: &sink) else { return nil }
        let digits = text.replacingOccurrences(of: "_", with: "")
        guard let number = Int64(digits), range.contains(number) else {
            sink.report(value(key)!.location,
                        "'\(key)' in \(what) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
            return nil
        }
        return number
    }

    /// A duration within `range`: every duration has an upper bound as well, so that nothing
    /// `check-config` accepts can overflow the daemon's arithmetic or hold up its shutdown.
    func duration(_ key: String, default fallback: Duration, in range: ClosedRange<Duration>,
                  sink: inout DiagnosticSink) -> Duration {
        guard let text = string(key, sink: &sink) else { return fallback }
        guard let duration = DurationText.parse(text), range.contains(duration) else {
            sink.report(value(key)!.location,
                        "'\(key)' in \(what) must be a duration from \(DurationText.format(range.lowerBound)) to \(DurationText.format(range.upperBound)) such as 500ms, 30s, 5m or 1h, not '\(text)'")
            return fallback
        }
        return duration
    }

    func choice<T: RawRepresentable>(_ key: String, _ type: T.Type, default fallback: T? = nil,
                                     sink: inout DiagnosticSink) -> T?
    where T: CaseIterable, T.RawValue == String {
        guard let text = string(key, sink: &sink) else { return fallback }
        guard let choice = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            sink.report(value(key)!.location, "'\(key)' in \(what) must be one of \(allowed), not '\(text)'")
            return nil
        }
        return choice
    }
}
