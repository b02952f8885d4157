#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// What the commands say about input that is not what it seems: a device or folder where a
/// file should be, a file where a folder should be, a host name, a cut-short capture, and a
/// target list too long to hold in memory.
@Suite(.serialized) struct CommandInputTests {
    @Test func aDeviceOrAFolderGivenAsTheConfigurationIsNamedForWhatItIs() throws {
        let device = try ForewarnBinary.run(["check-config", "--config", "/dev/zero"])
        #expect(device.status == 1)
        #expect(device.errors == "/dev/zero: cannot read: is a character device, not a file\n", "\(device.errors)")

        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        let folder = try ForewarnBinary.run(["check-config", "--config", fixture.folder])
        #expect(folder.errors == "\(fixture.folder): cannot read: is a folder, not a file\n", "\(folder.errors)")

        // A CSV inventory or a secret file on a device is named the same way, at the key that names it.
        try fixture.writeRaw("""
            snmp_profiles:
              - {id: v2, version: 2c, community_file: /dev/zero}
            lines_csv: /dev/null/lines.csv

            """)
        let files = try ForewarnBinary.run(["check-config", "--config", fixture.configPath])
        #expect(files.errors.contains("\(fixture.configPath):2:43: SNMP profile 'v2': cannot read community_file '/dev/zero': is a character device, not a file"),
                "\(files.errors)")
        #expect(files.errors.contains("cannot read '/dev/null/lines.csv': /dev/null is a character device, not a folder"), "\(files.errors)")
    }

    @Test func aStoreThatIsADeviceOrBelowAFileIsRefusedNamingThePathAndTouchingNothing() throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        let lockExisted = FileManager.default.fileExists(atPath: "/dev/zero.lock")
        let device = try ForewarnBinary.run(["run", "--config", fixture.configPath, "--store", "/dev/zero"])
        #expect(device.status == 1)
        #expect(device.errors.hasSuffix("store /dev/zero: open failed: is a character device, not a store file\n"), "\(device.errors)")
        if !lockExisted { #expect(!FileManager.default.fileExists(atPath: "/dev/zero.lock"), "a lock file was made in /dev") }
        let status = try ForewarnBinary.run(["status", "--store", "/dev/zero"])
        #expect(status.errors == "forewarn: store /dev/zero: open failed: is a character device, not a store file\n", "\(status.errors)")

        let file = fixture.folder + "/plain"
        try "not a folder\n".write(toFile: file, atomically: true, encoding: .utf8)
        let below = try ForewarnBinary.run(["run", "--config", fixture.configPath, "--store", file + "/store/forewarn.sqlite"])
        #expect(below.status == 1)
        #expect(below.errors.hasSuffix("store \(file)/store/forewarn.sqlite: open failed: \(file) is a file, not a folder, so the store cannot be there\n"),
                "\(below.errors)")
        #expect(!below.errors.contains("NSCocoaErrorDomain"))

        let folder = try ForewarnBinary.run(["status", "--store", fixture.folder])
        #expect(folder.errors.contains("store \(fixture.folder): open failed: is a folder, not a store file"), "\(folder.errors)")
    }

    @Test func aHostNameGivenToProbeWithoutAConfigurationIsNotAConfigurationError() throws {
        if FileManager.default.fileExists(atPath: "/etc/forewarn/forewarn.yaml") {
            print("skipped: /etc/forewarn/forewarn.yaml exists, so probe reads it")
            return
        }
        let result = try ForewarnBinary.run(["probe", "noc-gw.example.net"])
        #expect(result.status == 2)
        #expect(!result.errors.contains("cannot read configuration"), "\(result.errors)")
        #expect(result.errors == """
            forewarn probe: noc-gw.example.net: neither a configured line id nor an IP address (host names are not looked up)
            forewarn probe: no configuration was read, so no line ids are known (/etc/forewarn/forewarn.yaml does not exist; --config FILE names one)

            """, "\(result.errors)")
    }

    @Test func aCaptureCutShortFailsNamingTheRecordAndWhereItStarts() throws {
        let path = ForewarnBinary.repositoryRoot + "/Tests/ProbesTests/fixtures/truncated-file.pcap"
        let result = try ForewarnBinary.run(["probe", "--replay", path])
        #expect(result.status == 2)
        #expect(result.output == "1: ARP reply: 198.18.1.11 is at 02:00:00:00:00:aa\n")
        #expect(result.errors == "forewarn probe: capture file \(path): record 2 at byte offset 82 is cut short: "
                + "truncated dump file; tried to read 42 captured bytes, only got 32\n", "\(result.errors)")
    }

    /// Peak resident memory of one run, from GNU time; its output goes to `outputFile`.
    static func peakKilobytes(_ arguments: [String], outputFile: String) throws -> (kilobytes: Int, result: ForewarnBinary.Result) {
        _ = FileManager.default.createFile(atPath: outputFile, contents: nil)
        guard let output = FileHandle(forWritingAtPath: outputFile) else { throw POSIXError(.EIO) }
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        process.arguments = ["-f", "peak %M", ForewarnBinary.path] + arguments
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errorText = String(decoding: errorData, as: UTF8.self)
        let peak = errorText.split(separator: "\n").last { $0.hasPrefix("peak ") }.flatMap { Int($0.dropFirst(5)) } ?? -1
        let written = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        return (peak, ForewarnBinary.Result(status: process.terminationStatus, output: String(written.suffix(4096)), errors: errorText))
    }

    /// `poll --file` reads its list while it polls: ten times the targets take about the same
    /// memory (it held every target and result: 100,000 took 1.14 GB, 1,000,000 died at 6 GB).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/time"), "needs GNU time (apt-get install time)"))
    func pollReadsItsTargetFileAsItPollsInBoundedMemory() throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        // Nothing listens on the port: every poll times out after 10 ms, on loopback only.
        let port = try FreePort.get(.udp)
        try fixture.writeRaw("snmp_profiles:\n  - {id: fast, version: 2c, community: public, timeout: 10ms, retries: 0}\n")
        func run(_ count: Int) throws -> (kilobytes: Int, result: ForewarnBinary.Result) {
            let list = fixture.folder + "/targets-\(count).txt"
            try String(repeating: "127.0.0.1:\(port)\n", count: count).write(toFile: list, atomically: true, encoding: .utf8)
            return try Self.peakKilobytes(["poll", "--config", fixture.configPath, "--profile", "fast", "--file", list],
                                          outputFile: list + ".out")
        }
        let small = try run(4_000)
        let large = try run(40_000)
        #expect(small.result.status == 3 && large.result.status == 3, "\(small.result.errors)\(large.result.errors)")
        #expect(large.result.output.contains("summary: 0 answered, 40000 timed out, 0 failed, 40000 targets in "),
                "\(large.result.output)")
        #expect(small.kilobytes > 0 && large.kilobytes > 0)
        #expect(large.kilobytes - small.kilobytes < 60_000,
                "peak memory \(small.kilobytes) KB for 4,000 targets, \(large.kilobytes) KB for 40,000")
    }

    @Test func aPollFileLineThatNamesNoTargetIsReportedWithItsLineAndTheRestIsPolled() throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        let port = try FreePort.get(.udp)
        try fixture.writeRaw("snmp_profiles:\n  - {id: fast, version: 2c, community: public, timeout: 10ms, retries: 0}\n")
        let list = fixture.folder + "/targets.txt"
        try "# two targets and a typo\n127.0.0.1:\(port)\nnoc-gw.example.net\n\n127.0.0.2:\(port)  # second\n"
            .write(toFile: list, atomically: true, encoding: .utf8)
        let result = try ForewarnBinary.run(["poll", "--config", fixture.configPath, "--profile", "fast", "--file", list, "--json"])
        #expect(result.status == 1)
        #expect(result.errors == "forewarn: \(list):3: 'noc-gw.example.net' is neither an element in \(fixture.configPath) "
                + "nor an IP address (host names are not looked up)\n", "\(result.errors)")
        #expect(result.output.contains("\"targets\" : 2"), "\(result.output)")
        let document = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        #expect((document?["results"] as? [[String: Any]])?.map { $0["target"] as? String }
                == ["127.0.0.1:\(port)", "127.0.0.2:\(port)"])
    }
}
