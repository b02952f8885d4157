#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// 20,000 idle connections against the daemon's HTTP listener (the real binary, loopback only):
/// while they are open, `/healthz` must answer within 1 s, with the daemon's CPU and memory
/// bounded. Figures: `/healthz` latency (median and worst of 20), the daemon's CPU time and peak
/// RSS over the run, and how many connections it kept open. No peer: this is a limit.
enum HTTPIdleBench {
    static let connections = 20_000
    static let perHolder = 10_000
    static let probes = 20

    static func run() throws {
        let binary = ProcessInfo.processInfo.environment["FOREWARN_BIN"] ?? ".build/release/forewarn"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let port = try freePort(SOCK_STREAM)
        let trapPort = try freePort(SOCK_DGRAM)
        try """
            daemon:
              store: \(folder)/bench.sqlite
              http_listen: 127.0.0.1:\(port)
              trap_listen: 127.0.0.1:\(trapPort)
            elements:
              - {id: e1, address: 127.77.9.1, snmp_port: 16161, kind: access, poll_interval: 60s}

            """.write(toFile: folder + "/forewarn.yaml", atomically: true, encoding: .utf8)

        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: binary)
        daemon.arguments = ["run", "--config", folder + "/forewarn.yaml"]
        daemon.standardError = FileHandle(forWritingAtPath: "/dev/null")
        daemon.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try daemon.run()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        let pid = daemon.processIdentifier
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? healthz(port: port, timeout: 1)) != nil
            if !ready { usleep(100_000) }
        }
        guard ready else { throw BenchFailure("the daemon's /healthz never answered") }

        let cpuBefore = cpuSeconds(pid)
        let start = Date()
        // The open-file limit (20,000 here, and the hard limit cannot be raised) is per process:
        // the idle connections are held by helper processes, `perHolder` each.
        var holders: [Process] = []
        var openInputs: [Pipe] = []
        var outputs: [Pipe] = []
        var remaining = connections
        while remaining > 0 {
            let count = min(perHolder, remaining)
            remaining -= count
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            holder.arguments = ["http-idle-holder", "\(port)", "\(count)"]
            let input = Pipe()
            let output = Pipe()
            holder.standardInput = input
            holder.standardOutput = output
            try holder.run()
            holders.append(holder)
            openInputs.append(input)
            outputs.append(output)
        }
        var established = 0
        for output in outputs {
            let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            guard line.hasPrefix("held "), let count = Int(line.split(separator: " ").last?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") else {
                throw BenchFailure("a holder says: \(line)")
            }
            established += count
        }
        defer {
            for input in openInputs { try? input.fileHandleForWriting.close() }
            for holder in holders { holder.waitUntilExit() }
        }
        let opened = Date().timeIntervalSince(start)
        usleep(500_000)

        // /healthz from a new client while the idle connections are held.
        var latencies: [Double] = []
        var failures = 0
        var serverDescriptors: [Int] = []
        for _ in 0..<probes {
            let began = Date()
            if (try? healthz(port: port, timeout: 5)) == "ok" {
                latencies.append(Date().timeIntervalSince(began) * 1000)
            } else {
                failures += 1
            }
            serverDescriptors.append(descriptorCount(pid))
            usleep(250_000)
        }
        let cpu = cpuSeconds(pid) - cpuBefore
        let elapsed = Date().timeIntervalSince(start)
        let peak = peakRSS(pid)
        let stillRunning = daemon.isRunning
        kill(pid, SIGTERM)
        daemon.waitUntilExit()

        latencies.sort()
        let median = latencies.isEmpty ? .infinity : latencies[latencies.count / 2]
        let worst = latencies.last ?? .infinity
        print(String(format: "opened %d idle connections (%d completed by the kernel) in %.2f s; the daemon held %d–%d descriptors meanwhile",
                     connections, established, opened, serverDescriptors.min() ?? 0, serverDescriptors.max() ?? 0))
        print(String(format: "/healthz while they are open: %d/%d answered, median %.1f ms, worst %.1f ms (target < 1000 ms)",
                     latencies.count, probes, median, worst))
        print(String(format: "daemon: %.2f CPU s over %.1f s (%.0f %% of a core), peak RSS %.1f MiB, %@",
                     cpu, elapsed, cpu / elapsed * 100, Double(peak) / 1024, stillRunning ? "still running" : "DIED"))
        print(String(format: "bench: http-idle ours=%.1f peer=- unit=ms", worst))
        if failures > 0 || worst > 1000 || !stillRunning { throw BenchFailure("the listener did not hold") }
    }

    struct BenchFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// GET /healthz on a new connection; the first line of the body.
    static func healthz(port: UInt16, timeout: Int) throws -> String {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw BenchFailure("connect: \(String(cString: strerror(errno)))") }
        let request = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard send(descriptor, request, request.count, 0) == request.count else { throw BenchFailure("send") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 "), let body = text.components(separatedBy: "\r\n\r\n").last else {
            throw BenchFailure("no answer")
        }
        return body.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    static func freePort(_ type: __socket_type) throws -> UInt16 {
        let descriptor = socket(AF_INET, Int32(type.rawValue), 0)
        defer { close(descriptor) }
        var address = loopback(0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(descriptor, pointer, length) == 0 else { return -1 }
                return getsockname(descriptor, pointer, &length)
            }
        }
        guard result == 0 else { throw BenchFailure("no free port") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// `forewarn-bench http-idle-holder PORT COUNT`: opens COUNT connections that say nothing,
    /// prints `held COUNT`, and keeps them until its standard input closes.
    static func hold() throws {
        let arguments = Array(CommandLine.arguments.dropFirst(2))
        guard arguments.count == 2, let port = UInt16(arguments[0]), let count = Int(arguments[1]) else {
            throw BenchFailure("usage: forewarn-bench http-idle-holder PORT COUNT")
        }
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        var sockets: [Int32] = []
        for _ in 0..<count {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard descriptor >= 0 else { throw BenchFailure("socket: \(String(cString: strerror(errno)))") }
            var address = loopback(port)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            sockets.append(descriptor)
        }
        // Wait (at most 60 s) until the kernel has completed every connection: a full accept
        // queue drops SYNs, which are retried.
        var pending = sockets.map { pollfd(fd: $0, events: Int16(POLLOUT), revents: 0) }
        let deadline = Date().addingTimeInterval(60)
        var established = 0
        while !pending.isEmpty && Date() < deadline {
            _ = poll(&pending, nfds_t(pending.count), 1_000)
            var still: [pollfd] = []
            for entry in pending {
                if entry.revents == 0 { still.append(pollfd(fd: entry.fd, events: Int16(POLLOUT), revents: 0)); continue }
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(entry.fd, SOL_SOCKET, SO_ERROR, &error, &length)
                if error == 0 { established += 1 }
            }
            pending = still
        }
        FileHandle.standardOutput.write(Data("held \(sockets.count) established \(established)\n".utf8))
        _ = FileHandle.standardInput.readDataToEndOfFile()
        for descriptor in sockets { close(descriptor) }
    }

    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // utime and stime are fields 14 and 15 of the line; 12 and 13 after the command name.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Peak resident set, KiB.
    static func peakRSS(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
    }

    static func descriptorCount(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }
}
