import ForewarnConfig
import ForewarnModel
import Foundation
import Persistence

/// The contact centre's call intake as the HTTP listener serves it (`POST` with a JSON body
/// `{"line": "L-000001", "at": "2026-12-01T08:30:00Z", "note": "no dial tone"}`; `at` and
/// `note` optional): checked, then queued for the daemon exactly like `forewarn report-call`.
/// Everything but the socket: the listener hands it the body and sends back what it returns.
public enum CustomerCallIntake {
    public struct Response: Error, Sendable, Equatable {
        public var status: Int
        /// JSON: `{"queued": ID, "line": …}` or `{"error": "…"}`.
        public var body: String
    }

    public static let keys = ["line", "at", "note"]

    public static func accept(body: Data, lines: Set<LineID>, store: any CommandStore, now: Date = Date(),
                              bounds: TimeBounds = TimeBounds()) async -> Response {
        let report: CustomerReport
        switch parse(body: body, lines: lines, now: now, bounds: bounds) {
        case .success(let parsed): report = parsed
        case .failure(let rejection): return rejection
        }
        do {
            let id = try await store.enqueue(.reportCall(report), at: now)
            return Response(status: 202, body: json(["queued": id, "line": report.line.rawValue]))
        } catch {
            return Response(status: 503, body: json(["error": "cannot queue the call: \(error)"]))
        }
    }

    public static func parse(body: Data, lines: Set<LineID>, now: Date,
                             bounds: TimeBounds = TimeBounds()) -> Result<CustomerReport, Response> {
        func reject(_ status: Int, _ message: String) -> Result<CustomerReport, Response> {
            .failure(Response(status: status, body: json(["error": message])))
        }
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return reject(400, "the body must be a JSON object such as {\"line\": \"L-000001\"}")
        }
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            return reject(400, "unknown key '\(unknown)' (allowed: \(keys.joined(separator: ", ")))")
        }
        guard let line = object["line"] as? String, !line.isEmpty else {
            return reject(400, "'line' is required: the line's id as a string")
        }
        guard lines.contains(LineID(line)) else { return reject(404, "unknown line '\(line)'") }
        var at = now
        if let value = object["at"], !(value is NSNull) {
            guard let text = value as? String, let parsed = RFC3339.parse(text) else {
                return reject(400, "'at' must be an RFC 3339 time such as 2026-12-01T08:30:00Z")
            }
            if let problem = bounds.problem(with: parsed, now: now) {
                return reject(400, "'at' \(text) \(problem)")
            }
            at = parsed
        }
        var note = ""
        if let value = object["note"], !(value is NSNull) {
            guard let text = value as? String else { return reject(400, "'note' must be a string") }
            note = text
        }
        return .success(CustomerReport(line: LineID(line), at: at, note: note, source: "http"))
    }

    static func json(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
