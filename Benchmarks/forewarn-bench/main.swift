#if canImport(Glibc)
import Glibc
#endif
import ForewarnConfig
import Foundation

/// `forewarn-bench NAME`: one benchmark per name; each prints its figures and ends with
/// `bench: NAME ours=X peer=Y unit=U`.
let benchmarks: [String: () throws -> Void] = [
    "csv-load": CSVLoadBenchmark.run,
    "correlation-burst": CorrelationBench.burst,
    "correlation-sustained": CorrelationBench.sustained,
    "correlation-daemon-burst": DaemonBurstBench.run,
    "correlation-daemon-burst-postgresql": DaemonBurstPostgresBench.run,
    // The burst on one store, in a process of its own (correlation-daemon-burst-postgresql starts it).
    "correlation-daemon-burst-store": DaemonBurstBench.store,
    "credits": CreditsBench.run,
    "report": ReportBench.run,
    // One format of the report, in a process of its own (report starts it).
    "report-format": ReportBench.format,
    "status": StatusBench.run,
    "ticket-delivery": TicketBench.run,
    // The ticketing server ticket-delivery starts as a child process.
    "ticket-server": TicketBench.serve,
    "http-idle": HTTPIdleBench.run,
    "http-idle-holder": HTTPIdleBench.hold,
]

let arguments = CommandLine.arguments.dropFirst()
guard let name = arguments.first, let benchmark = benchmarks[name] else {
    print("usage: forewarn-bench \(benchmarks.keys.sorted().joined(separator: "|"))")
    exit(2)
}
do {
    try benchmark()
} catch {
    print("bench \(name) failed: \(error)")
    exit(1)
}

/// Loading an operator-sized inventory: 100,000 lines from CSV (plus 2,000 elements and
/// 50,000 customers), parsed and every reference checked. The peer is Python's C-accelerated
/// `csv` module merely reading the same file into rows, without any checking.
enum CSVLoadBenchmark {
    static let lineCount = 100_000

    static func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try writeInventory(in: folder)

        var best = Double.infinity
        var loaded = 0
        for _ in 0..<5 {
            let start = ContinuousClock.now
            let configuration = try ConfigLoader.load(path: folder + "/forewarn.yaml")
            best = min(best, seconds(ContinuousClock.now - start))
            loaded = configuration.lines.count
        }
        guard loaded == lineCount else { throw BenchError("loaded \(loaded) lines, expected \(lineCount)") }
        let peer = pythonCSVSeconds(folder + "/lines.csv")
        print(String(format: "csv-load: %d lines validated in %.3f s (best of 5); peak RSS %d MiB", lineCount, best,
                     peakRSSMiB()))
        print(peer.map { String(format: "peer: python3 csv.reader, rows only, no checks: %.3f s (best of 5)", $0) }
              ?? "peer: python3 not available")
        print(String(format: "target: under 2 s — %@", best < 2 ? "met" : "NOT MET"))
        print("bench: csv-load ours=\(String(format: "%.3f", best)) peer=\(peer.map { String(format: "%.3f", $0) } ?? "-") unit=s")
    }

    static func writeInventory(in folder: String) throws {
        var yaml = "daemon:\n  store: bench.sqlite\ncontracts:\n"
        yaml += "  - {id: home, monthly_fee: 49900, currency: CZK, availability_target: 99.5}\n"
        yaml += "  - {id: business, monthly_fee: 149900, currency: CZK, availability_target: 99.9}\n"
        yaml += "customers_csv: customers.csv\nlines_csv: lines.csv\nelements:\n"
        yaml += "  - {id: core1, address: 198.18.0.1, kind: core}\n"
        for aggregation in 0..<40 {
            yaml += "  - {id: agg\(aggregation), address: 198.18.1.\(aggregation + 1), kind: aggregation, upstream: [core1]}\n"
        }
        for access in 0..<1_959 {
            yaml += "  - {id: acc\(access), address: 198.18.\(2 + access / 250).\(access % 250 + 1), kind: access, "
                + "upstream: [agg\(access % 40)]}\n"
        }
        try yaml.write(toFile: folder + "/forewarn.yaml", atomically: true, encoding: .utf8)

        var customers = "id,name\n"
        for customer in 0..<50_000 { customers += "C\(customer),\"Customer \(customer), s.r.o.\"\n" }
        try customers.write(toFile: folder + "/customers.csv", atomically: true, encoding: .utf8)

        var lines = "id,customer,element,port,probe,target,contract,service\n"
        lines.reserveCapacity(lineCount * 80)
        for line in 0..<lineCount {
            let probe = line % 10 == 0 ? "tcp:7547" : "icmp"
            let target = "198.\(19 + line / 65_000 % 2).\(line / 250 % 256).\(line % 250 + 1)"
            lines += "L\(line),C\(line % 50_000),acc\(line % 1_959),ge-0/0/\(line % 48),\(probe),\(target),"
                + "\(line % 3 == 0 ? "business" : "home"),\(line % 4 == 0 ? "voice" : "data")\n"
        }
        try lines.write(toFile: folder + "/lines.csv", atomically: true, encoding: .utf8)
    }

    static func pythonCSVSeconds(_ path: String) -> Double? {
        let script = """
            import csv, sys, time
            best = 1e9
            for _ in range(5):
                t = time.perf_counter()
                with open(sys.argv[1], newline='') as f:
                    rows = list(csv.reader(f))
                best = min(best, time.perf_counter() - t)
            print(best)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func peakRSSMiB() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss / 1024
}
