import Foundation

/// One snmpd for the benchmark, bound to every loopback address on `port`.
final class BenchAgent {
    let port: UInt16
    let directory: URL
    let process = Process()

    init(port: UInt16) throws {
        self.port = port
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("state"), withIntermediateDirectories: true)
        let config = """
            rocommunity public default
            createUser bench SHA-256 bench-auth-1234 AES bench-priv-1234
            rouser bench priv
            dontLogTCPWrappersConnects yes
            """
        let path = directory.appendingPathComponent("agent.conf")
        try config.write(to: path, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/snmpd")
        process.arguments = ["-f", "-Lf", "/dev/null", "-C", "-c", path.path, "-I", "-smux",
                             "-p", directory.appendingPathComponent("pid").path, "udp:\(port)"]
        var environment = ProcessInfo.processInfo.environment
        environment["MIBS"] = ""
        environment["SNMP_PERSISTENT_DIR"] = directory.appendingPathComponent("state").path
        process.environment = environment
        try process.run()
    }

    /// CPU seconds snmpd has used so far (utime + stime from /proc).
    var cpuSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

enum Resources {
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// Peak resident set size in MB.
    static func peakMB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    static func currentMB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
        }
        return 0
    }

    static func freeUDPPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { Glibc.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                _ = bind(fd, raw, length)
                _ = getsockname(fd, raw, &length)
            }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    /// 127.1.0.1, 127.1.0.2, …: distinct loopback addresses, one per simulated element.
    static func loopbackAddress(_ index: Int) -> UInt32 {
        0x7f01_0000 + UInt32(index + 1)
    }
}
