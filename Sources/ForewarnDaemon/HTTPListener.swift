import Foundation
import ForewarnModel
import Hummingbird
import Logging
import NIOCore
import Prometheus
import Reports
import Persistence
import ServiceLifecycle

/// The daemon's HTTP listener (`daemon.http_listen`): `/healthz` for load balancers and
/// systemd-independent checks, `/metrics` for Prometheus, and the JSON API under `/api/v1/`.
/// With a token configured every path but `/healthz` needs `Authorization: Bearer TOKEN`.
enum HTTPListener {
    /// Connections open at once (fewer when the open-file limit is low); beyond it the idlest
    /// is closed to make room.
    static let maxConnections = 256
    /// A connection without a request (or whose request head has not arrived) for this long is
    /// closed.
    static let idleTimeout: Duration = .seconds(10)

    static func application(endpoint: SocketEndpoint, token: String?, store: any Store, liveness: Liveness,
                            tolerance: Duration, storeHealth: StoreHealth? = nil, registry: PrometheusCollectorRegistry,
                            current: CurrentConfiguration, collection: CollectionStatistics? = nil,
                            lastRounds: LineProbeLog? = nil, accounting: StatusAccounting = StatusAccounting(),
                            logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: BearerTokenMiddleware(token: token, openPaths: ["/healthz"]))
        router.get("/healthz") { _, _ -> Response in
            let verdict = Self.health(stalled: liveness.sinceLastProgress > tolerance, storeProblem: storeHealth?.problem)
            return Response(status: verdict == nil ? .ok : .serviceUnavailable,
                            headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: (verdict ?? "ok") + "\n")))
        }
        let statusMetrics = StatusMetrics(accounting: accounting)
        router.get("/metrics") { _, _ -> Response in
            await statusMetrics.refresh(store: store, current: current, now: Date(), logger: logger)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/api/v1/status") { _, _ -> Response in
            do {
                return try await StatusAPI.status(store: store, current: current, accounting: accounting, now: Date())
            } catch {
                logger.error("status request failed", metadata: ["error": "\(error)"])
                return StatusAPI.error(.internalServerError, "\(error)")
            }
        }
        router.get("/api/v1/report") { request, _ -> Response in
            await StatusAPI.report(query: request.uri.queryParameters.map { (String($0.key), String($0.value)) }, store: store, configuration: current.configuration,
                                   now: Date(), logger: logger)
        }
        // The contact centre's view of one line, with the prober's verdict and last round.
        router.get("/api/v1/lines/:line") { _, context -> Response in
            let id = context.parameters.get("line") ?? ""
            let configuration = current.configuration
            guard let line = configuration.lines.first(where: { $0.id.rawValue == id }) else {
                return StatusAPI.error(.notFound, "no line '\(id)' in the configuration in force")
            }
            do {
                return jsonResponse(try await LineLookup.view(
                    of: line, configuration: configuration, store: store, now: Date(), fromDaemon: true,
                    live: collection?.lineHealth(line.id), lastProbe: lastRounds?.last(line.id)).json)
            } catch {
                logger.error("line request failed", metadata: ["error": "\(error)", "line.id": "\(id)"])
                return StatusAPI.error(.internalServerError, "\(error)")
            }
        }
        // The contact centre logs a call: queued for the correlator like `forewarn report-call`.
        router.post("/api/v1/calls") { request, context -> Response in
            let body = try await request.body.collect(upTo: 64 * 1024)
            let lines = Set(current.configuration.lines.map(\.id))
            let answer = await CustomerCallIntake.accept(body: Data(body.readableBytesView), lines: lines, store: store,
                                                         bounds: current.configuration.daemon.timeBounds)
            return Response(status: HTTPResponse.Status(code: answer.status), headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body + "\n")))
        }
        let host = endpoint.address.description
        let limiter = HTTPConnectionLimiter(limit: HTTPConnectionLimiter.limit(configured: maxConnections),
                                            logger: logger)
        return Application(router: router,
                           server: .http1(configuration: .init(additionalChannelHandlers: [limiter.handler()],
                                                               idleTimeout: .seconds(Int64(idleTimeout.components.seconds)))),
                           configuration: .init(address: .hostname(host, port: Int(endpoint.port)),
                                                serverName: "forewarn", backlog: 1_024),
                           onServerRunning: { channel in
                               let bound = channel.localAddress.flatMap { address in
                                   address.ipAddress.map { "\($0):\(address.port ?? 0)" }
                               }
                               logger.info("http listening", metadata: [
                                   "http.address": "\(bound ?? endpoint.description)",
                                   "http.auth": "\(token == nil ? "none" : "bearer token")",
                               ])
                           },
                           logger: logger)
    }

    /// What `/healthz` says when the daemon is not healthy; nil when it is.
    static func health(stalled: Bool, storeProblem: String?) -> String? {
        if stalled { return "stalled" }
        return storeProblem.map { "degraded: \($0)" }
    }

    static func jsonResponse(_ json: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: json + "\n")))
    }
}

/// Rejects requests without the configured bearer token (compared in constant time). Printed or
/// dumped (with the application that holds it), the token shows as `***`.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware, CustomStringConvertible,
                                                     CustomDebugStringConvertible, CustomReflectable {
    let token: String?
    let openPaths: Set<String>

    init(token: String?, openPaths: Set<String>) {
        self.token = token
        self.openPaths = openPaths
    }

    var description: String { "BearerTokenMiddleware(token: \(token == nil ? "none" : "***"), openPaths: \(openPaths.sorted()))" }
    var debugDescription: String { description }
    var customMirror: Mirror {
        Mirror(self, children: ["token": token == nil ? "none" : "***", "openPaths": openPaths.sorted()], displayStyle: .struct)
    }

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token, !openPaths.contains(request.uri.path) else { return try await next(request, context) }
        let presented = request.headers[.authorization] ?? ""
        guard Self.constantTimeEqual(presented, "Bearer " + token) else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"forewarn\""])
        }
        return try await next(request, context)
    }

    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<max(left.count, right.count) {
            difference |= (index < left.count ? left[index] : 0) ^ (index < right.count ? right[index] : 0)
        }
        return difference == 0
    }
}

/// The HTTP listener as a service whose failure names the address it could not take
/// (`daemon.http_listen 127.0.0.1:9730: address already in use`), not NIO's bind call.
struct HTTPListenerService<Listener: Service>: Service {
    let endpoint: SocketEndpoint
    let listener: Listener

    struct Failure: Error, CustomStringConvertible {
        var endpoint: SocketEndpoint
        var cause: any Error

        var description: String {
            let reason = (cause as? IOError).map { String(cString: strerror($0.errnoCode)).lowercased() } ?? "\(cause)"
            return "cannot listen on daemon.http_listen \(endpoint): \(reason)"
        }
    }

    func run() async throws {
        do { try await listener.run() } catch { throw Failure(endpoint: endpoint, cause: error) }
    }
}
