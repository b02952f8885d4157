import Foundation
import ForewarnModel
import Yams

/// The `hooks` section: each hook inline, or a ready-made preset (`preset: hooks/FILE.yaml`)
/// whose keys the entry overrides. Templates are kept with where they were written; the
/// ticketing stage checks that they parse and name known fields.
extension ConfigReader {
    static let hookKeys = ["kind", "events", "url", "command", "timeout", "connect_timeout", "ca_file", "headers",
                           "open", "update", "resolve", "lookup", "settings", "secrets", "min_severity", "root_kinds",
                           "min_customers", "open_after", "update_every", "max_age"]

    /// An entry's keys, then its preset's: what the entry does not say, the preset does.
    struct HookFields {
        var entry: Fields
        var preset: Fields?

        func source(_ key: String) -> Fields { entry.has(key) ? entry : (preset?.has(key) == true ? preset! : entry) }
        func has(_ key: String) -> Bool { entry.has(key) || preset?.has(key) == true }
    }

    mutating func readHooks(_ items: [Located]) -> [Hook] {
        var seen: Set<HookID> = []
        return items.compactMap { item in
            guard let entry = Fields(item, what: "a hook", kind: "hook", allowed: ["id", "preset"] + Self.hookKeys,
                                     sink: &sink),
                  let id = entry.string("id", required: true, sink: &sink) else { return nil }
            guard seen.insert(HookID(id)).inserted else {
                sink.report(entry.value("id")!.location, "duplicate hook id '\(id)'")
                return nil
            }
            var fields = HookFields(entry: entry)
            if let presetPath = entry.string("preset", sink: &sink) {
                guard let preset = readPreset(presetPath, at: entry.value("preset")!, hook: id) else { return nil }
                fields.preset = preset
            }
            return readHook(id: id, fields, at: item)
        }
    }

    mutating func readPreset(_ path: String, at: Located, hook: String) -> Fields? {
        let file = resolve(path)
        let text: String
        do {
            text = try InputFile.text(file)
        } catch {
            sink.report(at.location, "hook '\(hook)': cannot read preset '\(path)': \(error.reason)")
            return nil
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            sink.report(SourceLocation(file: file), "cannot parse preset: \(error)")
            return nil
        }
        guard let root else {
            sink.report(SourceLocation(file: file), "the preset is empty")
            return nil
        }
        return Fields(Located(node: root, file: file), what: "hook preset \(path)", allowed: Self.hookKeys, sink: &sink)
    }

    mutating func readHook(id: String, _ fields: HookFields, at item: Located) -> Hook? {
        var events: [Hook.Event] = []
        let eventFields = fields.source("events")
        for entry in eventFields.strings("events", sink: &sink) {
            guard let event = Hook.Event(rawValue: entry.text) else {
                sink.report(entry.at.location, "hook '\(id)' names unknown event '\(entry.text)' (open, update, resolve)")
                continue
            }
            events.append(event)
        }
        if !fields.has("events") { events = Hook.Event.allCases }
        let target: Hook.Target?
        switch fields.source("kind").string("kind", required: true, sink: &sink) {
        case "webhook":
            target = readWebhook(id: id, fields, events: events, at: item).map { .webhook($0) }
        case "command":
            let source = fields.source("command")
            let arguments = source.strings("command", sink: &sink).map { TemplateText($0.text, location: "\($0.at.location)") }
            if arguments.isEmpty {
                sink.report(item.location, "hook '\(id)' of kind command needs 'command' (a list: program, arguments)")
            }
            let timeout = fields.source("timeout").duration("timeout", default: .seconds(30), in: ConfigLimits.hookTimeout, sink: &sink)
            target = arguments.isEmpty ? nil : .command(CommandHook(arguments: arguments, timeout: timeout))
        case let other?:
            sink.report(fields.source("kind").value("kind")!.location,
                        "'kind' in hook '\(id)' must be webhook or command, not '\(other)'")
            target = nil
        case nil:
            target = nil
        }
        var routing = HookRouting()
        if let severity = fields.source("min_severity").choice("min_severity", Severity.self, sink: &sink) {
            routing.minimumSeverity = severity
        }
        for entry in fields.source("root_kinds").strings("root_kinds", sink: &sink) {
            guard let kind = RootKind(rawValue: entry.text) else {
                sink.report(entry.at.location, "hook '\(id)' names unknown root kind '\(entry.text)' "
                            + "(\(RootKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                continue
            }
            routing.rootKinds.insert(kind)
        }
        if let customers = fields.source("min_customers").integer("min_customers", in: 0...10_000_000, sink: &sink) {
            routing.minimumCustomers = Int(customers)
        }
        let openAfter = fields.source("open_after").duration("open_after", default: .zero, in: ConfigLimits.openAfter, sink: &sink)
        let updateEvery = fields.source("update_every").duration("update_every", default: .zero, in: ConfigLimits.updateEvery,
                                                                     sink: &sink)
        let maxAge = fields.source("max_age").duration("max_age", default: .seconds(86_400), in: ConfigLimits.maxAge, sink: &sink)
        let settings = stringMap("settings", fields.source("settings"), what: "hook '\(id)'") ?? [:]
        var secrets: [String: Secret] = [:]
        if let node = fields.source("secrets").value("secrets") {
            secrets = readSecrets(node, hook: id)
        }
        guard let target else { return nil }
        return Hook(id: HookID(id), target: target, events: events, routing: routing, openAfter: openAfter,
                    updateEvery: updateEvery, maxAge: maxAge, settings: settings, secrets: secrets)
    }

    mutating func readWebhook(id: String, _ fields: HookFields, events: [Hook.Event], at item: Located) -> Webhook? {
        let headers = headerTemplates(fields.source("headers"), key: "headers", what: "hook '\(id)'")
        var requests: [Webhook.Request: WebhookRequest] = [:]
        for kind in Webhook.Request.allCases where fields.has(kind.rawValue) {
            let source = fields.source(kind.rawValue)
            if let request = readRequest(source.value(kind.rawValue)!, name: "\(kind.rawValue) request of hook '\(id)'") {
                requests[kind] = request
            }
        }
        let timeout = fields.source("timeout").duration("timeout", default: .seconds(30), in: ConfigLimits.hookTimeout, sink: &sink)
        let connectTimeout = fields.source("connect_timeout").duration("connect_timeout", default: .seconds(5),
                                                                                     in: ConfigLimits.hookConnectTimeout, sink: &sink)
        var caFile: String?
        if let path = fields.source("ca_file").string("ca_file", sink: &sink) {
            caFile = resolve(path)
            if !FileManager.default.isReadableFile(atPath: caFile!) {
                sink.report(fields.source("ca_file").value("ca_file")!.location, "hook '\(id)': cannot read ca_file '\(path)'")
            }
        }
        if let url = fields.source("url").string("url", sink: &sink) {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                sink.report(fields.source("url").value("url")!.location,
                            "hook '\(id)' url must start with http:// or https://, not '\(url)'")
                return nil
            }
            var generic = Webhook.generic(url: url)
            generic.headers += headers
            for (kind, request) in requests { generic.requests[kind] = request }
            requests = generic.requests
            return Webhook(headers: generic.headers, requests: requests, caFile: caFile, connectTimeout: connectTimeout,
                           timeout: timeout)
        }
        for event in events {
            let kind = Webhook.Request(rawValue: event.rawValue)!
            if requests[kind] == nil {
                sink.report(item.location, "hook '\(id)' takes '\(event.rawValue)' events but has no '\(event.rawValue)' "
                            + "request (or give 'url' to POST the event document)")
            }
        }
        return Webhook(headers: headers, requests: requests, caFile: caFile, connectTimeout: connectTimeout, timeout: timeout)
    }

    mutating func readRequest(_ node: Located, name: String) -> WebhookRequest? {
        guard let fields = Fields(node, what: "the \(name)",
                                  allowed: ["method", "url", "headers", "body", "body_type", "ticket_id", "ticket_state"],
                                  sink: &sink) else { return nil }
        let method = (fields.string("method", sink: &sink) ?? "POST").uppercased()
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(method) {
            sink.report(fields.value("method")!.location, "'method' in the \(name) must be GET, POST, PUT, PATCH or DELETE")
        }
        guard let url = fields.string("url", required: true, sink: &sink) else { return nil }
        let bodyType = fields.choice("body_type", WebhookRequest.BodyType.self, default: .json, sink: &sink) ?? .json
        let body = fields.string("body", sink: &sink).map { TemplateText($0, location: "\(fields.value("body")!.location)") }
        return WebhookRequest(method: method, url: TemplateText(url, location: "\(fields.value("url")!.location)"),
                              headers: headerTemplates(fields, key: "headers", what: "the \(name)"), body: body,
                              bodyType: bodyType, ticketID: extraction(fields, key: "ticket_id", what: name),
                              ticketState: extraction(fields, key: "ticket_state", what: name))
    }

    mutating func extraction(_ fields: Fields, key: String, what: String) -> TicketExtraction? {
        guard let node = fields.value(key),
              let spec = Fields(node, what: "'\(key)' of the \(what)", allowed: ["json_pointer", "header", "regex"],
                                sink: &sink) else { return nil }
        let pointer = spec.string("json_pointer", sink: &sink)
        let header = spec.string("header", sink: &sink)
        let regex = spec.string("regex", sink: &sink)
        if let regex, (try? NSRegularExpression(pattern: regex)) == nil {
            sink.report(spec.value("regex")!.location, "'regex' of the \(what) is not a valid regular expression")
            return nil
        }
        if let pointer {
            guard pointer.isEmpty || pointer.hasPrefix("/") else {
                sink.report(spec.value("json_pointer")!.location,
                            "'json_pointer' of the \(what) must be empty or start with '/' (RFC 6901), not '\(pointer)'")
                return nil
            }
            if header != nil || regex != nil {
                sink.report(node.location, "'\(key)' of the \(what): give json_pointer, or header (with an optional regex), or regex")
            }
            return .jsonPointer(pointer)
        }
        if let header { return .header(header, regex: regex) }
        if let regex { return .regex(regex) }
        sink.report(node.location, "'\(key)' of the \(what) needs json_pointer, header or regex")
        return nil
    }

    mutating func headerTemplates(_ fields: Fields, key: String, what: String) -> [HeaderTemplate] {
        guard let node = fields.value(key) else { return [] }
        guard let mapping = node.node.mapping else {
            sink.report(node.location, "'\(key)' in \(what) must be a mapping of header names to values")
            return []
        }
        return mapping.compactMap { name, value in
            let located = Located(node: value, file: node.file)
            guard let headerName = name.scalar?.string, !headerName.isEmpty,
                  headerName.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }),
                  let text = located.scalarText else {
                sink.report(located.location, "each entry of '\(key)' in \(what) must be NAME: VALUE")
                return nil
            }
            return HeaderTemplate(name: headerName, value: TemplateText(text, location: "\(located.location)"))
        }
    }

    mutating func stringMap(_ key: String, _ fields: Fields, what: String) -> [String: String]? {
        guard let node = fields.value(key) else { return nil }
        guard let mapping = node.node.mapping else {
            sink.report(node.location, "'\(key)' in \(what) must be a mapping of names to values")
            return nil
        }
        var result: [String: String] = [:]
        for (name, value) in mapping {
            guard let name = name.scalar?.string, let text = value.scalar?.string else {
                sink.report(Located(node: value, file: node.file).location, "each entry of '\(key)' in \(what) must be NAME: VALUE")
                continue
            }
            result[name] = text
        }
        return result
    }

    /// `secrets: {token: {file: PATH}, key: {env: NAME}}`: read now, so a missing one is a
    /// configuration error, never a failed delivery at 3 a.m.
    mutating func readSecrets(_ node: Located, hook: String) -> [String: Secret] {
        guard let mapping = node.node.mapping else {
            sink.report(node.location, "'secrets' in hook '\(hook)' must be a mapping of names to {file: PATH} or {env: NAME}")
            return [:]
        }
        var secrets: [String: Secret] = [:]
        for (nameNode, value) in mapping {
            let located = Located(node: value, file: node.file)
            guard let name = nameNode.scalar?.string,
                  let fields = Fields(located, what: "secret '\(nameNode.scalar?.string ?? "?")' of hook '\(hook)'",
                                      allowed: ["file", "env"], sink: &sink) else { continue }
            if let path = fields.string("file", sink: &sink) {
                do {
                    let text = try InputFile.text(resolve(path)).trimmingCharacters(in: .newlines)
                    if text.isEmpty { sink.report(fields.value("file")!.location, "\(fields.what): '\(path)' is empty") }
                    secrets[name] = Secret(text)
                } catch {
                    sink.report(fields.value("file")!.location, "\(fields.what): cannot read '\(path)': \(error.reason)")
                }
            } else if let variable = fields.string("env", sink: &sink) {
                guard let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty else {
                    sink.report(fields.value("env")!.location, "\(fields.what): environment variable \(variable) is not set")
                    continue
                }
                secrets[name] = Secret(text)
            } else {
                sink.report(located.location, "\(fields.what) needs 'file' or 'env'")
            }
        }
        return secrets
    }
}
