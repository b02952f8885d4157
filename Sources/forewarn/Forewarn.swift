import ArgumentParser
import Billing
import ForewarnConfig
import ForewarnDaemon
import ForewarnModel
import Foundation
import Logging
import Metrics
import Prometheus
import Persistence
import Reports
import Stores

@main
struct Forewarn: AsyncParsableCommand {
    /// Commands throw; failures are printed here, once: `forewarn: MESSAGE` and exit status 1
    /// (or the failure's own code); argument errors and `--help` as ArgumentParser prints them.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("forewarn: \(failure.message)\n".utf8))
            Foundation.exit(failure.code)
        } catch let failure as BillingError {
            FileHandle.standardError.write(Data("forewarn: \(failure)\n".utf8))
            Foundation.exit(1)
        } catch let failure as StoreError {
            FileHandle.standardError.write(Data("forewarn: \(failure)\n".utf8))
            Foundation.exit(1)
        } catch let failure as ReportError {
            FileHandle.standardError.write(Data("forewarn: \(failure)\n".utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "forewarn",
        abstract: "Network-outage monitoring for the NOC: SNMP polling, line probes, incidents before the customer calls.",
        discussion: """
            The daemon (`forewarn run`) is normally started by systemd (forewarn.service). The other
            commands read the same configuration file and store, so they work beside a running daemon.
            """,
        version: ForewarnVersion.current,
        subcommands: [
            Run.self, CheckConfig.self, Status.self, Version.self,
            Poll.self,
            Probe.self,
            Incidents.self,
            LineCommand.self,
            IncidentCommand.self,
            ReportCall.self,
            Maintenance.self,
            Outbox.self,
            Credits.self,
            StoreCommand.self,
        ])
}

/// Options shared by every command that reads the configuration or the store.
struct ConfigOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Configuration file.", valueName: "FILE"))
    var config: String = "/etc/forewarn/forewarn.yaml"
}

struct StoreOption: ParsableArguments {
    @Option(help: ArgumentHelp("""
        Store to use instead of the configured daemon.store: a SQLite file, or \
        postgresql://USER@HOST[:PORT]/DATABASE[?password_file=FILE&sslmode=MODE&sslrootcert=FILE].
        """, valueName: "PATH|URL"))
    var store: String?
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the monitoring daemon in the foreground.",
        discussion: """
            Logs go to stderr, one line each (journald adds timestamps under systemd). SIGTERM or \
            SIGINT stop it gracefully; SIGHUP reloads the configuration (a configuration with errors \
            is logged and the running one kept). Speaks the systemd notify protocol when \
            $NOTIFY_SOCKET is set (READY, STATUS, WATCHDOG, RELOADING, STOPPING).
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var storeOption: StoreOption
    @Option(help: ArgumentHelp("""
        Name of this daemon in the store (default: host name). Instances sharing a PostgreSQL \
        store need distinct names.
        """, valueName: "NAME"))
    var instance: String?
    @Option(help: ArgumentHelp("Listen for traps here instead of daemon.trap_listen (several instances on one host).",
                               valueName: "ADDRESS:PORT"))
    var trapListen: String?
    @Option(help: ArgumentHelp("Serve HTTP here instead of daemon.http_listen (several instances on one host).",
                               valueName: "ADDRESS:PORT"))
    var httpListen: String?

    func validate() throws {
        for (option, value) in [("--trap-listen", trapListen), ("--http-listen", httpListen)] {
            if let value, SocketEndpoint(value) == nil {
                throw ValidationError("\(option) must be ADDRESS:PORT (e.g. 0.0.0.0:1162 or [::]:9731), not '\(value)'")
            }
        }
        if let instance, instance.isEmpty || instance.count > 100 {
            throw ValidationError("--instance must be 1 to 100 characters")
        }
    }

    func run() async throws {
        let level = LogLevelControl(.info)
        LoggingSystem.bootstrap { JournalLogHandler(label: $0, control: level) }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "forewarn")
        do {
            try await Daemon.run(Daemon.Options(configPath: options.config, storeOverride: storeOption.store,
                                                instance: instance, trapListen: trapListen.flatMap(SocketEndpoint.init),
                                                httpListen: httpListen.flatMap(SocketEndpoint.init)),
                                 logLevel: level, metrics: registry, logger: logger)
        } catch let failure as Daemon.Failure {
            if case .service = failure {
                FileHandle.standardError.write(Data("forewarn: stopped: \(failure)\n".utf8))
            } else {
                FileHandle.standardError.write(Data("forewarn: cannot start:\n\(failure)\n".utf8))
            }
            throw ExitCode.failure
        }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file and the inventory files it names.",
        discussion: """
            Prints "ok" and a one-line summary, or every problem as FILE:LINE:COLUMN: message and \
            exits 1. Safe to run before `systemctl reload forewarn`.
            """)

    @OptionGroup var options: ConfigOptions

    func run() throws {
        do {
            let configuration = try ConfigurationCheck.load(path: options.config)
            print("ok: \(options.config): \(configuration.summary)")
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version of Forewarn and its libraries.")

    func run() {
        print("forewarn \(ForewarnVersion.current)")
        for (name, version) in ForewarnDaemon.libraryVersions { print("\(name) \(version)") }
    }
}
