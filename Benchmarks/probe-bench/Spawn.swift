#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A child process measured the way `time -v` does: wall time, CPU (user + system) and peak
/// resident memory from wait4's rusage.
struct Measured {
    var wallSeconds: Double
    var cpuSeconds: Double
    var peakKilobytes: Int
    var status: Int32
    var output: String
}

enum Spawn {
    /// Runs `arguments` under GNU time with stdout and stderr into one file. Wall time and CPU come
    /// from wait4 (CPU of waited-for descendants included); peak memory from GNU time, because
    /// Linux carries the parent's high-water mark into a child across exec, so wait4's ru_maxrss
    /// of a direct child would report this benchmark's own memory.
    static func run(_ command: [String]) -> Measured {
        var measured = spawn(["/usr/bin/time", "-f", "FWTIME %M"] + command)
        let lines = measured.output.split(separator: "\n")
        if let line = lines.last(where: { $0.hasPrefix("FWTIME ") }), let kilobytes = Int(line.dropFirst(7)) {
            measured.peakKilobytes = kilobytes
            measured.output = lines.filter { !$0.hasPrefix("FWTIME ") }.joined(separator: "\n")
        } else {
            measured.peakKilobytes = 0
        }
        return measured
    }

    static func spawn(_ arguments: [String]) -> Measured {
        let outputPath = NSTemporaryDirectory() + "probe-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let start = Date()
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ)
        guard spawned == 0 else {
            return Measured(wallSeconds: 0, cpuSeconds: 0, peakKilobytes: 0, status: -1,
                            output: "cannot start \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let wall = Date().timeIntervalSince(start)
        let cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime)
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Measured(wallSeconds: wall, cpuSeconds: cpu, peakKilobytes: usage.ru_maxrss,
                        status: (status >> 8) & 0xff, output: output)
    }

    static func seconds(_ value: timeval) -> Double { Double(value.tv_sec) + Double(value.tv_usec) / 1e6 }

    /// CPU seconds used by this process so far (all threads).
    static func selfCPU() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func selfPeakKilobytes() -> Int {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss
    }
}
