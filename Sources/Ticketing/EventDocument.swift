import Foundation
import ForewarnModel
import Mustache
import Persistence

/// What a hook's templates render for one outbox entry: the event document written with the
/// entry (`TicketAnnouncer.document`), plus what is known only at delivery — the ticket, the
/// hook's settings and secrets, the idempotency key.
struct EventDocument {
    let object: [String: Any]

    init(item: OutboxItem, hook: Hook, ticket: Ticket?) {
        let payload = item.entry.payload
        var object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] ?? [:]
        let ticketObject = ["id": ticket?.ticketID ?? "", "state": ticket?.state ?? ""]
        let key = Self.idempotencyKey(item)
        object["ticket"] = ticketObject
        object["idempotency_key"] = key
        object["hook"] = ["id": hook.id.rawValue]
        // The whole document as JSON (generic webhooks send it as it is): no settings, no secret.
        // The stored payload is already canonical JSON; what delivery adds is appended to it
        // rather than the whole re-serialised (sorting keys through Foundation costs more than
        // the rest of a delivery).
        let string = JSONContent()
        let added = #""hook":{"id":"\#(string.escapeText(hook.id.rawValue))"},"idempotency_key":"\#(string.escapeText(key))","#
            + #""ticket":{"id":"\#(string.escapeText(ticketObject["id"]!))","state":"\#(string.escapeText(ticketObject["state"]!))"}"#
        var document = payload.trimmingCharacters(in: .whitespacesAndNewlines)
        if object.isEmpty || !document.hasSuffix("}") {
            document = "{" + added + "}"
        } else {
            document.removeLast()
            document += (document.hasSuffix("{") ? "" : ",") + added + "}"
        }
        object["document"] = document
        object["settings"] = hook.settings
        object["secret"] = hook.secrets.mapValues(\.value)
        self.object = object
    }

    /// The same for every attempt of one entry, so a ticketing system can recognise a retry.
    static func idempotencyKey(_ item: OutboxItem) -> String {
        "forewarn-\(item.entry.incident.rawValue)-\(item.entry.hook.rawValue)-\(item.entry.event.rawValue)-\(item.id)"
    }

    /// Renders with `{{#url}}…{{/url}}` available: its content rendered, then percent-encoded.
    func render(_ template: MustacheTemplate) -> String {
        var object = self.object
        let plain = self.object
        object["url"] = MustacheLambda { (text: String) -> Any? in
            guard let inner = try? MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text) else { return "" }
            return PercentEncoding.encode(inner.render(plain))
        }
        return template.render(object)
    }

    /// `FOREWARN_*` variables for command hooks: the document's scalar fields, flattened.
    var environment: [String: String] {
        var result: [String: String] = [:]
        func flatten(_ value: Any, _ prefix: String) {
            switch value {
            case let dictionary as [String: Any]:
                for (key, inner) in dictionary { flatten(inner, prefix + "_" + key.uppercased()) }
            case let text as String: result[prefix] = text
            case let number as NSNumber: result[prefix] = number.stringValue
            default: break
            }
        }
        for (key, value) in object where !["document", "secret", "settings", "lines", "customers"].contains(key) {
            flatten(value, "FOREWARN_" + key.uppercased())
        }
        return result
    }

    var json: String { object["document"] as? String ?? "{}" }
}
