import Foundation
import Probes

/// What this machine lets the tests do; tests that need more are skipped with the reason printed.
enum Privileges {
    /// nil when raw ICMP sockets open; otherwise the error naming the missing capability.
    static let rawICMPProblem: String? = {
        do {
            let prober = try ICMPProber(rate: 0, socket: "raw")
            prober.shutdown()
            return nil
        } catch {
            return "\(error)"
        }
    }()

    static var canUseRawICMP: Bool {
        if let problem = rawICMPProblem { print("skipping: raw ICMP not permitted: \(problem)") }
        return rawICMPProblem == nil
    }

    static var isRoot: Bool { geteuid() == 0 }

    static var canCreateNamespaces: Bool {
        guard isRoot, FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/bin/ip") else {
            print("skipping: network namespaces need root and iproute2")
            return false
        }
        return true
    }
}

/// Runs a command, returning its exit status and combined output.
@discardableResult
func shell(_ command: String) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return (127, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
