/// Where in which file something was written; line and column count from 1.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?

    public init(file: String, line: Int? = nil, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String {
        guard let line else { return file }
        guard let column else { return "\(file):\(line)" }
        return "\(file):\(line):\(column)"
    }
}

/// One problem found in a configuration or inventory file.
public struct ConfigDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// A configuration that cannot be used, with every problem found (not just the first), in
/// file order, so an engineer fixes them in one pass.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// More than this many problems usually means a wrong file or column layout; the rest are counted.
    public static let reportedLimit = 200

    public var diagnostics: [ConfigDiagnostic]
    public var suppressed: Int

    public init(diagnostics: [ConfigDiagnostic], suppressed: Int = 0) {
        self.diagnostics = diagnostics
        self.suppressed = suppressed
    }

    public var description: String {
        var lines = diagnostics.map(\.description)
        if suppressed > 0 { lines.append("… and \(suppressed) more problems") }
        return lines.joined(separator: "\n")
    }
}

/// Collects diagnostics while a configuration is read and checked.
struct DiagnosticSink {
    private(set) var diagnostics: [ConfigDiagnostic] = []
    private(set) var suppressed = 0

    var isEmpty: Bool { diagnostics.isEmpty }

    mutating func report(_ location: SourceLocation, _ message: String) {
        if diagnostics.count < ConfigError.reportedLimit {
            diagnostics.append(ConfigDiagnostic(location, message))
        } else {
            suppressed += 1
        }
    }

    func error() -> ConfigError? {
        isEmpty ? nil : ConfigError(diagnostics: diagnostics, suppressed: suppressed)
    }
}
