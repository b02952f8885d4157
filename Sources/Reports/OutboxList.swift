import Foundation
import ForewarnModel
import Persistence

/// What `forewarn outbox` prints.
public enum OutboxList {
    public static func text(_ items: [OutboxItem], dead: Bool) -> String {
        guard !items.isEmpty else { return dead ? "no dead letters" : "nothing waiting" }
        return items.map { item in
            var line = "\(item.id) incident #\(item.entry.incident.rawValue) \(item.entry.hook) \(item.entry.event.rawValue): "
                + "created \(RFC3339.format(item.createdAt)), \(item.attempts) attempt\(item.attempts == 1 ? "" : "s")"
            if dead, let failed = item.failedAt { line += ", given up \(RFC3339.format(failed))" }
            if !dead && item.attempts > 0 { line += ", next \(RFC3339.format(item.nextAttemptAt))" }
            if let error = item.lastError { line += "\n    \(error)" }
            return line
        }.joined(separator: "\n")
    }

    public static func json(_ items: [OutboxItem]) -> String {
        let array = items.map { item -> [String: Any] in
            func instant(_ date: Date?) -> Any { date.map(RFC3339.format) ?? NSNull() }
            return ["id": item.id, "incident": item.entry.incident.rawValue, "hook": item.entry.hook.rawValue,
                    "event": item.entry.event.rawValue, "state": item.state.rawValue,
                    "outcome": item.outcome?.rawValue ?? NSNull(), "created_at": RFC3339.format(item.createdAt),
                    "attempts": item.attempts, "next_attempt_at": RFC3339.format(item.nextAttemptAt),
                    "failed_at": instant(item.failedAt), "last_error": item.lastError ?? NSNull(),
                    "uncertain": item.uncertain]
        }
        guard let data = try? JSONSerialization.data(withJSONObject: array,
                                                     options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }
}
