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
        var object = (try? JSONSerialization.jsonObject(with: Data(item.entry.payload.utf8))) as? [String: Any] ?? [:]
        if let ticket {
            object["ticket"] = ["id": ticket.ticketID, "state": ticket.state ?? ""]
        } else {
            object["ticket"] = ["id": "", "state": ""]
        }
        object["idempotency_key"] = Self.idempotencyKey(item)
        object["hook"] = ["id": hook.id.rawValue]
        // The whole document as JSON (generic webhooks send it as it is): no settings, no secret.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        object["document"] = String(decoding: data, as: UTF8.self)
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
