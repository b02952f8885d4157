import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The test ticketing system (fixtures/ticket-server.py) on 127.0.0.1: a real HTTP server in its
/// own process, told how to misbehave.
final class TicketServer: Sendable {
    let process: Process
    let folder: String
    let port: Int
    /// The TLS port, when started with a certificate.
    let tlsPort: Int?
    var base: String { "http://127.0.0.1:\(port)" }
    var tlsBase: String { "https://127.0.0.1:\(tlsPort ?? 0)" }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("fixtures/ticket-server.py").path
    }

    /// A port nothing listens on now (to start a server there later).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// With `tls` (certificate and key PEM files), the same tickets are also served over TLS.
    init(port: Int? = nil, tls: (certificate: String, key: String)? = nil) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-tickets-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, folder + "/port"] + (port.map { [String($0)] } ?? (tls == nil ? [] : ["0"]))
            + (tls.map { [$0.certificate, $0.key] } ?? [])
        try process.run()
        var found: Int?
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: folder + "/port", encoding: .utf8), let value = Int(text) {
                found = value
                break
            }
            usleep(20_000)
        }
        guard let found else { throw TicketServerError.didNotStart }
        self.port = found
        tlsPort = tls == nil ? nil : (try? String(contentsOfFile: folder + "/port.tls", encoding: .utf8)).flatMap { Int($0) }
        if tls != nil && tlsPort == nil { throw TicketServerError.didNotStart }
    }

    enum TicketServerError: Error { case didNotStart, badAnswer }

    func stop() {
        // SIGKILL: the test process may block SIGTERM, and its children inherit the mask.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: folder)
    }

    func call(_ method: String, _ path: String, _ body: String? = nil) async throws -> Any {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.httpBody = body.map { Data($0.utf8) }
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONSerialization.jsonObject(with: data)
    }

    func control(_ json: String) async throws { _ = try await call("POST", "/_control", json) }

    /// What the server received: (method, path, body), in order, and the most ever in flight.
    func requests() async throws -> (list: [(method: String, path: String, body: String)], maxInflight: Int) {
        guard let object = try await call("GET", "/_requests") as? [String: Any],
              let list = object["requests"] as? [[String: Any]] else { throw TicketServerError.badAnswer }
        return (list.map { ($0["method"] as? String ?? "", $0["path"] as? String ?? "", $0["body"] as? String ?? "") },
                object["max_inflight"] as? Int ?? 0)
    }

    func tickets() async throws -> [String: [String: Any]] {
        try await call("GET", "/_tickets") as? [String: [String: Any]] ?? [:]
    }
}
