import Correlation
import ForewarnConfig
import ForewarnDaemon
import ForewarnModel
import Foundation
import Logging
import ServiceLifecycle
import Persistence
import Stores

/// The burst through the daemon's own pipeline, on the wall clock: observations submitted to
/// the correlator service, decided after the hold-down, written to a fresh store. Time from the
/// first observation submitted until the store holds the one incident with every line.
enum DaemonBurstBench {
    static let holdDown = Duration.milliseconds(500)
    /// Long enough for any store that works at all; a store that fails every write never gets there.
    static let deadline = Duration.seconds(900)

    /// On a fresh SQLite store, in this process.
    static func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outcome = try burst(storeAt: folder + "/bench.sqlite")
        print("correlation-daemon-burst: \(submitted) submitted to the running correlator service; \(outcome)")
        print("bench: correlation-daemon-burst ours=\(String(format: "%.3f", outcome.seconds)) peer=- unit=s")
    }

    /// `forewarn-bench correlation-daemon-burst-store STORE`: the burst on the store STORE names (a
    /// SQLite file not there yet, or an empty PostgreSQL database), in a process of its own so that
    /// its peak RSS is its own; ends with the line `Outcome.figures`.
    static func store() throws {
        let arguments = Array(CommandLine.arguments.dropFirst(2))
        guard arguments.count == 1 else { throw BenchError("usage: correlation-daemon-burst-store STORE") }
        print(try burst(storeAt: arguments[0]).figures)
    }

    static let submitted = "\(CorrelationBench.lineCount) line-down observations and the core down"

    /// What one burst came to, checked: one open incident rooted at core1 holding every line,
    /// any other incident merged into it.
    struct Outcome: CustomStringConvertible {
        var seconds: Double
        var lines: Int
        /// Incidents of a few lines settled before the core was learned, then merged into its own.
        var merged: Int
        var peakRSS: Int

        var description: String {
            String(format: "1 incident with %d lines in the store after %.3f s (hold-down %@ included%@; peak RSS %d MiB)",
                   lines, seconds, DurationText.format(holdDown),
                   merged == 0 ? "" : "; \(merged) incidents merged into it on the way", peakRSS)
        }

        /// `figures SECONDS LINES MERGED PEAK_RSS_MIB`
        var figures: String { "figures \(seconds) \(lines) \(merged) \(peakRSS)" }

        init(seconds: Double, lines: Int, merged: Int, peakRSS: Int) {
            (self.seconds, self.lines, self.merged, self.peakRSS) = (seconds, lines, merged, peakRSS)
        }

        init?(figures line: Substring) {
            let fields = line.split(separator: " ")
            guard fields.count == 5, fields[0] == "figures", let seconds = Double(fields[1]), let lines = Int(fields[2]),
                  let merged = Int(fields[3]), let peakRSS = Int(fields[4])
            else { return nil }
            self.init(seconds: seconds, lines: lines, merged: merged, peakRSS: peakRSS)
        }
    }

    /// The burst submitted to a correlator service running on the store at `location`; the time
    /// until a look at the store finds every line in the one open incident, then the outcome
    /// checked through the store's own reading of its incidents, after a graceful stop.
    static func burst(storeAt location: String) throws -> Outcome {
        let (elements, lines) = CorrelationBench.inventory()
        let configuration = Configuration(
            source: "bench", daemon: DaemonSettings(), elements: elements, lines: lines,
            hooks: [Hook(id: "rt", target: .webhook(url: "http://127.0.0.1:1/"), events: Hook.Event.allCases)],
            correlation: CorrelationSettings(holdDown: holdDown))
        let store = try StoreFactory.open(location, access: .create)
        // Warnings and errors only: not a line per incident merged on the way through the terminal.
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let batches = BatchesWritten(store)
        let service = CorrelatorService(store: batches, current: CurrentConfiguration(configuration), logger: logger)
        let group = ServiceGroup(services: [service], logger: logger)
        let outcome = Result<Outcome, any Error>.Box()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                // The store opened (and its schema made) before the service starts on it.
                _ = try await store.heartbeats()
                let progress = try BurstProgress.on(location)
                defer { progress.close() }
                async let running: Void = try group.run()
                let elapsed: Double
                do {
                    try await Task.sleep(for: .milliseconds(300))  // recovery of the (empty) store
                    elapsed = try await submitBurst(to: service, until: progress, lookingAfter: batches)
                } catch {
                    await group.triggerGracefulShutdown()
                    try? await running
                    throw error
                }
                await group.triggerGracefulShutdown()
                try await running
                let peakRSS = peakRSSMiB()  // before the check reads every line back
                let (stored, merged) = try await check(store)
                outcome.value = .success(Outcome(seconds: elapsed, lines: stored, merged: merged, peakRSS: peakRSS))
            } catch {
                outcome.value = .failure(error)
            }
            done.signal()
        }
        done.wait()
        return try outcome.value!.get()
    }

    /// Seconds from the first observation submitted until `progress` sees every line stored,
    /// looking each time a batch has been written.
    static func submitBurst(to service: some ObservationSink, until progress: BurstProgress,
                            lookingAfter batches: BatchesWritten) async throws -> Double {
        let giveUp = Task {
            try await Task.sleep(for: deadline)
            batches.finish()
        }
        defer { giveUp.cancel() }
        let now = Date()
        let start = ContinuousClock.now
        for line in 0..<CorrelationBench.lineCount {
            service.submit(Observation(subject: .line(LineID("L\(line)")), kind: .state(.down), since: now,
                                       observedAt: now, source: .probe, detail: "bench"))
        }
        service.submit(Observation(subject: .element("core1"), kind: .state(.down), since: now, observedAt: now,
                                   source: .poll, detail: "bench"))
        for await _ in batches.written {
            if try await progress.linesOfTheOneOpenIncident() == CorrelationBench.lineCount {
                return seconds(ContinuousClock.now - start)
            }
        }
        throw BenchError("the store did not hold the incident with its \(CorrelationBench.lineCount) lines within "
                         + "\(deadline.components.seconds) s")
    }

    /// The lines of the one open incident and how many incidents were merged into it; an error
    /// unless there is exactly one open incident, rooted at core1, with every line, and every
    /// other incident merged into it.
    static func check(_ store: any Store) async throws -> (lines: Int, merged: Int) {
        let incidents = try await store.incidents(openOnly: false, since: nil)
        let open = incidents.filter { $0.incident.state == .open }
        guard open.count == 1, let survivor = open.first else {
            throw BenchError("expected exactly one open incident, found \(open.count)")
        }
        let lines = Set(survivor.lines.map(\.line)).count
        guard survivor.incident.root.subject == .element("core1"), lines == CorrelationBench.lineCount else {
            throw BenchError("expected the incident rooted at core1 with \(CorrelationBench.lineCount) lines, found it "
                             + "rooted at \(survivor.incident.root.subject) with \(lines)")
        }
        let merged = incidents.filter { $0.incident.mergedInto == survivor.incident.id }.count
        guard merged == incidents.count - 1 else {
            throw BenchError("\(incidents.count - 1 - merged) incidents beside the one neither open nor merged into it")
        }
        return (lines, merged)
    }
}
