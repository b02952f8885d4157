import Foundation
import ForewarnModel
import Mustache

/// A hook's templates, parsed once and checked against the event document's fields, so a
/// mistake is found by `check-config`, not by the first delivery.
public struct CompiledHook: Sendable {
    public let hook: Hook

    struct Request: Sendable {
        var spec: WebhookRequest
        var url: MustacheTemplate
        var headers: [(name: String, value: MustacheTemplate)]
        var body: MustacheTemplate?
    }

    enum Target: Sendable {
        case webhook(headers: [(name: String, value: MustacheTemplate)], requests: [Webhook.Request: Request], spec: Webhook)
        case command(arguments: [MustacheTemplate], spec: CommandHook)
    }

    let target: Target

    /// Whether the hook learns a ticket id from its open: then an update or resolve without one
    /// (its open was dropped or skipped) is not sent.
    var extractsTicketID: Bool {
        guard case .webhook(_, let requests, _) = target else { return false }
        return requests[.open]?.spec.ticketID != nil
    }
}

/// A template problem, at the place the template was written.
public struct TemplateProblem: Sendable, Hashable, CustomStringConvertible {
    public var location: String
    public var message: String
    public var description: String { "\(location): \(message)" }
}

public enum HookTemplates {
    /// Every field a template may name (`docs/ticketing.md`), as dotted paths from the top.
    static let fields: Set<String> = [
        "event", "change", "idempotency_key", "document", "lines_more", "customers_more",
        "incident", "incident.id", "incident.state", "incident.severity", "incident.root", "incident.root.type",
        "incident.root.id", "incident.root.kind", "incident.root.name", "incident.root.element_kind", "incident.lines",
        "incident.customers", "incident.classification", "incident.planned", "incident.flapping", "incident.proactive",
        "incident.started_at", "incident.detected_at", "incident.resolved_at", "incident.merged", "incident.merged_into",
        "incident.summary", "incident.link", "lines", "customers", "ticket", "ticket.id", "ticket.state", "hook",
        "hook.id", "url",
    ]
    /// Fields of the list items (`{{#lines}}{{id}}{{/lines}}`).
    static let itemFields: Set<String> = ["id", "customer", "start", "end", "name", "."]

    static let registerContentTypes: Void = {
        MustacheContentTypes.register(JSONContent(), named: "JSON")
        MustacheContentTypes.register(FormContent(), named: "FORM")
    }()

    /// Parses and checks every template of the hooks; the compiled hooks, or every problem.
    public static func compile(_ hooks: [Hook]) -> (hooks: [HookID: CompiledHook], problems: [TemplateProblem]) {
        _ = registerContentTypes
        var problems: [TemplateProblem] = []
        var compiled: [HookID: CompiledHook] = [:]
        for hook in hooks {
            let names = Set(hook.settings.keys.map { "settings.\($0)" } + hook.secrets.keys.map { "secret.\($0)" })
                .union(["settings", "secret"])
            func template(_ text: TemplateText, _ contentType: String, what: String) -> MustacheTemplate? {
                do {
                    let parsed = try MustacheTemplate(string: "{{% CONTENT_TYPE: \(contentType)}}" + text.text)
                    for unknown in unknownNames(in: text.text, extra: names) {
                        problems.append(TemplateProblem(location: text.location,
                                                        message: "hook '\(hook.id)': the \(what) names unknown field '\(unknown)'"))
                    }
                    return parsed
                } catch {
                    problems.append(TemplateProblem(location: text.location,
                                                    message: "hook '\(hook.id)': the \(what) is not a valid Mustache template (\(error))"))
                    return nil
                }
            }
            switch hook.target {
            case .webhook(let webhook):
                let headers = webhook.headers.compactMap { header in
                    template(header.value, "TEXT", what: "header \(header.name)").map { (header.name, $0) }
                }
                var requests: [Webhook.Request: CompiledHook.Request] = [:]
                for (kind, spec) in webhook.requests.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                    guard let url = template(spec.url, "TEXT", what: "\(kind.rawValue) url") else { continue }
                    let renderedPrefix = url.render(["settings": hook.settings, "secret": hook.secrets.mapValues(\.value)])
                    if !(renderedPrefix.hasPrefix("http://") || renderedPrefix.hasPrefix("https://")) {
                        problems.append(TemplateProblem(location: spec.url.location,
                                                        message: "hook '\(hook.id)': the \(kind.rawValue) url must start with http:// or https://"))
                    }
                    let requestHeaders = spec.headers.compactMap { header in
                        template(header.value, "TEXT", what: "\(kind.rawValue) header \(header.name)").map { (header.name, $0) }
                    }
                    let contentType = spec.bodyType == .json ? "JSON" : spec.bodyType == .form ? "FORM" : "TEXT"
                    let body = spec.body.flatMap { template($0, contentType, what: "\(kind.rawValue) body") }
                    requests[kind] = CompiledHook.Request(spec: spec, url: url, headers: requestHeaders, body: body)
                }
                compiled[hook.id] = CompiledHook(hook: hook, target: .webhook(headers: headers, requests: requests, spec: webhook))
            case .command(let command):
                let arguments = command.arguments.compactMap { template($0, "TEXT", what: "command argument") }
                if arguments.count == command.arguments.count {
                    compiled[hook.id] = CompiledHook(hook: hook, target: .command(arguments: arguments, spec: command))
                }
            }
        }
        return (compiled, problems)
    }

    /// Names a template uses that the event document does not have. Inside a section over a
    /// list, item fields are known too.
    static func unknownNames(in text: String, extra: Set<String>) -> [String] {
        guard let expression = try? NSRegularExpression(pattern: #"\{\{\{?\s*([#^/&]?)\s*([A-Za-z0-9_.]+)\s*\}?\}\}"#)
        else { return [] }
        var unknown: [String] = []
        var sections: [String] = []
        let range = NSRange(text.startIndex..., in: text)
        for match in expression.matches(in: text, range: range) {
            guard let sigilRange = Range(match.range(at: 1), in: text), let nameRange = Range(match.range(at: 2), in: text)
            else { continue }
            let sigil = text[sigilRange]
            let name = String(text[nameRange])
            if sigil == "/" {
                if let index = sections.lastIndex(of: name) { sections.remove(at: index) }
                continue
            }
            let known = fields.contains(name) || extra.contains(name)
                || (!sections.isEmpty && (itemFields.contains(name) || sections.contains("url")))
            if !known && !unknown.contains(name) { unknown.append(name) }
            if sigil == "#" || sigil == "^" { sections.append(name) }
        }
        return unknown
    }
}

/// Values inserted into a JSON body are escaped as JSON string content.
struct JSONContent: MustacheContentType {
    func escapeText(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case let control where control.value < 0x20:
                result += String(format: "\\u%04x", control.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// Values inserted into a form body are percent-encoded.
struct FormContent: MustacheContentType {
    func escapeText(_ text: String) -> String { PercentEncoding.encode(text) }
}

enum PercentEncoding {
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}
