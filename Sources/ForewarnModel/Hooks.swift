import Foundation

/// A ticketing hook: where incident changes go so a ticketing system sees them, as configured.
/// Templates are kept as text with where they were written; `Ticketing` compiles and renders
/// them.
public struct Hook: Sendable, Hashable, Identifiable {
    public enum Event: String, Sendable, Hashable, CaseIterable, Codable {
        case open, update, resolve
    }

    public enum Target: Sendable, Hashable {
        case webhook(Webhook)
        case command(CommandHook)

        /// A webhook POSTing the event document as JSON to `url`.
        public static func webhook(url: String) -> Target { .webhook(Webhook.generic(url: url)) }

        /// A command given as plain arguments.
        public static func command(arguments: [String]) -> Target {
            .command(CommandHook(arguments: arguments.map { TemplateText($0) }))
        }
    }

    public var id: HookID
    public var target: Target
    public var events: [Event]
    public var routing: HookRouting
    /// An incident resolved sooner than this after it opened opens no ticket here.
    public var openAfter: Duration
    /// Updates waiting behind each other are sent at most this often (the latest state once).
    public var updateEvery: Duration
    /// An entry not delivered within this long is given up on (dead-lettered).
    public var maxAge: Duration
    /// Free-form values the templates read as `{{settings.NAME}}`.
    public var settings: [String: String]
    /// Secrets the templates read as `{{secret.NAME}}`; never logged, never in the outbox.
    public var secrets: [String: Secret]

    public init(id: HookID, target: Target, events: [Event], routing: HookRouting = HookRouting(),
                openAfter: Duration = .zero, updateEvery: Duration = .zero, maxAge: Duration = .seconds(86_400),
                settings: [String: String] = [:], secrets: [String: Secret] = [:]) {
        (self.id, self.target, self.events, self.routing) = (id, target, events, routing)
        (self.openAfter, self.updateEvery, self.maxAge) = (openAfter, updateEvery, maxAge)
        (self.settings, self.secrets) = (settings, secrets)
    }
}

/// Which incidents a hook takes. An incident that does not qualify yet may later (its severity
/// grows): its `open` is sent then. Planned incidents (maintenance) reach no hook.
public struct HookRouting: Sendable, Hashable {
    public var minimumSeverity: Severity
    /// Empty: every root kind.
    public var rootKinds: Set<RootKind>
    public var minimumCustomers: Int

    public init(minimumSeverity: Severity = .warning, rootKinds: Set<RootKind> = [], minimumCustomers: Int = 0) {
        (self.minimumSeverity, self.rootKinds, self.minimumCustomers) = (minimumSeverity, rootKinds, minimumCustomers)
    }

    public func takes(_ incident: Incident, customers: Int) -> Bool {
        incident.severity >= minimumSeverity && customers >= minimumCustomers
            && (rootKinds.isEmpty || rootKinds.contains(incident.root.kind))
    }
}

/// Template text with the place it was written (`file:line:column`), for messages.
public struct TemplateText: Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var location: String

    public init(_ text: String, location: String = "") {
        self.text = text
        self.location = location
    }

    public var description: String { text }

    /// Where it was written is not part of what it says.
    public static func == (lhs: TemplateText, rhs: TemplateText) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

/// A secret's value: read from a file or the environment when the configuration is loaded.
/// Its description never shows the value.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// An HTTP hook: one request per event (and an optional lookup), each rendered from templates.
public struct Webhook: Sendable, Hashable {
    public enum Request: String, Sendable, Hashable, CaseIterable {
        case open, update, resolve, lookup
    }

    /// Sent with every request.
    public var headers: [HeaderTemplate]
    public var requests: [Request: WebhookRequest]
    /// PEM file of the certificate authorities to trust (default: the system's).
    public var caFile: String?
    public var connectTimeout: Duration
    public var timeout: Duration

    public init(headers: [HeaderTemplate] = [], requests: [Request: WebhookRequest], caFile: String? = nil,
                connectTimeout: Duration = .seconds(5), timeout: Duration = .seconds(30)) {
        (self.headers, self.requests, self.caFile) = (headers, requests, caFile)
        (self.connectTimeout, self.timeout) = (connectTimeout, timeout)
    }

    /// POST the event document as JSON to `url`, every event alike.
    public static func generic(url: String) -> Webhook {
        let request = WebhookRequest(method: "POST", url: TemplateText(url), body: TemplateText("{{{document}}}"),
                                     bodyType: .json)
        return Webhook(headers: [HeaderTemplate(name: "Content-Type", value: TemplateText("application/json"))],
                       requests: [.open: request, .update: request, .resolve: request])
    }
}

public struct HeaderTemplate: Sendable, Hashable {
    public var name: String
    public var value: TemplateText

    public init(name: String, value: TemplateText) {
        self.name = name
        self.value = value
    }
}

public struct WebhookRequest: Sendable, Hashable {
    /// How the values a body template inserts are escaped.
    public enum BodyType: String, Sendable, Hashable, CaseIterable {
        case json, text, form
    }

    public var method: String
    public var url: TemplateText
    public var headers: [HeaderTemplate]
    public var body: TemplateText?
    public var bodyType: BodyType
    /// Where the answer carries the ticket's id (open, lookup) and state.
    public var ticketID: TicketExtraction?
    public var ticketState: TicketExtraction?

    public init(method: String, url: TemplateText, headers: [HeaderTemplate] = [], body: TemplateText? = nil,
                bodyType: BodyType = .json, ticketID: TicketExtraction? = nil, ticketState: TicketExtraction? = nil) {
        (self.method, self.url, self.headers, self.body) = (method, url, headers, body)
        (self.bodyType, self.ticketID, self.ticketState) = (bodyType, ticketID, ticketState)
    }
}

/// Where a ticketing system's answer carries a value.
public enum TicketExtraction: Sendable, Hashable {
    /// RFC 6901 pointer into a JSON body: `/id`, `/items/0/id`.
    case jsonPointer(String)
    /// A response header, optionally narrowed by a regular expression whose first group is the value.
    case header(String, regex: String?)
    /// A regular expression over the body whose first group is the value.
    case regex(String)
}

/// A program run for each event, without a shell: the event as JSON on stdin and as
/// `FOREWARN_*` variables.
public struct CommandHook: Sendable, Hashable {
    public var arguments: [TemplateText]
    public var timeout: Duration

    public init(arguments: [TemplateText], timeout: Duration = .seconds(30)) {
        self.arguments = arguments
        self.timeout = timeout
    }
}
