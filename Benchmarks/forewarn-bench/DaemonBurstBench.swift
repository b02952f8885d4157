import Correlation
import ForewarnConfig
import ForewarnDaemon
import ForewarnModel
import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Persistence
import Stores

/// The burst through the daemon's own pipeline, on the wall clock: observations submitted to
/// the correlator service, decided after the hold-down, written to a fresh SQLite store. Time
/// from the first observation submitted until the store holds the one incident with every line.
enum DaemonBurstBench {
    static func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (elements, lines) = CorrelationBench.inventory()
        let holdDown = Duration.milliseconds(500)
        let configuration = Configuration(
            source: "bench", daemon: DaemonSettings(), elements: elements, lines: lines,
            hooks: [Hook(id: "rt", target: .webhook(url: "http://127.0.0.1:1/"), events: Hook.Event.allCases)],
            correlation: CorrelationSettings(holdDown: holdDown))
        let store = try StoreFactory.open(folder + "/bench.sqlite", access: .create)
        let service = CorrelatorService(store: store, current: CurrentConfiguration(configuration),
                                        logger: Logger(label: "bench"))
        let group = ServiceGroup(services: [service], logger: Logger(label: "bench"))
        let outcome = Result<(Double, Int), StoreError>.Box()
        let done = DispatchSemaphore(value: 0)
        Task {
            async let running: Void = try group.run()
            try await Task.sleep(for: .milliseconds(300))  // recovery of the (empty) store
            let now = Date()
            let start = ContinuousClock.now
            for line in 0..<CorrelationBench.lineCount {
                service.submit(Observation(subject: .line(LineID("L\(line)")), kind: .state(.down), since: now,
                                           observedAt: now, source: .probe, detail: "bench"))
            }
            service.submit(Observation(subject: .element("core1"), kind: .state(.down), since: now, observedAt: now,
                                       source: .poll, detail: "bench"))
            var stored = 0
            do {
                // A cheap look at the store: the incident's line rows, counted.
                let reader = try DatabaseQueue(path: folder + "/bench.sqlite")
                while stored < CorrelationBench.lineCount {
                    try? await Task.sleep(for: .milliseconds(10))
                    stored = try await reader.read { db in
                        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM incident_line WHERE incident_id = 1") ?? 0
                    }
                }
                outcome.value = .success((seconds(ContinuousClock.now - start), stored))
            } catch {
                outcome.value = .failure(StoreError(location: folder, operation: "poll", reason: "\(error)"))
            }
            await group.triggerGracefulShutdown()
            try? await running
            done.signal()
        }
        done.wait()
        let (elapsed, stored) = try outcome.value!.get()
        print(String(format: "correlation-daemon-burst: %d line-down observations and the core down submitted to the "
                     + "running correlator service; 1 incident with %d lines in the store after %.3f s "
                     + "(hold-down %@ included; peak RSS %d MiB)", CorrelationBench.lineCount, stored, elapsed,
                     DurationText.format(holdDown), peakRSSMiB()))
        print("bench: correlation-daemon-burst ours=\(String(format: "%.3f", elapsed)) peer=- unit=s")
    }
}
