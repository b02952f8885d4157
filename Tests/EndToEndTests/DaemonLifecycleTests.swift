#if canImport(Glibc)
import Glibc
#endif
import ForewarnModel
import Foundation
import Testing

/// The real `forewarn` binary under a fake systemd: notify protocol, signals, reload, status.
@Suite(.serialized) struct DaemonLifecycleTests {
    @Test func notifiesReadyWatchdogAndStoppingAndExitsCleanlyOnSIGTERM() throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = try RunningDaemon(fixture, environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"])

        let startup = notify.waitFor("READY=1", within: 20)
        #expect(startup.last?.contains("READY=1") == true, "got \(startup)")
        #expect(startup.last?.contains("STATUS=monitoring 2 elements, 0 lines") == true)
        let pings = notify.waitFor("WATCHDOG=1", within: 5)
        #expect(pings.last == "WATCHDOG=1", "got \(pings)")

        daemon.signal(SIGTERM)
        let stopping = notify.waitFor("STOPPING=1", within: 10)
        #expect(stopping.last?.contains("STOPPING=1") == true, "got \(stopping)")
        let (status, log) = daemon.waitForExit()
        #expect(status == 0, "log:\n\(log)")
        #expect(log.contains("stopped"))
        // At log_level debug service-lifecycle logs every service it starts, settings and all.
        #expect(log.contains("debug"), "the fixture runs at log_level debug")
        for secret in DaemonFixture.secrets {
            #expect(!log.contains(secret), "a secret is in the log:\n\(log)")
        }

        // The last heartbeat says the daemon stopped on purpose.
        let report = try ForewarnBinary.run(["status", "--store", fixture.storePath, "--json"])
        #expect(report.status == 3)
        #expect(report.output.contains("\"state\" : \"stopped\""))
    }

    @Test func sigintStopsWithExitZero() throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = try RunningDaemon(fixture, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)
        daemon.signal(SIGINT)
        #expect(daemon.waitForExit().status == 0)
    }

    @Test func reloadKeepsTheRunningConfigurationWhenTheNewOneIsBad() throws {
        let fixture = try DaemonFixture(elements: 2)
        defer { fixture.remove() }
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = try RunningDaemon(fixture, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)

        try fixture.writeRaw("elements:\n  - id: e1\n    address: 192.0.2.999\n    kind: access\n")
        daemon.signal(SIGHUP)
        let rejected = notify.waitFor("READY=1", within: 10)
        #expect(rejected.first?.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true, "got \(rejected)")
        #expect(rejected.last?.contains("STATUS=reload failed: \(fixture.configPath):3:14: element 'e1' has invalid address") == true,
                "got \(rejected)")
        #expect(daemon.process.isRunning)

        try fixture.writeConfiguration(elements: 5)
        daemon.signal(SIGHUP)
        let accepted = notify.waitFor("READY=1", within: 10)
        #expect(accepted.last?.contains("STATUS=monitoring 5 elements, 0 lines") == true, "got \(accepted)")

        // The heartbeat (every second here) now carries the reloaded inventory.
        var inventory = ""
        for _ in 0..<50 {
            inventory = try ForewarnBinary.run(["status", "--store", fixture.storePath]).output
            if inventory.contains("monitoring 5 elements") { break }
            usleep(100_000)
        }
        #expect(inventory.contains("monitoring 5 elements, 0 lines"), "status:\n\(inventory)")
        // The reload that took is when the configuration in force was loaded; the rejected one is not.
        let json = try ForewarnBinary.run(["status", "--store", fixture.storePath, "--json"]).output
        let daemonObject = ((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["daemons"]
            as? [[String: Any]])?.first
        let loaded = (daemonObject?["config_loaded_at"] as? String).flatMap(RFC3339.parse)
        let started = (daemonObject?["started_at"] as? String).flatMap(RFC3339.parse)
        #expect(loaded != nil && started != nil && loaded! > started!, "\(json)")

        daemon.signal(SIGTERM)
        let (status, log) = daemon.waitForExit()
        #expect(status == 0)
        #expect(log.contains("configuration rejected, keeping the one in force"))
        #expect(log.contains("error forewarn: \(fixture.configPath):3:14: element 'e1' has invalid address '192.0.2.999'"))
    }

    @Test func statusJSONShowsAFreshHeartbeatOfTheRunningDaemon() throws {
        let fixture = try DaemonFixture(elements: 3)
        defer { fixture.remove() }
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = try RunningDaemon(fixture, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)

        let result = try ForewarnBinary.run(["status", "--config", fixture.configPath, "--store", fixture.storePath,
                                             "--json"])
        #expect(result.status == 0, "\(result.errors)")
        struct Report: Decodable {
            struct Daemon: Decodable {
                var pid: Int32
                var state: String
                var alive: Bool
                var heartbeat_age_seconds: Double
                var inventory: [String: Int]
            }
            var store: String
            var daemons: [Daemon]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(result.output.utf8))
        #expect(report.store == fixture.storePath)
        let running = try #require(report.daemons.first)
        #expect(running.pid == daemon.process.processIdentifier)
        #expect(running.state == "running" && running.alive)
        #expect(running.heartbeat_age_seconds < 10)
        #expect(running.inventory == ["elements": 3, "lines": 0, "customers": 0, "contracts": 0])
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit().status == 0)
    }

    @Test func badConfigurationRefusesToStartWithTheProblemNamed() throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        try fixture.writeRaw("daemon:\n  log_levle: info\n")
        let result = try ForewarnBinary.run(["run", "--config", fixture.configPath, "--store", fixture.storePath])
        #expect(result.status == 1)
        #expect(result.errors.contains("\(fixture.configPath):2:3: unknown key 'log_levle' in daemon"))
    }
}

@Suite struct CommandLineTests {
    @Test func checkConfigPrintsOkAndSummaryOrTheErrors() throws {
        let example = ForewarnBinary.repositoryRoot + "/config/forewarn.yaml"
        let good = try ForewarnBinary.run(["check-config", "--config", example])
        #expect(good.status == 0)
        #expect(good.output == "ok: \(example): 4 elements, 5 lines, 2 customers, 2 contracts "
                + "(2 SNMP profiles, 1 maintenance window, 2 hooks)\n")

        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        try fixture.writeRaw("elements:\n  - {id: a, address: 192.0.2.1, kind: access, upstream: [b]}\n")
        let bad = try ForewarnBinary.run(["check-config", "-c", fixture.configPath])
        #expect(bad.status == 1)
        #expect(bad.errors == "\(fixture.configPath):2:58: element 'a' lists unknown upstream 'b'\n")
    }

    @Test func statusWithoutAStoreSaysSo() throws {
        // No store: no daemon ever ran on it, which is "not running" (3) for whoever monitors the monitor.
        let result = try ForewarnBinary.run(["status", "--store", "/nonexistent/forewarn.sqlite"])
        #expect(result.status == 3)
        #expect(result.output.contains("DAEMON NOT RUNNING: store /nonexistent/forewarn.sqlite does not exist"))
    }

    @Test func everyCommandHasHelp() throws {
        for command in ["run", "check-config", "status", "version"] {
            let result = try ForewarnBinary.run([command, "--help"])
            #expect(result.status == 0)
            #expect(result.output.contains("USAGE: forewarn \(command)"), "\(command): \(result.output)")
        }
        #expect(try ForewarnBinary.run(["version"]).output.hasPrefix("forewarn "))
    }
}

/// The shipped unit file is valid and hardened, checked with systemd's own analyzer.
@Suite struct SystemdUnitTests {
    static let analyzer = "/usr/bin/systemd-analyze"

    func unitWithBuiltBinary() throws -> String {
        let unit = try String(contentsOfFile: ForewarnBinary.repositoryRoot + "/systemd/forewarn.service", encoding: .utf8)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-unit-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/forewarn.service"
        try unit.replacingOccurrences(of: "/usr/local/bin/forewarn", with: ForewarnBinary.path)
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func analyze(_ arguments: [String]) throws -> ForewarnBinary.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.analyzer)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return .init(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self), errors: "")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyzer), "systemd-analyze is not installed (Debian package systemd)"))
    func verifyIsClean() throws {
        let unit = try unitWithBuiltBinary()
        defer { try? FileManager.default.removeItem(atPath: (unit as NSString).deletingLastPathComponent) }
        let result = try analyze(["verify", unit])
        // systemd-analyze loads the machine's other units too; what it says of them is not ours.
        let ours = result.output.split(separator: "\n")
            .filter { !$0.hasPrefix("/lib/systemd/") && !$0.hasPrefix("/usr/lib/systemd/") && !$0.hasPrefix("/etc/systemd/") }
        #expect(result.status == 0 && ours.isEmpty, "\(result.output)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyzer), "systemd-analyze is not installed (Debian package systemd)"))
    func exposureIsOKWhileKeepingWhatProbesNeed() throws {
        let unit = try unitWithBuiltBinary()
        defer { try? FileManager.default.removeItem(atPath: (unit as NSString).deletingLastPathComponent) }
        let result = try analyze(["security", "--offline=true", unit])
        let verdict = try #require(result.output.split(separator: "\n").last { $0.contains("Overall exposure level") })
        let score = try #require(Double(verdict.split(separator: ":").last!.split(separator: " ").first!))
        #expect(score <= 2.0, "\(verdict)")
        let text = try String(contentsOfFile: unit, encoding: .utf8)
        #expect(text.contains("AmbientCapabilities=CAP_NET_RAW CAP_NET_BIND_SERVICE"))
        #expect(text.contains("RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK AF_PACKET"))
    }
}
