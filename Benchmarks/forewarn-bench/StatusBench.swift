#if canImport(Glibc)
import Glibc
#endif
import Billing
import ForewarnConfig
import ForewarnDaemon
import ForewarnModel
import Foundation
import GRDB
import Persistence
import Reports
import Stores

/// `forewarn status` at operator scale: the report benchmark's store (200,000 lines, 60,000
/// incidents over 2026Q4, 6,000,000 line intervals, 600 incidents still open) with October and
/// November closed and December open, on 20 December. A full status (heartbeat, open incidents,
/// outbox, the open month's credits through Billing's feed, the quarter's KPIs) as one
/// `forewarn status` makes it, and the status with credits and KPIs reused (what `--watch`,
/// `GET /api/v1/status` and `/metrics` do within a minute). Three runs each, the median judged.
enum StatusBench {
    static let now = RFC3339.parse("2026-12-20T11:00:00Z")!

    static func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fillStart = ContinuousClock.now
        let (path, intervals) = try ReportBench.filledStore(in: folder, closing: ["2026-10", "2026-11"])
        print(String(format: "status: store filled with %d incidents, %d line intervals, 2 closed months in %.1f s",
                     ReportBench.incidentCount, intervals, seconds(ContinuousClock.now - fillStart)))

        let lines = CreditsBench.lines()
        let credits = try CreditsBench.inventory(lines: lines)
        var configuration = Configuration(source: "bench.yaml", daemon: DaemonSettings(storePath: path),
                                          elements: ReportBench.inventory(lines: lines).elements, lines: lines,
                                          contracts: Array(credits.contracts.values), maintenance: credits.maintenance)
        configuration.creditPolicies = credits.policies
        configuration.billing.timeZone = "Europe/Prague"

        let box = Result<[(full: Double, reused: Double, bytes: Int, open: Int)], any Error>.Box()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let store = try StoreFactory.open(path, access: .readOnly)
                try await StoreFactory.open(path, access: .create).writeHeartbeat(Heartbeat(
                    instance: "bench", pid: getpid(), hostname: "bench", version: ForewarnVersion.current,
                    configPath: "bench.yaml", startedAt: now.addingTimeInterval(-86_400), beatAt: now, state: .running,
                    elements: configuration.elements.count, lines: lines.count, customers: 50_000, contracts: 3,
                    interval: .seconds(5), collection: CollectionHealth(elementsReachable: 2_000, linesUp: 199_000)))
                var runs: [(Double, Double, Int, Int)] = []
                for _ in 1...3 {
                    let accounting = StatusAccounting()
                    var lap = ContinuousClock.now
                    let full = try await LiveStatus.report(store: store, configuration: configuration, now: now,
                                                           accounting: accounting)
                    let fullSeconds = seconds(ContinuousClock.now - lap)
                    lap = ContinuousClock.now
                    let reused = try await LiveStatus.report(store: store, configuration: configuration,
                                                             now: now.addingTimeInterval(2), accounting: accounting)
                    let reusedSeconds = seconds(ContinuousClock.now - lap)
                    guard full.kpis != nil, full.credits != nil, reused.incidents.count == full.incidents.count else {
                        throw BenchError("status without credits or KPIs: \(full.notes)")
                    }
                    runs.append((fullSeconds, reusedSeconds, full.json.utf8.count, full.incidents.count))
                }
                // Where the full status's time goes, once more piece by piece.
                var lap = ContinuousClock.now
                let month = BillingPeriod.containing(now, in: ReportBench.zone)
                _ = try await LiveStatus.ledger(configuration, store: store).totals(month, now: now)
                let creditsSeconds = seconds(ContinuousClock.now - lap)
                lap = ContinuousClock.now
                let quarter = LiveStatus.quarter(containing: now, in: ReportBench.zone)
                let inputs = try await ReportInputs.read(
                    from: store, period: quarter, zone: ReportBench.zone, now: now,
                    inventory: ReportInventory(lines: configuration.lines, elements: configuration.elements),
                    targets: configuration.reportTargets, credits: [])
                _ = KPIs(inputs)
                print(String(format: "status: of which the open month's credits (Billing's feed) %.2f s, the quarter's KPIs %.2f s",
                             creditsSeconds, seconds(ContinuousClock.now - lap)))
                box.value = .success(runs)
            } catch {
                box.value = .failure(error)
            }
            done.signal()
        }
        done.wait()
        let runs = try box.value!.get()
        let full = runs.map(\.full).sorted()[1]
        let reused = runs.map(\.reused).sorted()[1]
        print(String(format: "status: full (credits of the open month, the quarter's KPIs): median %.2f s of %@",
                     full, runs.map { String(format: "%.2f", $0.full) }.joined(separator: ", ")))
        print(String(format: "status: credits and KPIs reused: median %.3f s; %d open incidents; JSON %.1f KB; peak RSS %d MiB",
                     reused, runs[0].open, Double(runs[0].bytes) / 1e3, peakRSSMiB()))
        print("bench: status ours=\(String(format: "%.2f", full)) peer=- unit=s")
    }
}
