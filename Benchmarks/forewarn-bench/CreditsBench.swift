#if canImport(Glibc)
import Glibc
#endif
import Billing
import ForewarnModel
import Foundation
import GRDB
import Persistence
import Stores

/// A month of credits at operator scale: 200,000 lines on 2,000 access elements, 20,000 incidents
/// (one element's 100 lines each, 10 per element over November), 2,000,000 line intervals, some
/// customer-caused or planned, some still open, maintenance on a few elements. Ours: the whole
/// period's feed (read, account, rules, statements, CSV) through `CreditLedger`. Peer: the
/// per-line outage union alone, as one SQL query in the `sqlite3` shell over the same file.
enum CreditsBench {
    static let lineCount = 200_000
    static let elementCount = 2_000
    static let incidentCount = 20_000
    static let period = BillingPeriod("2026-11")!
    static let zone = TimeZone(identifier: "Europe/Prague")!

    static func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/bench.sqlite"
        _ = try StoreFactory.open(path, access: .create)  // the schema, by the store's own migrations
        let fillStart = ContinuousClock.now
        let intervals = try fill(path)
        print(String(format: "credits: store filled with %d incidents, %d line intervals in %.1f s", incidentCount,
                     intervals, seconds(ContinuousClock.now - fillStart)))

        let store = try StoreFactory.open(path, access: .readOnly)
        let ledger = CreditLedger(store: store, inventory: try inventory())
        let now = Date(timeIntervalSince1970: period.bounds(in: zone).end.timeIntervalSince1970 + 3_600)
        // Timed: what `forewarn credits --period 2026-11 --output FILE` does — the feed computed
        // and written to the file as it goes.
        let output = folder + "/credits-2026-11.csv"
        let outcome = Result<Double, any Error>.Box()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let start = ContinuousClock.now
                FileManager.default.createFile(atPath: output, contents: nil)
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
                try await ledger.export(period, now: now, format: .csv) { try handle.write(contentsOf: $0) }
                try handle.close()
                outcome.value = .success(seconds(ContinuousClock.now - start))
            } catch {
                outcome.value = .failure(error)
            }
            done.signal()
        }
        done.wait()
        let ours = try outcome.value!.get()
        let rss = peakRSSMiB()
        let written = try Data(contentsOf: URL(fileURLWithPath: output))
        // Untimed: the same feed held whole, for the check against the peer and the file's bytes.
        let feedBox = Result<CreditFeed, any Error>.Box()
        Task {
            do { feedBox.value = .success(try await ledger.feed(period, now: now)) } catch { feedBox.value = .failure(error) }
            done.signal()
        }
        done.wait()
        let feed = try feedBox.value!.get()
        guard written.elementsEqual(feed.renderedBytes(.csv)) else {
            throw BenchError("the streamed CSV differs from the feed rendered whole")
        }
        try phases(store: store, inventory: try inventory(), now: now)
        let credited = feed.rows.filter { $0.creditMinorUnits > 0 }.count
        let union = feed.rows.reduce(Int64(0)) { $0 + $1.outageSeconds + $1.exclusions.reduce(0) { $0 + $1.seconds } }
        print(String(format: "credits: %d rows (%d credited), CSV %.1f MB written, in %.2f s; peak RSS %d MiB", feed.rows.count,
                     credited, Double(written.count) / 1e6, ours, rss))
        let peer = try sqliteUnion(path)
        if let peer {
            print(String(format: "peer: sqlite3 shell, per-line union as one query (window functions): %.2f s", peer.seconds))
            print("check: union of all intervals, ours \(union) s, peer \(peer.total) s: \(union == peer.total ? "equal" : "DIFFERENT")")
        } else {
            print("peer: sqlite3 not available (scripts/install-deps installs it)")
        }
        try closing(path, inventory: try inventory(), now: now, open: written)
        print("target: under 5 s and 500 MB — \(ours < 5 && rss < 500 ? "met" : "NOT MET")")
        print("bench: credits ours=\(String(format: "%.2f", ours)) peer=\(peer.map { String(format: "%.2f", $0.seconds) } ?? "-") unit=s")
    }

    /// Once a month, not timed against the target: closing the period (the ledger's 200,000
    /// entries and the frozen feed), then exporting the closed period again, which must give the
    /// open export's bytes.
    static func closing(_ path: String, inventory: CreditInventory, now: Date, open: Data) throws {
        let ledger = CreditLedger(store: try StoreFactory.open(path, access: .existing), inventory: inventory)
        let box = Result<(Double, Double, Data), any Error>.Box()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                var lap = ContinuousClock.now
                _ = try await ledger.close(period, now: now)
                let close = seconds(ContinuousClock.now - lap)
                lap = ContinuousClock.now
                var bytes = Data()
                try await ledger.export(period, now: now, format: .csv) { bytes.append(contentsOf: $0) }
                box.value = .success((close, seconds(ContinuousClock.now - lap), bytes))
            } catch {
                box.value = .failure(error)
            }
            done.signal()
        }
        done.wait()
        let (close, export, bytes) = try box.value!.get()
        print(String(format: "credits: closing the period %.2f s; exporting it closed %.2f s, %@; peak RSS so far %d MiB",
                     close, export, bytes == open ? "the same bytes as open" : "DIFFERENT BYTES", peakRSSMiB()))
        guard bytes == open else { throw BenchError("the closed period's export differs from the open one") }
    }

    /// Where the time goes, measured again piece by piece after the timed run.
    static func phases(store: any Store, inventory: CreditInventory, now: Date) throws {
        let done = DispatchSemaphore(value: 0)
        let box = Result<String, any Error>.Box()
        Task {
            do {
                var clock = ContinuousClock.now
                func lap() -> String {
                    let text = String(format: "%.2f s", seconds(ContinuousClock.now - clock))
                    clock = ContinuousClock.now
                    return text
                }
                let (start, end) = period.bounds(in: zone)
                let table = try await store.lineOutageTable(from: start, to: end, lines: nil)
                let read = lap()
                let rows = try CreditRun.rows(period: period, inventory: inventory, table: table,
                                              maintenance: inventory.maintenance, now: now)
                let computed = lap()
                let csv = CreditFeed(period: period.description, state: .open, asOf: "", rows: rows).csvBytes
                box.value = .success("credits: phases: read \(read), account and credit \(computed), CSV \(lap()) (\(csv.count) bytes)")
            } catch {
                box.value = .failure(error)
            }
            done.signal()
        }
        done.wait()
        print(try box.value!.get())
    }

    /// 200,000 lines, 100 on each access element, 4 per customer, on the three contracts in turn.
    static func lines() -> [Line] {
        (0..<lineCount).map { line in
            Line(id: lineID(line), customer: CustomerID("C\(line / 4)"), element: ElementID("acc\(line / 100)"), port: nil,
                 probe: .none, target: nil, contract: ContractID(["home", "business", "premium"][line % 3]), service: .data)
        }
    }

    static func inventory(lines: [Line] = lines()) throws -> CreditInventory {
        func percent(_ text: String) -> Percentage { Percentage(decimal: text)! }
        let tiers = CreditRule.tiers([AvailabilityTier(below: percent("99.9"), credit: percent("10")),
                                      AvailabilityTier(below: percent("99.5"), credit: percent("25")),
                                      AvailabilityTier(below: percent("99"), credit: percent("50"))])
        let policies = [
            CreditPolicy(id: "home", rules: [.outageDays(divisor: .daysInMonth, maxDays: 10)],
                         minimumPayout: Money(minorUnits: 1_000, currency: "CZK")),
            CreditPolicy(id: "business", rules: [tiers, .restoreTime(guaranteed: .seconds(4 * 3_600),
                                                                     perHour: .percentOfFee(percent("1")))],
                         cap: percent("50")),
            CreditPolicy(id: "premium", rules: [.perStep(step: percent("0.1"), credit: percent("5")), tiers],
                         combine: .max, rounding: .halfEven),
        ]
        let contracts = [("home", 49_900, "99.5"), ("business", 149_900, "99.9"), ("premium", 499_900, "99.95")].map {
            Contract(id: ContractID($0.0), name: $0.0, monthlyFee: Money(minorUnits: Int64($0.1), currency: "CZK"),
                     availabilityTarget: percent($0.2), creditPolicy: PolicyID($0.0), timeZone: "Europe/Prague",
                     locale: $0.0 == "premium" ? "en" : "cs")
        }
        let maintenance = (0..<20).map { index in
            let start = period.bounds(in: zone).start.addingTimeInterval(Double(index) * 86_400)
            return MaintenanceWindow(id: MaintenanceID("MW\(index)"), start: start, end: start.addingTimeInterval(7_200),
                                     elements: [ElementID("acc\(index * 97)")], lines: [], reason: "upgrade")
        }
        return CreditInventory(lines: lines, contracts: contracts, policies: policies, maintenance: maintenance,
                               defaultTimeZone: "Europe/Prague", defaultLocale: "cs", templates: try StatementTemplates())
    }

    static func lineID(_ line: Int) -> LineID {
        let digits = String(line)
        return LineID("L" + String(repeating: "0", count: 6 - digits.count) + digits)
    }

    /// Incident `i` takes element `i % 2,000`'s 100 lines; its start and length come from a fixed
    /// sequence (1 min to 6 h); 1 in 20 is customer-caused, 1 in 50 planned, 1 in 100 still open.
    static func fill(_ path: String) throws -> Int {
        let (start, end) = period.bounds(in: zone)
        return try fill(path, from: start, to: end, incidents: incidentCount)
    }

    /// The same over `[from, to)` with `incidents` incidents; with `calls`, 1 in 3 incidents has a
    /// customer's first call from 10 min before to 2 h after its detection (for reports).
    static func fill(_ path: String, from start: Date, to end: Date, incidents incidentCount: Int,
                     calls: Bool = false) throws -> Int {
        let queue = try DatabaseQueue(path: path)
        let startMs = start.unixMilliseconds
        let spanSeconds = Int64(end.timeIntervalSince(start)) - 6 * 3_600
        var state: UInt64 = 12_345
        func next(_ bound: Int64) -> Int64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((state >> 33) % UInt64(bound))
        }
        var count = 0
        try queue.write { db in
            let incident = try db.makeStatement(sql: """
                INSERT INTO incident (id, state, root_type, root_id, root_kind, severity, planned, classification,
                                      started_at, detected_at, first_call_at, resolved_at, updated_at, group_key)
                VALUES (?, ?, 'element', ?, 'unreachable', 'major', ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let interval = try db.makeStatement(sql: """
                INSERT INTO incident_line (incident_id, line, customer, start_at, end_at) VALUES (?, ?, ?, ?, ?)
                """)
            for id in 1...incidentCount {
                let element = (id - 1) % elementCount
                let begin = startMs + next(spanSeconds) * 1_000
                let length = (60 + next(6 * 3_600 - 60)) * 1_000
                let open = id % 100 == 0
                let classification = id % 20 == 0 ? "customer-caused" : "network"
                let finish: Int64? = open ? nil : begin + length
                let detected = begin + 20_000
                let call: Int64? = calls && id % 3 == 0 ? detected - 600_000 + next(7_800) * 1_000 : nil
                try incident.execute(arguments: [id, open ? "open" : "resolved", "acc\(element)", id % 50 == 0 ? 1 : 0,
                                                 classification, begin, calls ? detected : begin, call, finish,
                                                 finish ?? begin, "element:acc\(element)"])
                for line in (element * 100)..<(element * 100 + 100) {
                    try interval.execute(arguments: [id, lineID(line).rawValue, "C\(line / 4)", begin, finish])
                    count += 1
                }
            }
        }
        return count
    }

    /// The per-line union of every interval clipped to the period, gaps and islands with window
    /// functions, in the `sqlite3` shell; the time of the whole shell run, and the summed union.
    static func sqliteUnion(_ path: String) throws -> (seconds: Double, total: Int64)? {
        let (start, end) = period.bounds(in: zone)
        let now = end.unixMilliseconds + 3_600_000
        let query = """
            WITH clipped AS (
                SELECT line, MAX(start_at, \(start.unixMilliseconds)) AS s,
                       MIN(COALESCE(end_at, \(now)), \(end.unixMilliseconds)) AS e
                FROM incident_line WHERE start_at < \(end.unixMilliseconds)
                                    AND (end_at IS NULL OR end_at > \(start.unixMilliseconds))),
            marked AS (
                SELECT line, s, e, MAX(e) OVER (PARTITION BY line ORDER BY s, e
                                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
                FROM clipped WHERE e > s),
            islands AS (
                SELECT line, s, e, SUM(CASE WHEN reach IS NULL OR s > reach THEN 1 ELSE 0 END)
                           OVER (PARTITION BY line ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS island
                FROM marked)
            SELECT line, SUM(e - s) / 1000 FROM (
                SELECT line, island, MIN(s) AS s, MAX(e) AS e FROM islands GROUP BY line, island)
            GROUP BY line;
            """
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-readonly", path, query]
        let pipe = Pipe()
        process.standardOutput = pipe
        let start2 = ContinuousClock.now
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let elapsed = seconds(ContinuousClock.now - start2)
        guard process.terminationStatus == 0 else { throw BenchError("sqlite3 exited with \(process.terminationStatus)") }
        var total: Int64 = 0
        for row in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            total += Int64(row.split(separator: "|").last ?? "") ?? 0
        }
        return (elapsed, total)
    }
}
