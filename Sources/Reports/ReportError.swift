/// Why a report cannot be made: a period that does not parse, a template that does not load.
/// Messages say what was given and what is expected.
public struct ReportError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
