import ForewarnModel
import Foundation
import Logging
import Persistence
import Stores
import Synchronization
import Testing
@testable import Ticketing

/// Delivery against a real HTTP server on loopback that misbehaves on request, over a real
/// store; time is a wall clock the test moves (retries are due when the test says so).
@Suite(.serialized) struct DeliveryTests {
    static let epoch = Date(timeIntervalSince1970: 1_800_000_000)

    final class WallClock: Sendable {
        private let now = Mutex(DeliveryTests.epoch)
        var date: Date { now.withLock { $0 } }
        func advance(_ seconds: Double) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    static func text(_ value: String) -> TemplateText { TemplateText(value, location: "test.yaml:1:1") }

    /// A ticketing hook against the test server, shaped like the Request Tracker preset.
    static func hook(_ base: String, updateEvery: Duration = .zero, openAfter: Duration = .zero,
                     caFile: String? = nil) -> Hook {
        let webhook = Webhook(headers: [HeaderTemplate(name: "Content-Type", value: text("application/json"))], requests: [
            .open: WebhookRequest(method: "POST", url: text("\(base)/ticket"),
                                  body: text(#"{"Subject": "[forewarn #{{incident.id}}] {{incident.root.name}}", "lines": {{incident.lines}}}"#),
                                  ticketID: .jsonPointer("/id")),
            .update: WebhookRequest(method: "POST", url: text("\(base)/ticket/{{ticket.id}}/comment"),
                                    body: text(#"{"Content": "{{change}}: {{incident.summary}}"}"#)),
            .resolve: WebhookRequest(method: "POST", url: text("\(base)/ticket/{{ticket.id}}/comment"),
                                     body: text(#"{"Status": "resolved", "Content": "{{incident.summary}}"}"#)),
            .lookup: WebhookRequest(method: "GET", url: text("\(base)/tickets?tag={{#url}}[forewarn #{{incident.id}}]{{/url}}"),
                                    ticketID: .jsonPointer("/items/0/id"), ticketState: .jsonPointer("/items/0/Status")),
        ], caFile: caFile, connectTimeout: .seconds(2), timeout: .seconds(5))
        return Hook(id: "rt", target: .webhook(webhook), events: Hook.Event.allCases, openAfter: openAfter,
                    updateEvery: updateEvery)
    }

    /// A store, an announcer and a deliverer for one hook.
    struct Rig {
        let folder: String
        let store: any Store
        let clock = WallClock()
        var announcer = TicketAnnouncer()
        let hooks: [Hook]
        let deliverer: TicketDeliverer<ContinuousClock>

        init(hooks: [Hook], concurrency: Int = 8, commands: any CommandRunning = SubprocessRunner()) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-delivery-\(UUID())").path
            store = try StoreFactory.open(folder + "/store.sqlite", access: .create)
            self.hooks = hooks
            let compiled = HookTemplates.compile(hooks)
            #expect(compiled.problems.isEmpty, "\(compiled.problems)")
            let clock = self.clock
            deliverer = TicketDeliverer(store: store, hooks: compiled.hooks,
                                        settings: DeliverySettings(concurrency: concurrency, lease: .seconds(60)),
                                        clock: ContinuousClock(), wallClock: { clock.date }, random: { 0.5 },
                                        commands: commands, logger: Logger(label: "test"))
        }

        func remove() { try? FileManager.default.removeItem(atPath: folder) }

        static func incident(_ id: Int64, state: Incident.State = .open, detected: Date = DeliveryTests.epoch,
                             resolved: Date? = nil) -> Incident {
            Incident(id: IncidentID(id), state: state, root: IncidentRoot(subject: .element("agg1"), kind: .unreachable),
                     group: "element:agg1", severity: .major, startedAt: detected, detectedAt: detected,
                     resolvedAt: state == .resolved ? (resolved ?? detected.addingTimeInterval(60)) : nil,
                     updatedAt: detected)
        }

        /// The correlator's changes for incident `id`, written as the daemon writes them.
        /// Incidents detected when first announced here.
        var detected: [Int64: Date] = [:]

        mutating func announce(_ id: Int64, _ kind: IncidentChange.Kind, _ events: [Hook.Event], summary: String = "") async throws {
            let detectedAt = detected[id] ?? clock.date
            detected[id] = detectedAt
            let incident = Self.incident(id, state: kind == .resolve ? .resolved : .open, detected: detectedAt,
                                         resolved: clock.date)
            let lines = kind == .open ? [LineInterval(line: LineID("L\(id)"), customer: "C1", start: DeliveryTests.epoch)] : []
            let change = IncidentChange(kind: kind, incident: incident, lines: lines,
                                        timeline: summary.isEmpty ? [] : [TimelineEntry(at: clock.date, kind: "note", detail: summary)],
                                        announce: events)
            try await store.record(CorrelationBatch(changes: [change], outbox: announcer.announce([change], hooks: hooks),
                                                    at: clock.date))
        }

        /// Delivery rounds until nothing is due now.
        func drain() async {
            while await deliverer.deliverDue() > 0 {}
        }

        func timeline(_ id: Int64) async throws -> [String] {
            try #require(try await store.incident(IncidentID(id))).timeline.filter { $0.kind == "ticket" }.map(\.detail)
        }
    }

    @Test func threeFailedCreatesThenExactlyOneTicket() async throws {
        let server = try TicketServer()
        defer { server.stop() }
        var rig = try Rig(hooks: [Self.hook(server.base)])
        defer { rig.remove() }
        try await server.control(#"{"fail_creates": 3, "status": 503}"#)
        try await rig.announce(1, .open, [.open])
        for _ in 0..<4 {
            await rig.drain()
            rig.clock.advance(600)
        }
        #expect(try await server.tickets().count == 1)
        let creates = try await server.requests().list.filter { $0.path == "/ticket" }
        #expect(creates.count == 4)
        #expect(try await rig.store.tickets(of: IncidentID(1)).map(\.ticketID) == ["1"])
        let timeline = try await rig.timeline(1)
        #expect(timeline.first?.hasPrefix("hook rt: open failed, retrying: HTTP 503") == true, "\(timeline)")
        #expect(timeline.last == "hook rt: ticket 1 opened")
        #expect(try await rig.store.incidents(openOnly: false, since: nil).first?.ticket?.ticketID == "1")
    }

    @Test func overTLSTheConfiguredCAIsTrustedAndNoOtherRoot() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-tls-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A certificate for 127.0.0.1, signed by itself: the only CA that vouches for it.
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                             "-nodes", "-keyout", folder + "/key.pem", "-out", folder + "/cert.pem", "-days", "2",
                             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl could not make a test certificate")
        let server = try TicketServer(tls: (folder + "/cert.pem", folder + "/key.pem"))
        defer { server.stop() }

        var trusted = try Rig(hooks: [Self.hook(server.tlsBase, caFile: folder + "/cert.pem")])
        defer { trusted.remove() }
        try await trusted.announce(1, .open, [.open])
        await trusted.drain()
        #expect(try await trusted.store.tickets(of: IncidentID(1)).map(\.ticketID) == ["1"])

        // The system's roots do not know this CA: the handshake fails, nothing is sent, the open waits.
        var untrusted = try Rig(hooks: [Self.hook(server.tlsBase)])
        defer { untrusted.remove() }
        try await untrusted.announce(2, .open, [.open])
        await untrusted.drain()
        #expect(try await untrusted.store.tickets(of: IncidentID(2)).isEmpty)
        let waiting = try await untrusted.store.outbox(.pending, limit: 10)
        #expect(waiting.count == 1 && waiting.first?.attempts == 1, "\(waiting)")
        #expect(waiting.first?.uncertain == false, "a refused handshake sent nothing")
        #expect(try await server.tickets().count == 1)
    }

    @Test func retryAfterIsHonoured() async throws {
        let server = try TicketServer()
        defer { server.stop() }
        var rig = try Rig(hooks: [Self.hook(server.base)])
        defer { rig.remove() }
        try await server.control(#"{"fail_creates": 1, "status": 429, "retry_after": 120}"#)
        try await rig.announce(1, .open, [.open])
        await rig.drain()
        let waiting = try #require(try await rig.store.outbox(.pending, limit: 10).first)
        #expect(waiting.nextAttemptAt >= Self.epoch.addingTimeInterval(120))
        rig.clock.advance(119)
        await rig.drain()
        #expect(try await server.tickets().isEmpty)
        rig.clock.advance(2)
        await rig.drain()
        #expect(try await server.tickets().count == 1)
    }

    @Test func aCreateWhoseAnswerWasLostIsLookedUpNotSentAgain() async throws {
        let server = try TicketServer()
        defer { server.stop() }
        var rig = try Rig(hooks: [Self.hook(server.base)])
        defer { rig.remove() }
        try await server.control(#"{"drop_creates": 1}"#)
        try await rig.announce(1, .open, [.open])
        await rig.drain()
        let uncertain = try #require(try await rig.store.outbox(.pending, limit: 10).first)
        #expect(uncertain.uncertain)
        rig.clock.advance(600)
        await rig.drain()
        #expect(try await server.tickets().count == 1)
        let requests = try await server.requests().list.map { "\($0.method) \($0.path.split(separator: "?").first ?? "")" }
        #expect(requests == ["POST /ticket", "GET /tickets"])
        #expect(try await rig.store.tickets(of: IncidentID(1)).first?.ticketID == "1")
        #expect(try await rig.timeline(1).last?.contains("found by lookup after an unanswered create") == true)
    }

    @Test func aServerDownForTheIncidentsWholeLifeGetsOpenUpdateResolveInOrder() async throws {
        let port = try TicketServer.freePort()
        var rig = try Rig(hooks: [Self.hook("http://127.0.0.1:\(port)")])
        defer { rig.remove() }
        try await rig.announce(1, .open, [.open])
        await rig.drain()
        try await rig.announce(1, .grow, [.update], summary: "2 more lines")
        try await rig.announce(1, .resolve, [.resolve], summary: "agg1 answers")
        for _ in 0..<3 {
            rig.clock.advance(600)
            await rig.drain()
        }
        #expect(try await rig.store.outbox(.pending, limit: 10).count == 3)
        let server = try TicketServer(port: port)
        defer { server.stop() }
        for _ in 0..<4 {
            rig.clock.advance(600)
            await rig.drain()
        }
        let requests = try await server.requests().list
        #expect(requests.map(\.path) == ["/ticket", "/ticket/1/comment", "/ticket/1/comment"])
        #expect(requests[1].body.contains("2 more lines"))
        #expect(try await server.tickets()["1"]?["status"] as? String == "resolved")
        #expect(try await rig.store.tickets(of: IncidentID(1)).first?.state == "resolved")
        #expect(try await rig.store.outbox(.pending, limit: 10).isEmpty)
    }

    @Test func aRefusedRequestIsDeadLetteredWithTheAnswerAndHoldsItsQueue() async throws {
        let server = try TicketServer()
        defer { server.stop() }
        var rig = try Rig(hooks: [Self.hook(server.base)])
        defer { rig.remove() }
        try await server.control(#"{"reject": true}"#)
        try await rig.announce(1, .open, [.open])
        try await rig.announce(1, .resolve, [.resolve])
        await rig.drain()
        let dead = try await rig.store.outbox(.dead, limit: 10)
        #expect(dead.map(\.entry.event) == [.open])
        #expect(dead.first?.lastError == #"HTTP 400: {"message": "Queue NOC does not exist"}"#)
        #expect(try await rig.timeline(1).last?.hasPrefix("hook rt: open dead-lettered: HTTP 400") == true)
        // Fixed and retried by an operator: the open, then the resolve.
        try await server.control(#"{"reject": false}"#)
        _ = try await rig.store.scheduleOutbox(dead.map(\.id), at: rig.clock.date)
        await rig.drain()
        #expect(try await server.requests().list.map(\.path) == ["/ticket", "/ticket", "/ticket/1/comment"])
    }

    @Test func updatesWaitingBehindEachOtherAreSentOnceWithTheLatestState() async throws {
        let server = try TicketServer()
        defer { server.stop() }
        var rig = try Rig(hooks: [Self.hook(server.base)])
        defer { rig.remove() }
        try await rig.announce(1, .open, [.open])
        await rig.drain()
        for number in 1...3 { try await rig.announce(1, .grow, [.update], summary: "change \(number)") }
        try await rig.announce(1, .resolve, [.resolve], summary: "over")
        await rig.drain()
        let comments = try await server.requests().list.filter { $0.path == "/ticket/1/comment" }.map(\.body)
        #expect(comments.count == 2)
        #expect(comments.first?.contains("change 3") == true)
        #expect(comments.last?.contains("resolved") == true)
        #expect(try await rig.store.outbox(.delivered, limit: 10).map(\.outcome)
                == [.sent, .sent, .coalesced, .coalesced, .sent])
    }

    @Test func updateEveryHoldsUpdatesButNeverTheResolve() async throws {
        let server = try TicketServer()
        defer { server.stop() }
        var rig = try Rig(hooks: [Self.hook(server.base, updateEvery: .seconds(300))])
        defer { rig.remove() }
        try await rig.announce(1, .open, [.open])
        await rig.drain()
        rig.clock.advance(10)
        try await rig.announce(1, .grow, [.update], summary: "first")
        await rig.drain()
        #expect(try await server.requests().list.count == 1)
        rig.clock.advance(300)
        await rig.drain()
        #expect(try await server.requests().list.map(\.path) == ["/ticket", "/ticket/1/comment"])
        try await rig.announce(1, .grow, [.update], summary: "second")
        try await rig.announce(1, .resolve, [.resolve], summary: "over")
        await rig.drain()
        #expect(try await server.requests().list.count == 4)
    }

    @Test func anIncidentResolvedWithinOpenAfterOpensNoTicket() async throws {
        let server = try TicketServer()
        defer { server.stop() }
        var rig = try Rig(hooks: [Self.hook(server.base, openAfter: .seconds(300))])
        defer { rig.remove() }
        try await rig.announce(1, .open, [.open])
        rig.clock.advance(60)
        try await rig.announce(1, .resolve, [.resolve])
        await rig.drain()
        rig.clock.advance(300)
        await rig.drain()
        #expect(try await server.requests().list.isEmpty)
        #expect(try await rig.store.outbox(.delivered, limit: 10).map(\.outcome) == [.skipped, .skipped])
        // One that lasts opens its ticket once open_after has passed.
        try await rig.announce(2, .open, [.open])
        await rig.drain()
        #expect(try await server.requests().list.isEmpty)
        rig.clock.advance(301)
        await rig.drain()
        #expect(try await server.tickets().count == 1)
    }

    @Test func aBurstOf500IncidentsAgainstASlowServer() async throws {
        let server = try TicketServer()
        defer { server.stop() }
        var rig = try Rig(hooks: [Self.hook(server.base)], concurrency: 32)
        defer { rig.remove() }
        try await server.control(#"{"delay": 0.2}"#)
        var changes: [IncidentChange] = []
        for id in Int64(1)...500 {
            changes.append(IncidentChange(kind: .open, incident: Rig.incident(id),
                                          lines: [LineInterval(line: LineID("L\(id)"), customer: "C1", start: Self.epoch)],
                                          announce: [.open]))
            changes.append(IncidentChange(kind: .resolve, incident: Rig.incident(id, state: .resolved), announce: [.resolve]))
        }
        try await rig.store.record(CorrelationBatch(changes: changes, outbox: rig.announcer.announce(changes, hooks: rig.hooks),
                                                    at: Self.epoch))
        let deliverer = rig.deliverer
        let running = Task { await deliverer.run() }
        for _ in 0..<600 {
            if try await rig.store.outbox(.pending, limit: 1).isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        running.cancel()
        await running.value
        let tickets = try await server.tickets()
        #expect(tickets.count == 500)
        let tags = Set(tickets.values.compactMap { ($0["create"] as? [String: Any])?["Subject"] as? String })
        #expect(tags.count == 500)
        #expect(tickets.values.allSatisfy { $0["status"] as? String == "resolved" })
        let (requests, maxInflight) = try await server.requests()
        #expect(requests.count == 1000)
        #expect(maxInflight <= 32)
        #expect(maxInflight > 1)
        // In order per incident: each ticket's create came before its resolve.
        var created: Set<String> = []
        for request in requests {
            if request.path == "/ticket" { created.insert(request.body) }
        }
        #expect(created.count == 500)
    }

    @Test func commandHooksDeliverRetryAndRefuseByExitStatus() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-command-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let script = folder + "/ticket.sh"
        try """
            #!/bin/sh
            cat > "$1/stdin.json"
            echo "$FOREWARN_INCIDENT_ID $FOREWARN_EVENT $FOREWARN_INCIDENT_ROOT_ID" > "$1/env"
            code=$(cat "$1/exit" 2>/dev/null || echo 0)
            [ "$code" = 0 ] && echo "ticket: CMD-$FOREWARN_INCIDENT_ID"
            echo "queue full" >&2
            exit "$code"
            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let hook = Hook(id: "pager", target: .command(CommandHook(arguments: [Self.text(script), Self.text(folder)],
                                                                  timeout: .seconds(10))),
                        events: [.open, .resolve])
        var rig = try Rig(hooks: [hook])
        defer { rig.remove() }
        try "75".write(toFile: folder + "/exit", atomically: true, encoding: .utf8)
        try await rig.announce(1, .open, [.open])
        await rig.drain()
        #expect(try await rig.store.outbox(.pending, limit: 10).first?.lastError == "exit 75 (temporary failure): queue full")
        try "0".write(toFile: folder + "/exit", atomically: true, encoding: .utf8)
        rig.clock.advance(600)
        await rig.drain()
        #expect(try await rig.store.tickets(of: IncidentID(1)).first?.ticketID == "CMD-1")
        #expect(try String(contentsOfFile: folder + "/env", encoding: .utf8) == "1 open agg1\n")
        let stdin = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/stdin.json")))
        #expect(((stdin as? [String: Any])?["incident"] as? [String: Any])?["id"] as? Int == 1)
        try "2".write(toFile: folder + "/exit", atomically: true, encoding: .utf8)
        try await rig.announce(1, .resolve, [.resolve])
        await rig.drain()
        #expect(try await rig.store.outbox(.dead, limit: 10).first?.lastError == "exit 2: queue full")
    }

    @Test func aProgramThatDoesNotReadItsInputIsDelivered() async throws {
        var rig = try Rig(hooks: [Hook(id: "true", target: .command(arguments: ["/bin/true"]), events: [.open])])
        defer { rig.remove() }
        for id in Int64(1)...20 { try await rig.announce(id, .open, [.open]) }
        await rig.drain()
        #expect(try await rig.store.outbox(.delivered, limit: 100).count == 20)
    }
}
