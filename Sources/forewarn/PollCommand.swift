import ArgumentParser
import ForewarnConfig
import ForewarnModel
import Foundation
import SNMP

struct Poll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Poll elements or addresses once over SNMP and show what they answer.",
        discussion: """
            Each TARGET is an element id from the configuration (polled with its SNMP profile) or an \
            address (ADDRESS or ADDRESS:PORT, polled with --profile, --community, the configuration's \
            'default' profile, or v2c community 'public' on port 161 like the net-snmp tools). Shows \
            whether it answered, sysUpTime, sysName and every port (ifIndex, ifName, admin/oper \
            status, error counters). All targets are polled concurrently; a summary line closes the \
            output. Exit status 0 when every target answered, 3 when some did not, 1 on an error.
            """)

    @OptionGroup var options: ConfigOptions
    @Argument(help: ArgumentHelp("Element ids or addresses.", valueName: "TARGET")) var targets: [String] = []
    @Option(help: ArgumentHelp("Read more targets from FILE, one per line (# starts a comment).", valueName: "FILE"))
    var file: String?
    @Option(help: ArgumentHelp("SNMP profile from the configuration for address targets.", valueName: "PROFILE"))
    var profile: String?
    @Option(help: ArgumentHelp("SNMPv2c community for address targets.", valueName: "COMMUNITY"))
    var community: String?
    @Flag(help: "Print JSON instead of text.") var json = false

    func validate() throws {
        if profile != nil && community != nil { throw ValidationError("give --profile or --community, not both") }
        if targets.isEmpty && file == nil { throw ValidationError("name at least one element or address, or --file") }
    }

    func run() async throws {
        NetSNMPLibrary.initialise()
        let configuration = try loadConfiguration()
        let elements = Dictionary((configuration?.elements ?? []).map { ($0.id.rawValue, $0) }) { first, _ in first }
        let addressProfile = try addressProfile(configuration)
        let resolve = { (name: String) throws(ValidationError) -> SNMPTarget in
            try Self.resolve(name, configuration: configuration, elements: elements, addressProfile: addressProfile)
        }
        // Targets on the command line are checked before anything is polled; a --file is read
        // while it is polled, so a list of any length takes the same memory.
        var source = TargetSource(named: try targets.map(resolve), resolve: resolve)
        if let file {
            do { source.lines = try InputFile.Lines(file) } catch { throw ValidationError("cannot read \(error)") }
        }
        let maxOutstanding = configuration?.snmp.maxOutstanding ?? 1_000
        let engine: SNMPEngine
        do {
            engine = try SNMPEngine(configuration: .init(maxOutstanding: maxOutstanding))
        } catch {
            FileHandle.standardError.write(Data("forewarn: \(error)\n".utf8))
            throw ExitCode.failure
        }
        var document = OneShotPoll.JSONStream()
        if json { print(document.opening, terminator: "") }
        let summary = await OneShotPoll.stream(&source, engine: engine, window: min(100_000, max(1_000, 4 * maxOutstanding))) {
            print(json ? document.element($0) : OneShotPoll.text($0), terminator: json ? "" : "\n")
        }
        engine.shutdown()
        print(json ? document.closing(summary) : OneShotPoll.text(summary))
        if source.problems > 0 { throw ExitCode.failure }
        if summary.answered < summary.targets { throw ExitCode(3) }
    }

    /// The command line's targets, then --file's, one line at a time; a line that names no
    /// target is reported (FILE:LINE) and skipped, and a file that cannot be read further ends
    /// the list. Either makes the exit status 1.
    struct TargetSource: IteratorProtocol {
        var named: [SNMPTarget]
        var lines: InputFile.Lines?
        let resolve: (String) throws(ValidationError) -> SNMPTarget
        private(set) var problems = 0

        init(named: [SNMPTarget], resolve: @escaping (String) throws(ValidationError) -> SNMPTarget) {
            self.named = named.reversed()
            self.resolve = resolve
        }

        mutating func next() -> SNMPTarget? {
            if let target = named.popLast() { return target }
            while let file = lines {
                let line: String?
                do { line = try file.next() } catch {
                    report("cannot read \(error)")
                    lines = nil
                    return nil
                }
                guard let line else {
                    lines = nil
                    return nil
                }
                let name = (line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "")
                    .trimmingCharacters(in: .whitespaces)
                if name.isEmpty { continue }
                do { return try resolve(name) } catch { report("\(file.path):\(file.number): \(error.message)") }
            }
            return nil
        }

        private mutating func report(_ message: String) {
            problems += 1
            FileHandle.standardError.write(Data("forewarn: \(message)\n".utf8))
        }
    }

    /// The configuration if one is given or installed; polling ad-hoc addresses needs none.
    func loadConfiguration() throws -> Configuration? {
        let explicit = CommandLine.arguments.contains { $0 == "-c" || $0 == "--config" || $0.hasPrefix("--config=") }
        guard explicit || FileManager.default.fileExists(atPath: options.config) else { return nil }
        do {
            return try ConfigLoader.load(path: options.config)
        } catch {
            FileHandle.standardError.write(Data("forewarn: cannot read configuration:\n\(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    static func resolve(_ name: String, configuration: Configuration?, elements: [String: Element],
                        addressProfile: SNMPProfile?) throws(ValidationError) -> SNMPTarget {
        if let element = elements[name], let configuration {
            return SNMPTarget(element: element, profile: addressProfile ?? configuration.profile(for: element))
        }
        var address = IPAddress(name)
        var port: UInt16 = 161
        if address == nil, let endpoint = SocketEndpoint(name) {
            address = endpoint.address
            port = endpoint.port
        }
        guard let address else {
            throw ValidationError("'\(name)' is neither an element in \(configuration?.source ?? "the configuration (none loaded)") "
                                  + "nor an IP address (host names are not looked up)")
        }
        let profile = addressProfile ?? configuration?.profiles["default"] ?? .netSNMPDefault
        return SNMPTarget(name: name, address: address, port: port, profile: profile)
    }

    /// The profile --profile or --community ask for, if any.
    func addressProfile(_ configuration: Configuration?) throws -> SNMPProfile? {
        if let community {
            return SNMPProfile(id: "command-line", version: .v2c, credentials: .community(community),
                               timeout: SNMPProfile.netSNMPDefault.timeout, retries: SNMPProfile.netSNMPDefault.retries)
        }
        guard let profile else { return nil }
        guard let found = configuration?.profiles[ProfileID(profile)] else {
            throw ValidationError("unknown SNMP profile '\(profile)'\(configuration == nil ? " (no configuration loaded)" : "")")
        }
        return found
    }
}
