#if canImport(Glibc)
import Glibc
#endif
import ForewarnModel
import Foundation
import Persistence
import Stores
import Testing

/// `forewarn status` (the live view) with the real binary: a running daemon's collection health,
/// the same daemon stopped (exit 3, said plainly), a stale heartbeat, a store no daemon ever
/// used, and `--watch` redrawing.
@Suite(.serialized) struct StatusCommandTests {
    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func aRunningDaemonPublishesCollectionHealthAndAStoppedOneExitsThree() throws {
        let fixture = try DaemonFixture(elements: 4)
        defer { fixture.remove() }
        let notify = try NotifySocket(folder: fixture.folder)
        let daemon = try RunningDaemon(fixture, environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", within: 20).last?.contains("READY=1") == true)

        // The first beat may precede the first measurement: wait for one that carries it.
        var document: [String: Any] = [:]
        var collection: [String: Any]?
        for _ in 0..<100 {
            let result = try ForewarnBinary.run(["status", "--store", fixture.storePath, "--json"])
            document = try Self.json(result.output)
            collection = ((document["daemons"] as? [[String: Any]])?.first)?["collection"] as? [String: Any]
            if collection != nil { break }
            usleep(100_000)
        }
        let health = try #require(collection, "no collection health in \(document)")
        let elements = try #require(health["elements"] as? [String: Int])
        #expect(elements.values.reduce(0, +) == 4, "\(elements)")
        #expect((health["lines"] as? [String: Int]) == ["up": 0, "down": 0, "degraded": 0, "unknown": 0, "unprobed": 0])
        #expect(document["schema"] as? String == "forewarn.status.v1" && document["alive"] as? Bool == true)
        let beat = try #require((document["daemons"] as? [[String: Any]])?.first)
        #expect(beat["config"] as? String == fixture.configPath)
        #expect(beat["config_loaded_at"] is String && beat["uptime_seconds"] is Double)
        // Without --config the configuration the heartbeat names gives credits and KPIs.
        let kpis = try #require(document["kpis_quarter_to_date"] as? [String: Any], "\(document)")
        // Taken from the running daemon, which keeps them current: computed at another instant.
        #expect(kpis["as_of"] as? String != nil && kpis["as_of"] as? String != document["generated_at"] as? String,
                "\(kpis)")
        #expect(document["credits_month_to_date"] is [String: Any])

        let text = try ForewarnBinary.run(["status", "--store", fixture.storePath])
        #expect(text.status == 0, "\(text.errors)")
        #expect(text.output.contains("\n  running\n"), "\(text.output)")
        #expect(text.output.contains("collection:") && text.output.contains("KPIs 20"))
        for line in text.output.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        #expect(!text.output.contains("\u{1B}"), "colour on a pipe")

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit().status == 0)
        let stopped = try ForewarnBinary.run(["status", "--store", fixture.storePath])
        #expect(stopped.status == 3)
        #expect(stopped.output.contains("DAEMON NOT RUNNING: stopped"), "\(stopped.output)")
        // The last published collection health is kept with the stopped heartbeat.
        #expect(stopped.output.contains("collection (as last published):"), "\(stopped.output)")
    }

    @Test func aStaleHeartbeatAndAStoreNoDaemonUsedExitThree() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-status-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/forewarn.sqlite"
        let store = try StoreFactory.open(path, access: .create)
        // A daemon that says it runs, but whose last beat is two minutes old (killed, or hung).
        let now = Date()
        try await store.writeHeartbeat(Heartbeat(
            instance: "noc1", pid: 999_999, hostname: "noc1", version: "0.1.0", configPath: folder + "/missing.yaml",
            startedAt: now.addingTimeInterval(-3_600), beatAt: now.addingTimeInterval(-120), state: .running,
            elements: 1, lines: 0, customers: 0, contracts: 0, interval: .seconds(5)))
        let stale = try ForewarnBinary.run(["status", "--store", path, "--config", folder + "/missing.yaml"])
        #expect(stale.status == 3)
        #expect(stale.output.contains("HEARTBEAT STALE: none for 12"), "\(stale.output)")
        #expect(stale.output.contains("note: no configuration readable"), "\(stale.output)")
        let json = try Self.json(try ForewarnBinary.run(["status", "--store", path, "--json"]).output)
        #expect(json["alive"] as? Bool == false)
        #expect(((json["daemons"] as? [[String: Any]])?.first)?["stale"] as? Bool == true)

        let missing = try ForewarnBinary.run(["status", "--store", folder + "/never.sqlite"])
        #expect(missing.status == 3)
        #expect(missing.output.contains("DAEMON NOT RUNNING: store \(folder)/never.sqlite does not exist"))
        let missingJSON = try ForewarnBinary.run(["status", "--store", folder + "/never.sqlite", "--json"])
        #expect(missingJSON.status == 3)
        let document = try Self.json(missingJSON.output)
        #expect(document["alive"] as? Bool == false && (document["daemons"] as? [Any])?.isEmpty == true)
        #expect((document["notes"] as? [String])?.first?.contains("does not exist") == true)
        #expect(!FileManager.default.fileExists(atPath: folder + "/never.sqlite"), "status created a store")
    }

    @Test func watchRedrawsUntilStopped() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-watch-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try StoreFactory.open(folder + "/forewarn.sqlite", access: .create)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ForewarnBinary.path)
        process.arguments = ["status", "--store", folder + "/forewarn.sqlite", "--watch", "0.5"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var seen = ""
        let deadline = Date().addingTimeInterval(30)
        while seen.components(separatedBy: "forewarn status at").count < 4 && Date() < deadline {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
        }
        #expect(seen.components(separatedBy: "forewarn status at").count >= 4, "\(seen)")
        #expect(process.isRunning, "--watch stopped by itself")
        // A pipe is not a terminal: frames follow each other, no cursor movement.
        #expect(!seen.contains("\u{1B}["))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()

        let refused = try ForewarnBinary.run(["status", "--store", folder + "/forewarn.sqlite", "5"])
        #expect(refused.status == 64 && refused.errors.contains("SECONDS is the interval of --watch"))
    }
}
