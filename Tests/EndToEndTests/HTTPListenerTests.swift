import Foundation
import GRDB
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The daemon's HTTP listener on loopback: health, Prometheus metrics and the status API,
/// behind the bearer token.
@Suite(.serialized) struct HTTPListenerTests {
    func get(_ path: String, port: UInt16, token: String? = nil, method: String = "GET",
             body: String? = nil) async throws -> (status: Int, body: String) {
        try await request(path, port: port, token: token, method: method, body: body).prefix
    }

    func request(_ path: String, port: UInt16, token: String? = nil, method: String = "GET",
                 body: String? = nil) async throws -> (prefix: (status: Int, body: String), contentType: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let body { request.httpBody = Data(body.utf8) }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return ((http?.statusCode ?? 0, String(decoding: data, as: UTF8.self)),
                http?.value(forHTTPHeaderField: "Content-Type") ?? "")
    }

    /// What a request could have changed: every table but the heartbeat's, row by row.
    static func contents(_ path: String) throws -> String {
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in
            try ["incident", "incident_line", "operator_command", "ticket_outbox", "ticket", "credit_ledger"].map { table in
                "\(table): " + (try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid").map(\.description)
                    .joined(separator: "; "))
            }.joined(separator: "\n")
        }
    }

    @Test func reportStatusAndMetricsAnswerAndMalformedOrUnauthenticatedRequestsChangeNothing() async throws {
        let fixture = try DaemonFixture(elements: 2)
        defer { fixture.remove() }
        // No element to poll and no line to probe: nothing but the requests could change the store.
        let yaml = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try fixture.writeRaw(String(yaml[..<yaml.range(of: "elements:\n")!.lowerBound]))
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = try RunningDaemon(fixture, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)
        let port = fixture.httpPort
        let token = fixture.httpToken
        for _ in 0..<50 {
            if (try? await get("/healthz", port: port)) != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let before = try Self.contents(fixture.storePath)

        // Unauthenticated: 401 everywhere but /healthz, the call intake included.
        for path in ["/api/v1/status", "/api/v1/report?period=2026Q4", "/api/v1/lines/L1", "/metrics"] {
            #expect(try await get(path, port: port).status == 401, "\(path)")
            #expect(try await get(path, port: port, token: "not-the-token-0123456789").status == 401, "\(path)")
        }
        #expect(try await get("/api/v1/calls", port: port, method: "POST", body: #"{"line": "L1"}"#).status == 401)

        // Malformed: 400 naming what is wrong.
        let badPeriod = try await get("/api/v1/report?period=2026Q5", port: port, token: token)
        #expect(badPeriod.status == 400 && badPeriod.body.contains("parameter 'period'"), "\(badPeriod)")
        let noPeriod = try await get("/api/v1/report?format=json", port: port, token: token)
        #expect(noPeriod.status == 400 && noPeriod.body.contains("parameter 'period' is missing"), "\(noPeriod)")
        let badFormat = try await get("/api/v1/report?period=2026Q4&format=pdf", port: port, token: token)
        #expect(badFormat.status == 400 && badFormat.body.contains("parameter 'format'"), "\(badFormat)")
        let unknown = try await get("/api/v1/report?period=2026Q4&colour=red", port: port, token: token)
        #expect(unknown.status == 400 && unknown.body.contains("unknown parameter 'colour'"), "\(unknown)")
        let twice = try await get("/api/v1/report?period=2026Q4&period=2026Q3", port: port, token: token)
        #expect(twice.status == 400 && twice.body.contains("'period' is given more than once"), "\(twice)")
        let badCall = try await get("/api/v1/calls", port: port, token: token, method: "POST", body: "[1, 2")
        #expect(badCall.status == 400, "\(badCall)")
        #expect(try Self.contents(fixture.storePath) == before)

        // Well formed: the report in each format, the status document, the new gauges.
        let json = try await request("/api/v1/report?period=2026Q4&format=json", port: port, token: token)
        #expect(json.prefix.status == 200 && json.contentType == "application/json")
        #expect(json.prefix.body.contains(#""schema" : "forewarn.report.v1""#))
        let text = try await request("/api/v1/report?period=2026-11", port: port, token: token)
        #expect(text.prefix.status == 200 && text.prefix.body.contains(#""name" : "2026-11""#), "json by default")
        let plain = try await request("/api/v1/report?period=2026-11-01..2026-11-15&format=text", port: port, token: token)
        #expect(plain.prefix.status == 200 && plain.contentType.hasPrefix("text/plain"))
        #expect(plain.prefix.body.hasPrefix("Forewarn operations report 2026-11-01..2026-11-15"))
        let html = try await request("/api/v1/report?period=2026Q4&format=html", port: port, token: token)
        #expect(html.prefix.status == 200 && html.contentType.hasPrefix("text/html") && html.prefix.body.hasPrefix("<!DOCTYPE html>"))

        let status = try await get("/api/v1/status", port: port, token: token)
        let cli = try ForewarnBinary.run(["status", "--config", fixture.configPath, "--store", fixture.storePath, "--json"])
        let api = try #require(try JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [String: Any])
        let command = try #require(try JSONSerialization.jsonObject(with: Data(cli.output.utf8)) as? [String: Any])
        #expect(Set(api.keys) == Set(command.keys) && api["schema"] as? String == "forewarn.status.v1")
        #expect(api["store"] as? String == command["store"] as? String)
        #expect(((api["daemons"] as? [[String: Any]])?.first)?["pid"] as? Int
                == ((command["daemons"] as? [[String: Any]])?.first)?["pid"] as? Int)
        #expect(api["kpis_quarter_to_date"] is [String: Any])

        let metrics = try await get("/metrics", port: port, token: token)
        for series in [#"forewarn_incidents_open{severity="critical"} 0"#, #"forewarn_kpi_target_ratio{kpi="proactive_rate"} 0.6"#,
                       "forewarn_outbox_dead_letters 0", #"forewarn_lines{state="unprobed"} 0"#] {
            #expect(metrics.body.contains(series), "\(series) not in\n\(metrics.body)")
        }
        #expect(metrics.body.contains(#"forewarn_elements{state="not_polled"}"#))
        #expect(try Self.contents(fixture.storePath) == before)

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit().status == 0)
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

    @Test func theLineViewOfTheRunningDaemon() async throws {
        let fixture = try DaemonFixture(elements: 2)
        defer { fixture.remove() }
        let yaml = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try fixture.writeRaw(yaml.replacingOccurrences(of: "elements:\n", with: """
            customers:
              - {id: C1, name: One}
            probe_profiles:
              - {id: default, interval: 1s, timeout: 500ms}
            lines:
              - {id: L1, customer: C1, element: e2, probe: none}
              - {id: L2, customer: C1, element: e2, probe: icmp, target: 127.0.0.1}
            elements:

            """))
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = try RunningDaemon(fixture, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)
        let port = fixture.httpPort
        for _ in 0..<50 {
            if (try? await get("/healthz", port: port)) != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let unknown = try await get("/api/v1/lines/L404", port: port, token: fixture.httpToken)
        #expect(unknown.status == 404 && unknown.body.contains("no line 'L404'"), "\(unknown)")
        let known = try await get("/api/v1/lines/L1", port: port, token: fixture.httpToken)
        #expect(known.status == 200, "\(known)")
        let view = try #require(try JSONSerialization.jsonObject(with: Data(known.body.utf8)) as? [String: Any])
        #expect(view["schema"] as? String == "forewarn.line.v1")
        #expect((view["state"] as? [String: Any])?["source"] as? String == "daemon")
        #expect((view["path"] as? [[String: Any]])?.map { $0["element"] as? String } == ["e2"])
        // A probed line: its last round and RTT as the prober reported them (raw ICMP needs root).
        if geteuid() == 0 {
            var probe: [String: Any]?
            for _ in 0..<100 {
                let answer = try await get("/api/v1/lines/L2", port: port, token: fixture.httpToken)
                let object = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
                probe = object?["last_probe"] as? [String: Any]
                if probe != nil && (object?["state"] as? [String: Any])?["health"] as? String == "up" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(probe?["answered"] as? Bool == true && probe?["rtt_milliseconds"] is Double, "\(String(describing: probe))")
        } else {
            print("skipped: the probed line's last round needs root (raw ICMP)")
        }
        // The command asks the running daemon.
        let command = try ForewarnBinary.run(["line", "L1", "--config", fixture.configPath, "--store", fixture.storePath])
        #expect(command.status == 0, "\(command.errors)")
        #expect(command.output.contains("now: UNPROBED") && !command.output.contains("did not answer"), "\(command.output)")

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit().status == 0)
    }
}
