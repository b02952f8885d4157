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
        var names = targets
        if let file {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw ValidationError("cannot read \(file): \(error.localizedDescription)")
            }
            names += text.split(whereSeparator: \.isNewline)
                .map { $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "" }
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let resolved = try names.map { try resolve($0, configuration) }
        let engine: SNMPEngine
        do {
            engine = try SNMPEngine(configuration: .init(maxOutstanding: configuration?.snmp.maxOutstanding ?? 1_000))
        } catch {
            FileHandle.standardError.write(Data("forewarn: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let (results, summary) = await OneShotPoll.run(resolved, engine: engine)
        engine.shutdown()
        print(json ? OneShotPoll.json(results, summary) : OneShotPoll.text(results, summary))
        if summary.answered < summary.targets { throw ExitCode(3) }
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

    func resolve(_ name: String, _ configuration: Configuration?) throws -> SNMPTarget {
        if let element = configuration?.elements.first(where: { $0.id.rawValue == name }) {
            return SNMPTarget(element: element, profile: try addressProfile(configuration) ?? configuration!.profile(for: element))
        }
        var address = IPAddress(name)
        var port: UInt16 = 161
        if address == nil, let endpoint = SocketEndpoint(name) {
            address = endpoint.address
            port = endpoint.port
        }
        guard let address else {
            throw ValidationError("'\(name)' is neither an element in \(configuration?.source ?? "the configuration (none loaded)") nor an IP address")
        }
        let profile = try addressProfile(configuration) ?? configuration?.profiles["default"] ?? .netSNMPDefault
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
