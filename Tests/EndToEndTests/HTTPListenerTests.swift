import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The daemon's HTTP listener on loopback: health, Prometheus metrics and the status API,
/// behind the bearer token.
@Suite(.serialized) struct HTTPListenerTests {
    func get(_ path: String, port: UInt16, token: String? = nil) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func healthMetricsAndStatusBehindTheToken() async throws {
        let fixture = try DaemonFixture(elements: 4)
        defer { fixture.remove() }
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = try RunningDaemon(fixture, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)

        // The listener may come up a moment after READY: retry the first request briefly.
        var health: (status: Int, body: String) = (0, "")
        for _ in 0..<50 {
            if let answer = try? await get("/healthz", port: fixture.httpPort) { health = answer; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(health.status == 200 && health.body == "ok\n")

        #expect(try await get("/metrics", port: fixture.httpPort).status == 401)
        #expect(try await get("/metrics", port: fixture.httpPort, token: "wrong-token-0123456789").status == 401)
        let metrics = try await get("/metrics", port: fixture.httpPort, token: fixture.httpToken)
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("forewarn_heartbeat_writes_total"), "\(metrics.body)")

        let status = try await get("/api/v1/status", port: fixture.httpPort, token: fixture.httpToken)
        #expect(status.status == 200)
        #expect(status.body.contains("\"elements\" : 4"), "\(status.body)")
        #expect(try await get("/api/v1/status", port: fixture.httpPort).status == 401)

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit().status == 0)
    }
}
