import ArgumentParser
import ForewarnConfig
import ForewarnDaemon
import ForewarnModel
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Persistence
import Reports

/// `forewarn line`: the contact centre's view of a line while the customer is on the phone.
struct LineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "line",
        abstract: "Show one line as the contact centre needs it: state now, path to the core, the outage it is in, its credit.",
        discussion: """
            Name the line, or a customer (every line of theirs), or the line's address. Asks the running \
            daemon (daemon.http_listen, with its token) for its verdict and last probe; when the daemon \
            does not answer, shows the state of the store's last recorded change. Then: the path through \
            the topology to the core, the open incident the line is in (since when, root, ticket, whether \
            the customer already called), its outages and credit this billing month, and the \
            report-call command to log the call. --json prints an array, one forewarn.line.v1 object per line.
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var storeOption: StoreOption
    @Argument(help: ArgumentHelp("The line's id.", valueName: "LINE")) var line: String?
    @Option(help: ArgumentHelp("Every line of this customer.", valueName: "CUSTOMER")) var customer: String?
    @Option(help: ArgumentHelp("The line whose probe target is this address.", valueName: "ADDRESS")) var address: String?
    @Flag(help: "Print JSON (an array of forewarn.line.v1 objects).") var json = false

    func validate() throws {
        let given = [line, customer, address].compactMap { $0 }.count
        guard given == 1 else { throw ValidationError("name exactly one of LINE, --customer or --address") }
        if let address, IPAddress(address) == nil {
            throw ValidationError("--address must be an IPv4 or IPv6 address, not '\(address)'")
        }
    }

    var query: LineLookup.Query {
        if let line { return .line(line) }
        if let customer { return .customer(customer) }
        return .address(address!)
    }

    func run() async throws {
        let access = try StoreAccess(options, storeOption, needConfiguration: true)
        let configuration = access.configuration!
        let lines = LineLookup.lines(query, in: configuration)
        guard !lines.isEmpty else { throw CommandFailure("no line for \(query) in \(configuration.source)") }
        var views: [LineView] = []
        var store: (any Store)?
        for line in lines {
            if let answer = await Self.askDaemon(line.id, configuration: configuration) {
                views.append(answer)
                continue
            }
            if store == nil { store = try access.read() }
            views.append(try await LineLookup.view(
                of: line, configuration: configuration, store: store!, now: Date(),
                notes: ["the daemon did not answer at \(configuration.daemon.httpListen): state from the store"]))
        }
        if json {
            let array = views.map(\.jsonObject)
            let data = try JSONSerialization.data(withJSONObject: array, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(views.map(\.text).joined(separator: "\n"), terminator: "")
        }
    }

    /// The daemon's view of the line (`GET /api/v1/lines/L`), nil when it does not answer within 2 s.
    static func askDaemon(_ line: LineID, configuration: Configuration) async -> LineView? {
        let id = line.rawValue.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? line.rawValue
        guard let data = await DaemonAPI.get("/api/v1/lines/\(id)", configuration: configuration, timeout: 2) else { return nil }
        return try? LineView.decode(json: data)
    }
}

/// The running daemon's HTTP API (`daemon.http_listen`, with `daemon.http_token`), asked by
/// commands that can use what it knows now or keeps current.
enum DaemonAPI {
    /// The body of a 200 answer to `GET path`; nil when the daemon does not answer so in `timeout` seconds.
    static func get(_ path: String, configuration: Configuration, timeout: TimeInterval) async -> Data? {
        let endpoint = configuration.daemon.httpListen
        var host = endpoint.address.description
        // A listener on every address answers on loopback.
        if host == "0.0.0.0" { host = "127.0.0.1" }
        if host == "::" { host = "::1" }
        if host.contains(":") { host = "[\(host)]" }
        guard let url = URL(string: "http://\(host):\(endpoint.port)\(path)") else { return nil }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        if let token = configuration.daemon.httpToken { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        guard let (data, response) = try? await URLSession.shared.data(for: request),
              (response as? HTTPURLResponse)?.statusCode == 200 else { return nil }
        return data
    }
}
