import AsyncHTTPClient
import Foundation
import ForewarnModel
import NIOCore
import NIOHTTP1
import NIOPosix
import Persistence
import NIOSSL
import Subprocess
import Synchronization
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// An HTTP request as rendered from a hook's templates.
public struct RenderedRequest: Sendable, Hashable {
    public var method: String
    public var url: String
    public var headers: [HeaderLine]
    public var body: String?

    public struct HeaderLine: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            (self.name, self.value) = (name, value)
        }
    }

    public init(method: String, url: String, headers: [HeaderLine] = [], body: String? = nil) {
        (self.method, self.url, self.headers, self.body) = (method, url, headers, body)
    }
}

/// Sends rendered requests; the delivery logic holds this protocol, tests may hold a recorder.
public protocol HTTPSending: Sendable {
    func send(_ request: RenderedRequest, timeout: Duration) async -> HTTPAnswer
    func shutdown() async
}

/// The HTTP client of one hook: its trust roots and connect timeout.
public final class WebhookClient: HTTPSending {
    let client: HTTPClient
    private let shutDown = Mutex(false)
    /// Answers are read up to this many bytes (a ticket id is near the start).
    static let answerLimit = 1 << 20

    /// `connections`: at most this many to the ticketing system at once (the delivery bound).
    public init(caFile: String?, connectTimeout: Duration, connections: Int = 32) throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60),
                                             concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections))
        configuration.timeout = .init(connect: .nanoseconds(connectTimeout.components.seconds * 1_000_000_000
                                                                + connectTimeout.components.attoseconds / 1_000_000_000))
        configuration.redirectConfiguration = .disallow
        if let caFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caFile)
            configuration.tlsConfiguration = tls
        }
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func send(_ rendered: RenderedRequest, timeout: Duration) async -> HTTPAnswer {
        var request = HTTPClientRequest(url: rendered.url)
        request.method = HTTPMethod(rawValue: rendered.method)
        for header in rendered.headers { request.headers.add(name: header.name, value: header.value) }
        if let body = rendered.body { request.body = .bytes(ByteBuffer(string: body)) }
        let deadline = TimeAmount.milliseconds(Int64(timeout.inSeconds * 1000))
        do {
            let response = try await client.execute(request, timeout: deadline)
            let headers = response.headers.map { (name: $0.name, value: $0.value) }
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: Self.answerLimit)
            } catch {
                return .noAnswer("the answer was cut off: \(error)")
            }
            return .response(status: Int(response.status.code), headers: headers, body: String(buffer: body))
        } catch {
            return Self.classify(error)
        }
    }

    /// Whether the request can have reached the server: errors while connecting (refused,
    /// unreachable, TLS handshake) mean it cannot; anything later means it may have.
    static func classify(_ error: any Error) -> HTTPAnswer {
        let text = String(describing: error)
        if error is NIOConnectionError || error is NIOSSLError { return .notSent(text) }
        if let clientError = error as? HTTPClientError {
            let beforeSending: [HTTPClientError] = [.connectTimeout, .invalidURL, .emptyHost, .socksHandshakeTimeout,
                                                    .tlsHandshakeTimeout, .httpProxyHandshakeTimeout]
            return beforeSending.contains(clientError) ? .notSent(text) : .noAnswer(text)
        }
        if let channelError = error as? ChannelError, case .connectTimeout = channelError { return .notSent(text) }
        if let ioError = error as? IOError, [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH].contains(ioError.errnoCode) {
            return .notSent(text)
        }
        return .noAnswer(text)
    }

    public func shutdown() async {
        guard markShutDown() else { return }
        try? await client.shutdown().get()
    }

    /// A client dropped without `shutdown` (a reload replaced the hook) closes its connections
    /// in the background rather than leaking them.
    deinit {
        if markShutDown() { _ = client.shutdown() }
    }

    /// True the first time only.
    private func markShutDown() -> Bool {
        shutDown.withLock { done in
            let first = !done
            done = true
            return first
        }
    }
}

/// What a command hook's program said.
public enum CommandAnswer: Sendable, Hashable {
    case exited(Int32, firstLine: String, errorExcerpt: String)
    case timedOut
    case cannotRun(String)
}

/// Runs a command hook's program without a shell: the document on stdin, `FOREWARN_*` in the
/// environment, within its timeout (then SIGTERM, and SIGKILL 2 s later).
public protocol CommandRunning: Sendable {
    func run(_ arguments: [String], input: String, environment: [String: String], timeout: Duration) async -> CommandAnswer
}

public struct SubprocessRunner: CommandRunning {
    public init() {}

    public func run(_ arguments: [String], input: String, environment: [String: String],
                    timeout: Duration) async -> CommandAnswer {
        guard let program = arguments.first else { return .cannotRun("no program") }
        var platform = PlatformOptions()
        platform.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
        var collected: [Environment.Key: String?] = [:]
        for (key, value) in environment { collected[Environment.Key(stringLiteral: key)] = value }
        let options = platform
        let variables = collected
        // The document goes in through a file, not a pipe: a program that exits without reading
        // its input (`/bin/true`) must not fail the write, nor leave a descriptor behind.
        let inputPath = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-hook-\(UUID()).json").path
        guard FileManager.default.createFile(atPath: inputPath, contents: Data(input.utf8),
                                             attributes: [.posixPermissions: 0o600]),
              let descriptor = try? FileDescriptor.open(FilePath(inputPath), .readOnly) else {
            return .cannotRun("cannot write the event document to \(inputPath)")
        }
        try? FileManager.default.removeItem(atPath: inputPath)
        return await withTaskGroup(of: CommandAnswer?.self) { group in
            group.addTask {
                do {
                    let result = try await Subprocess.run(
                        program.hasPrefix("/") ? .path(FilePath(program)) : .name(program),
                        arguments: Arguments(Array(arguments.dropFirst())),
                        environment: .inherit.updating(variables), platformOptions: options,
                        input: .fileDescriptor(descriptor, closeAfterSpawningProcess: true), output: .string(limit: 64 * 1024), error: .string(limit: 16 * 1024))
                    let output = result.standardOutput ?? ""
                    let firstLine = output.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
                    let errors = AnswerReading.excerpt((result.standardError ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
                    switch result.terminationStatus {
                    case .exited(let code): return .exited(code, firstLine: firstLine, errorExcerpt: errors)
                    case .signaled(let signal): return .exited(128 + signal, firstLine: firstLine, errorExcerpt: errors)
                    }
                } catch is CancellationError {
                    return nil
                } catch {
                    return .cannotRun("\(error)")
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : .timedOut
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .timedOut
        }
    }
}

extension CommandAnswer {
    /// Exit 0 delivered (a first line `ticket: ID` names the ticket), 75 (EX_TEMPFAIL) retry,
    /// anything else permanent; a program that ran past its timeout may have done its work.
    public var outcome: DeliveryOutcome {
        switch self {
        case .exited(0, let firstLine, _):
            if firstLine.hasPrefix("ticket:") {
                let id = firstLine.dropFirst("ticket:".count).trimmingCharacters(in: .whitespaces)
                return .delivered(id.isEmpty ? nil : TicketUpdate(ticketID: id, state: nil), note: nil)
            }
            return .delivered(nil, note: nil)
        case .exited(75, _, let errors):
            return .retry("exit 75 (temporary failure)" + (errors.isEmpty ? "" : ": \(errors)"), after: nil, uncertain: false)
        case .exited(let code, _, let errors):
            return .permanent("exit \(code)" + (errors.isEmpty ? "" : ": \(errors)"))
        case .timedOut:
            return .retry("timed out", after: nil, uncertain: true)
        case .cannotRun(let reason):
            return .permanent("cannot run: \(reason)")
        }
    }
}
