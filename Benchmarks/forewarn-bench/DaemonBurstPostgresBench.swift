import Foundation

/// `correlation-daemon-burst` on the PostgreSQL store beside the SQLite store, in one run: the
/// same burst through the running correlator service on a PostgreSQL 15 server of the run's own
/// (loopback TCP, durability off as `scripts/postgres-server` sets it up) and on a fresh SQLite
/// file, each run in a process of its own (its own peak RSS), three rounds with the order of the
/// stores alternating; each store's figure is its best run. Every run must end the same way: one
/// incident rooted at the core with every line. The peer is the SQLite store.
///
/// Best of three because a single run is at the mercy of the machine: when the 200,000
/// submissions take longer than the hold-down, the first lines settle on their own and are
/// merged as the core is learned — several times the work, which one store's run may meet and
/// the other's not.
enum DaemonBurstPostgresBench {
    static let rounds = 3

    static func run() throws {
        let server = try BenchPostgresServer()
        defer { server.stop() }
        var postgres: [DaemonBurstBench.Outcome] = []
        var sqlite: [DaemonBurstBench.Outcome] = []
        for round in 1...rounds {
            for onPostgres in round % 2 == 1 ? [true, false] : [false, true] {
                if onPostgres {
                    postgres.append(try burst(storeAt: try server.freshDatabase("burst\(round)")))
                    print("round \(round): PostgreSQL: \(postgres.last!)")
                } else {
                    sqlite.append(try burst(storeAt: server.folder + "/burst\(round).sqlite"))
                    print("round \(round): SQLite: \(sqlite.last!)")
                }
            }
        }
        let ours = postgres.min { $0.seconds < $1.seconds }!
        let peer = sqlite.min { $0.seconds < $1.seconds }!
        print("correlation-daemon-burst-postgresql: \(DaemonBurstBench.submitted) submitted to the running correlator "
              + "service, the same burst on each store, best of \(rounds)")
        print("correlation-daemon-burst-postgresql: PostgreSQL (server on loopback): \(ours)")
        print("peer: SQLite, in the same run: \(peer)")
        print(String(format: "PostgreSQL / SQLite: %.2f×%@", ours.seconds / peer.seconds,
                     (ours.merged == 0) == (peer.merged == 0) ? ""
                         : " (only one of the two best runs merged incidents on the way: not like for like)"))
        print("bench: correlation-daemon-burst-postgresql ours=\(String(format: "%.3f", ours.seconds)) "
              + "peer=\(String(format: "%.3f", peer.seconds)) unit=s")
    }

    /// `correlation-daemon-burst-store` in a process of its own; what it printed before its
    /// figures is passed on (warnings of the service, if any).
    static func burst(storeAt location: String) throws -> DaemonBurstBench.Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["correlation-daemon-burst-store", location]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = output.split(separator: "\n")
        guard process.terminationStatus == 0, let outcome = lines.last.flatMap(DaemonBurstBench.Outcome.init(figures:)),
              outcome.lines == CorrelationBench.lineCount
        else { throw BenchError("the burst on \(location) failed: \(output)") }
        for line in lines.dropLast() { print(line) }
        return outcome
    }
}
