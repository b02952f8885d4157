#if canImport(Glibc)
import Glibc
#endif
import ForewarnModel
import Foundation
import Hummingbird
import Logging
import NIOCore
import Persistence
import Stores
import Synchronization
import Ticketing

/// `ticket-delivery`: 10,000 outbox entries (one `open` per incident) delivered to a loopback
/// ticketing server in a child process that answers at once; then the same with every 20th
/// request answered 503 (5 %). Deliveries per second, CPU per delivery (this process only), and
/// the server's count: every incident exactly one ticket. No peer: no other tool delivers an
/// outbox with these guarantees.
enum TicketBench {
    static let entries = 10_000

    static func run() throws {
        let clean = try measure(failEvery: 0)
        let failing = try measure(failEvery: 20)
        print("bench: ticket-delivery ours=\(Int(clean.rate)) peer=- unit=deliveries/s")
        if !clean.exact || !failing.exact { throw BenchFailure(reason: "a ticket was lost or doubled") }
    }

    struct BenchFailure: Error { var reason: String }

    struct Outcome {
        var rate: Double
        var exact: Bool
    }

    static func measure(failEvery: Int) throws -> Outcome {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-ticket-bench-\(getpid())-\(failEvery)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = Process()
        server.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        server.arguments = ["ticket-server", folder + "/port", String(failEvery)]
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        var port = 0
        for _ in 0..<500 where port == 0 {
            port = Int((try? String(contentsOfFile: folder + "/port", encoding: .utf8)) ?? "") ?? 0
            usleep(10_000)
        }
        let base = "http://127.0.0.1:\(port)"
        let store = try StoreFactory.open(folder + "/bench.sqlite", access: .create)
        let hook = Hook(id: "bench", target: .webhook(Webhook(
            headers: [HeaderTemplate(name: "Content-Type", value: TemplateText("application/json"))],
            requests: [.open: WebhookRequest(method: "POST", url: TemplateText(base + "/ticket"),
                                             body: TemplateText(#"{"Subject": "[forewarn #{{incident.id}}] {{incident.root.name}}"}"#),
                                             ticketID: .jsonPointer("/id"))])), events: [.open])
        let epoch = Date()
        let changes = (1...entries).map { id in
            IncidentChange(kind: .open, incident: Incident(
                id: IncidentID(Int64(id)), root: IncidentRoot(subject: .element(ElementID("acc\(id)")), kind: .unreachable),
                group: "element:acc\(id)", severity: .minor, startedAt: epoch, detectedAt: epoch, updatedAt: epoch),
                lines: [LineInterval(line: LineID("L\(id)"), customer: "C1", start: epoch)], announce: [.open])
        }
        var announcer = TicketAnnouncer()
        let batch = CorrelationBatch(changes: changes, outbox: announcer.announce(changes, hooks: [hook]), at: epoch)
        let compiled = HookTemplates.compile([hook]).hooks
        let deliverer = TicketDeliverer(store: store, hooks: compiled,
                                        settings: DeliverySettings(concurrency: 32, pollInterval: .milliseconds(20),
                                                                   retry: RetryPolicy(base: .milliseconds(20), cap: .milliseconds(200))),
                                        clock: ContinuousClock(), logger: Logger(label: "bench"))
        let result = Mutex<(seconds: Double, cpu: Double, pending: Int, counts: (Int, Int, Int))?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await store.record(batch)
                let cpuBefore = cpuSeconds()
                let start = ContinuousClock.now
                let running = Task { await deliverer.run() }
                var pending = entries
                while pending > 0 && ContinuousClock.now - start < .seconds(300) {
                    try await Task.sleep(for: .milliseconds(20))
                    pending = try await store.outbox(.pending, limit: 1).count
                }
                let elapsed = ContinuousClock.now - start
                let cpu = cpuSeconds() - cpuBefore
                running.cancel()
                await running.value
                let counts = await serverCounts(base)
                result.withLock { $0 = (elapsed.inSeconds, cpu, pending, counts) }
            } catch {
                print("ticket-delivery: \(error)")
            }
            done.signal()
        }
        done.wait()
        guard let (seconds, cpu, pending, counts) = result.withLock({ $0 }) else { throw BenchFailure(reason: "no result") }
        let (tickets, distinct, failed) = counts
        let rate = Double(entries) / seconds
        let exact = pending == 0 && tickets == entries && distinct == entries
        print(String(format: "ticket-delivery%@: %d entries in %.2f s: %.0f deliveries/s, %.3f ms CPU per delivery "
                     + "(this process); server: %d tickets for %d distinct incidents, %d answered 503; %@",
                     failEvery > 0 ? " (1 in \(failEvery) answered 503)" : "", entries, seconds, rate,
                     cpu / Double(entries) * 1000, tickets, distinct, failed,
                     exact ? "every incident exactly one ticket" : "NOT exactly one ticket each"))
        print(String(format: "target: >= 1,000 deliveries/s at <= 1 ms CPU each — %@",
                     rate >= 1000 && cpu / Double(entries) <= 0.001 ? "met" : "NOT MET"))
        return Outcome(rate: rate, exact: exact)
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// (tickets, distinct subjects, 503s) as the server counted them.
    static func serverCounts(_ base: String) async -> (Int, Int, Int) {
        guard let client = try? WebhookClient(caFile: nil, connectTimeout: .seconds(5), connections: 1) else { return (0, 0, 0) }
        let answer = await client.send(RenderedRequest(method: "GET", url: base + "/_counts"), timeout: .seconds(10))
        await client.shutdown()
        guard case .response(200, _, let body) = answer,
              let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Int] else {
            print("ticket-delivery: the server's counts could not be read: \(answer)")
            return (0, 0, 0)
        }
        return (object["tickets"] ?? 0, object["distinct"] ?? 0, object["failed"] ?? 0)
    }

    /// The child process: a ticketing server answering at once; every `failEvery`-th create 503.
    static func serve() throws {
        let arguments = Array(CommandLine.arguments.dropFirst(2))
        let portFile = arguments[0]
        let failEvery = Int(arguments[1]) ?? 0
        struct Counts {
            var requests = 0
            var tickets = 0
            var failed = 0
            var subjects: Set<String> = []
        }
        let counts = Mutex(Counts())
        let router = Router()
        router.post("/ticket") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 16)
            let subject = String(buffer: body)
            let answer = counts.withLock { counts -> (Int, Int) in
                counts.requests += 1
                if failEvery > 0 && counts.requests % failEvery == 0 {
                    counts.failed += 1
                    return (503, 0)
                }
                counts.tickets += 1
                counts.subjects.insert(subject)
                return (201, counts.tickets)
            }
            return Response(status: .init(code: answer.0), headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: answer.0 == 201 ? #"{"id": "\#(answer.1)"}"# : "{}")))
        }
        router.get("/_counts") { _, _ -> Response in
            let text = counts.withLock { #"{"tickets": \#($0.tickets), "distinct": \#($0.subjects.count), "failed": \#($0.failed)}"# }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        var logger = Logger(label: "ticket-server")
        logger.logLevel = .error
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  let port = channel.localAddress?.port ?? 0
                                  try? String(port).write(toFile: portFile, atomically: true, encoding: .utf8)
                              }, logger: logger)
        let done = DispatchSemaphore(value: 0)
        Task {
            try? await app.runService()
            done.signal()
        }
        done.wait()
    }
}
