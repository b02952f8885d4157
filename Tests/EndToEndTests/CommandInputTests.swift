#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// What the commands say about input that is not what it seems: a device or folder where a
/// file should be, a file where a folder should be, a host name, a cut-short capture.
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
}
