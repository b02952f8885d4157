import ArgumentParser
import ForewarnConfig
import ForewarnDaemon
import ForewarnModel
import Foundation
import Probes

struct Probe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe lines or addresses once and print loss and round-trip times per target.",
        discussion: """
            A TARGET is a line id from the configuration (probed with its configured method, \
            profile and ARP interface) or an IP address (probed with --method). Prints one line per \
            target in fping's -c layout and a summary. Exit status 0 when every target answered, \
            1 when some did not, 2 on a usage or configuration problem. ICMP needs CAP_NET_RAW or \
            net.ipv4.ping_group_range; ARP needs CAP_NET_RAW.
            """)

    @Argument(help: ArgumentHelp("Line ids or IP addresses.", valueName: "TARGET"))
    var targets: [String] = []

    @Option(help: ArgumentHelp("Read more targets from FILE, one per line ('#' starts a comment).", valueName: "FILE"))
    var file: String?

    @Option(help: "Probes per target (default: the line's profile, or 3 for addresses).")
    var count: Int?

    @Option(name: .shortAndLong, help: ArgumentHelp("Seconds to wait for each answer (default: the profile's, or 1).",
                                                    valueName: "SECONDS"))
    var timeout: Double?

    @Option(help: ArgumentHelp("How to probe bare addresses: icmp, tcp:PORT or arp.", valueName: "METHOD"))
    var method: String = "icmp"

    @Option(help: ArgumentHelp("Interface for ARP probes (default: the configured one).", valueName: "NAME"))
    var interface: String?

    @Option(help: ArgumentHelp("Probe packets per second per kind (default: probing.rate; 0: no cap).", valueName: "PPS"))
    var rate: Int?

    @Option(help: ArgumentHelp("Write the probe traffic to a pcap savefile.", valueName: "FILE.pcap"))
    var capture: String?

    @Option(help: ArgumentHelp("Instead of probing, read a pcap savefile and classify every frame with the reply parsers.",
                               valueName: "FILE.pcap"))
    var replay: String?

    @Flag(help: "Print JSON instead of text.") var json = false

    @OptionGroup var options: ConfigOptions

    func validate() throws {
        if replay == nil && targets.isEmpty && file == nil { throw ValidationError("give at least one TARGET or --file") }
        if let count, !(1...1000).contains(count) { throw ValidationError("--count must be from 1 to 1000") }
        if let timeout, !(0.01...60).contains(timeout) { throw ValidationError("--timeout must be from 0.01 to 60 seconds") }
        if ProbeMethod(method) == nil || method == "none" { throw ValidationError("--method must be icmp, tcp:PORT or arp, not '\(method)'") }
        if let rate, rate < 0 { throw ValidationError("--rate must not be negative") }
    }

    func run() async throws {
        if let replay { return try replaySavefile(replay) }
        var texts = targets
        if let file {
            let content: String
            do { content = try InputFile.text(file) } catch {
                FileHandle.standardError.write(Data("forewarn probe: cannot read \(error)\n".utf8))
                throw ExitCode(2)
            }
            texts += content.split(whereSeparator: \.isNewline)
                .map { $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        // The configuration is needed for line ids; bare addresses work without one, and without
        // --config a missing default file is no error (a name that is no address says why then).
        var configuration: Configuration?
        let explicit = CommandLine.arguments.contains { $0 == "-c" || $0 == "--config" || $0.hasPrefix("--config=") }
        let noConfiguration = !explicit && !FileManager.default.fileExists(atPath: options.config)
        if !noConfiguration {
            do {
                configuration = try ConfigLoader.load(path: options.config)
            } catch {
                if texts.contains(where: { IPAddress($0) == nil }) {
                    FileHandle.standardError.write(Data("forewarn probe: cannot read configuration:\n\(error)\n".utf8))
                    throw ExitCode(2)
                }
            }
        }
        let runOptions = ProbeRun.Options(count: count, timeout: timeout.map { .milliseconds(Int64($0 * 1000)) },
                                          method: ProbeMethod(method) ?? .icmp, interface: interface, rate: rate,
                                          capturePath: capture)
        let inventory = configuration.map(ProbeRun.Inventory.init)
        let (resolved, problems) = ProbeRun.resolve(texts, inventory: inventory, options: runOptions)
        for problem in problems { FileHandle.standardError.write(Data("forewarn probe: \(problem)\n".utf8)) }
        if noConfiguration && !problems.isEmpty {
            FileHandle.standardError.write(Data("forewarn probe: no configuration was read, so no line ids are known (\(options.config) does not exist; --config FILE names one)\n".utf8))
        }
        guard problems.isEmpty else { throw ExitCode(2) }
        let results: [ProbeRun.Result]
        do {
            results = try await ProbeRun.execute(resolved, options: runOptions, probing: configuration?.probing ?? ProbingSettings())
        } catch {
            FileHandle.standardError.write(Data("forewarn probe: \(error)\n".utf8))
            throw ExitCode(2)
        }
        print(json ? ProbeRun.json(results) : ProbeRun.text(results))
        if results.contains(where: { !$0.outcome.answered }) { throw ExitCode(1) }
    }

    func replaySavefile(_ path: String) throws {
        do {
            let contents = try Savefile.read(path: path)
            for (index, frame) in contents.frames.enumerated() {
                let truncated = frame.originalLength > frame.bytes.count ? " (captured \(frame.bytes.count) of \(frame.originalLength) bytes)" : ""
                print("\(index + 1): \(ReplyParser.classify(frame.bytes))\(truncated)")
            }
            if let problem = contents.problem {
                // The frames before the cut are shown; the exit status says the file is damaged.
                FileHandle.standardError.write(Data("forewarn probe: capture file \(path): \(problem)\n".utf8))
                throw ExitCode(2)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data("forewarn probe: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
