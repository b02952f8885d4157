import Foundation
import ForewarnModel
import Persistence

/// What came of one attempt, as the retry stage sees it (Alertmanager's `(retry, error)`).
public enum DeliveryOutcome: Sendable, Hashable {
    /// The ticketing system took it; what it said of the ticket.
    case delivered(TicketUpdate?, note: String?)
    /// Worth trying again: timeouts, connection errors, 5xx, 408, 429. `after`: the system's
    /// `Retry-After`. `uncertain`: the request may have arrived (sent, no answer).
    case retry(String, after: Duration?, uncertain: Bool)
    /// Trying again cannot help: other 4xx, a template that cannot render, a program that
    /// refused it. Dead-lettered at once, with the answer's excerpt.
    case permanent(String)
}

/// An HTTP answer, or why there was none.
public enum HTTPAnswer: Sendable, Hashable {
    case response(status: Int, headers: [(name: String, value: String)], body: String)
    /// Never sent: the connection could not be made.
    case notSent(String)
    /// Sent, or perhaps sent, and no answer came (a timeout, a dropped connection).
    case noAnswer(String)

    public static func == (lhs: HTTPAnswer, rhs: HTTPAnswer) -> Bool { "\(lhs)" == "\(rhs)" }
    public func hash(into hasher: inout Hasher) { hasher.combine("\(self)") }
}

public enum AnswerReading {
    /// Sorts an HTTP answer into delivered, retry or permanent, reading the ticket's id and
    /// state from a successful one as the request says.
    public static func outcome(of answer: HTTPAnswer, request: WebhookRequest) -> DeliveryOutcome {
        switch answer {
        case .notSent(let reason):
            return .retry("cannot connect: \(reason)", after: nil, uncertain: false)
        case .noAnswer(let reason):
            return .retry("no answer: \(reason)", after: nil, uncertain: true)
        case .response(let status, let headers, let body):
            let summary = "HTTP \(status)" + (body.isEmpty ? "" : ": \(excerpt(body))")
            switch status {
            case 200..<300:
                let ticketID = request.ticketID.flatMap { extract($0, headers: headers, body: body) }
                let state = request.ticketState.flatMap { extract($0, headers: headers, body: body) }
                var note: String?
                if request.ticketID != nil && ticketID == nil {
                    note = "the answer did not name the ticket (\(summary))"
                }
                let update = ticketID == nil && state == nil ? nil : TicketUpdate(ticketID: ticketID, state: state)
                return .delivered(update, note: note)
            case 408, 429, 500..<600:
                let after = headers.first { $0.name.lowercased() == "retry-after" }.flatMap { retryAfter($0.value) }
                return .retry(summary, after: after, uncertain: false)
            default:
                return .permanent(summary)
            }
        }
    }

    /// At most 300 characters of an answer, on one line.
    static func excerpt(_ body: String) -> String {
        let flat = body.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        return flat.count > 300 ? String(flat.prefix(300)) + "…" : flat
    }

    /// `Retry-After` as seconds or an HTTP date (RFC 9110), capped at an hour.
    static func retryAfter(_ value: String, now: Date = Date()) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int64(trimmed), seconds >= 0 { return .seconds(min(seconds, 3600)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return .seconds(Int64(min(3600, max(0, date.timeIntervalSince(now)))))
    }

    public static func extract(_ extraction: TicketExtraction, headers: [(name: String, value: String)],
                               body: String) -> String? {
        switch extraction {
        case .jsonPointer(let pointer):
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed])
            else { return nil }
            return scalar(at: pointer, in: object)
        case .header(let name, let regex):
            guard let value = headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value else { return nil }
            return regex.map { firstGroup($0, in: value) } ?? value
        case .regex(let pattern):
            return firstGroup(pattern, in: body)
        }
    }

    /// RFC 6901: `/items/0/id`; `~1` is `/`, `~0` is `~`. Strings and numbers both count.
    static func scalar(at pointer: String, in object: Any) -> String? {
        var current: Any = object
        for token in pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let dictionary = current as? [String: Any], let next = dictionary[key] {
                current = next
            } else if let array = current as? [Any], let index = Int(key), array.indices.contains(index) {
                current = array[index]
            } else {
                return nil
            }
        }
        if let text = current as? String { return text.isEmpty ? nil : text }
        if let number = current as? NSNumber, !(current is Bool) { return number.stringValue }
        return nil
    }

    static func firstGroup(_ pattern: String, in text: String) -> String? {
        guard let expression = try? NSRegularExpression(pattern: pattern),
              let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
        let group = match.numberOfRanges > 1 ? match.range(at: 1) : match.range
        return Range(group, in: text).map { String(text[$0]) }
    }
}

/// When to try again: exponential backoff with full jitter from `base`, capped, never sooner
/// than the ticketing system's `Retry-After`; an entry older than the hook's `max_age` is given
/// up on.
public struct RetryPolicy: Sendable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(300)) {
        self.base = base
        self.cap = cap
    }

    /// The delay before attempt `attempts + 1`; `random` in [0, 1).
    public func delay(afterAttempts attempts: Int, retryAfter: Duration?, random: Double) -> Duration {
        let exponent = min(attempts, 30)
        let ceiling = min(cap.inSeconds, base.inSeconds * pow(2, Double(exponent)))
        // Half fixed, half jitter: never a burst of retries at once, never almost no wait.
        let seconds = ceiling / 2 + ceiling / 2 * random
        let backoff = Duration.milliseconds(Int64(seconds * 1000))
        guard let retryAfter else { return backoff }
        return max(backoff, retryAfter)
    }
}
