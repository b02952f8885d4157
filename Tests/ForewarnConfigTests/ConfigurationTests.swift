import ForewarnConfig
import ForewarnModel
import Foundation
import Testing

@Suite struct ConfigurationTests {
    @Test func goodConfigurationLoadsEverySection() throws {
        let configuration = try ConfigLoader.load(path: Testdata.path("good.yaml"))
        #expect(configuration.summary
                == "3 elements, 5 lines, 3 customers, 1 contract (2 SNMP profiles, 1 maintenance window, 2 hooks)")

        let daemon = configuration.daemon
        #expect(daemon.storePath == Testdata.folder + "/state/forewarn.sqlite")
        #expect(daemon.trapListen.description == "127.0.0.1:1162")
        #expect(daemon.httpListen.description == "[::1]:9730")
        #expect(daemon.logLevel == "debug")
        #expect(daemon.heartbeatInterval == .seconds(2))

        let v3 = try #require(configuration.profiles["v3"])
        #expect(v3.version == .v3)
        #expect(v3.timeout == .milliseconds(500))
        #expect(v3.retries == 3)
        #expect(v3.credentials == .user(name: "noc", level: .authPriv, auth: .sha256, authKey: "auth-passphrase",
                                        privacy: .aes256, privacyKey: "privpassphrase"))
        #expect(!v3.description.contains("passphrase"))
        #expect(configuration.profiles["default"]?.credentials == .community("public"))

        let elements = Dictionary(uniqueKeysWithValues: configuration.elements.map { ($0.id, $0) })
        #expect(elements["agg"]?.address == IPAddress("2001:db8::2"))
        #expect(elements["agg"]?.pollInterval == .seconds(15))
        #expect(elements["acc"]?.upstream == ["agg", "core"])
        #expect(elements["acc"]?.uplinks == ["agg": Uplink(port: .ifName("ge-0/0/48"), peerPort: .ifName("ge-1/0/7"))])
        #expect(configuration.correlation == CorrelationSettings(holdDown: .seconds(4), flapThreshold: 6,
                                                                 flapWindow: .seconds(900), flapQuiet: .seconds(120),
                                                                 confirmationWait: .milliseconds(1500),
                                                                 announceMax: .seconds(8),
                                                                 forwardingWindow: .seconds(20)))
        #expect(elements["acc"]?.snmpPort == 1161)
        #expect(configuration.profile(for: elements["acc"]!).id == "default")
        #expect(configuration.profile(for: elements["core"]!).id == "v3")

        let lines = Dictionary(uniqueKeysWithValues: configuration.lines.map { ($0.id, $0) })
        #expect(configuration.lines.map(\.id) == ["L1", "L2", "L3", "L4", "L5"])
        #expect(lines["L1"]?.port == .ifIndex(3))
        #expect(lines["L1"]?.probe == .icmp)
        #expect(lines["L1"]?.contract == "K1")
        #expect(lines["L2"]?.port == .ifName("ge-0/0/2"))
        #expect(lines["L2"]?.probe == .tcp(port: 7547))
        #expect(lines["L2"]?.service == .voice)
        #expect(lines["L4"]?.probe == ProbeMethod.none)
        #expect(lines["L4"]?.target == nil)
        #expect(lines["L4"]?.port == nil)
        #expect(lines["L5"]?.port == .ifName("eth \"5\""))
        #expect(lines["L5"]?.probe == .arp)
        #expect(configuration.customers.map(\.name) == ["C1", "Dvořák, Jan", "Firma a.s."])
        #expect(configuration.contracts.first?.monthlyFee == Money(minorUnits: 49900, currency: "CZK"))
        #expect(configuration.contracts.first?.availabilityTarget == Percentage(millionths: 99_950_000))

        let window = try #require(configuration.maintenance.first)
        #expect(window.end.timeIntervalSince(window.start) == 3600)  // 03:00+01:00 is 02:00Z
        #expect(window.elements == ["agg"] && window.lines == ["L1"])
        #expect(configuration.hooks.map(\.events) == [Hook.Event.allCases, [.open]])
        #expect(configuration.hooks.last?.target == .command(arguments: ["/bin/true", "{{incident.id}}"]))
    }

    @Test func documentedExampleIsValid() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../config/forewarn.yaml").standardized.path
        let configuration = try ConfigLoader.load(path: example)
        #expect(configuration.elements.count == 4)
        #expect(configuration.lines.count == 5)
    }

    @Test func largeCSVInventoryLoadsCompletely() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-csv-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var csv = "\u{FEFF}id,customer,element,port,probe,target,contract,service\r\n"
        for index in 0..<20_000 {
            csv += "L\(index),C1,acc,\(index % 48 + 1),icmp,198.18.\(index / 250).\(index % 250 + 1),K1,data\r\n"
        }
        try csv.write(toFile: folder + "/lines.csv", atomically: true, encoding: .utf8)
        let yaml = """
            elements: [{id: acc, address: 198.18.0.1, kind: access}]
            customers: [{id: C1}]
            contracts: [{id: K1, monthly_fee: 100, currency: EUR, availability_target: 99}]
            lines_csv: lines.csv
            """
        try yaml.write(toFile: folder + "/f.yaml", atomically: true, encoding: .utf8)
        let configuration = try ConfigLoader.load(path: folder + "/f.yaml")
        #expect(configuration.lines.count == 20_000)
        #expect(configuration.lines.last?.target == IPAddress("198.18.79.250"))
        #expect(configuration.lines.first?.id == "L0")  // the byte-order mark is not part of the first column
    }

    /// Only what aliases add counts against the YAML budget: 20,000 elements written out in full
    /// (220,000 nodes) load.
    @Test func largeYAMLInventoryWrittenOutLoads() throws {
        var yaml = "elements:\n"
        for index in 0..<20_000 {
            yaml += "  - {id: e\(index), address: 198.18.\(index / 250).\(index % 250 + 1), kind: access, snmp_port: 1161}\n"
        }
        let configuration = try ConfigLoader.parse(yaml: yaml, file: "f.yaml", baseDirectory: ".")
        #expect(configuration.elements.count == 20_000)
    }

    @Test(arguments: [
        ("id,customer,element\nL1,C1,\"acc\n", "x.csv:2:7: quoted field is never closed"),
        ("id,customer,element\nL1,\"C1\"x,acc\n", "x.csv:2:8: text after a closing quote (write \"\" for a quote inside a field)"),
        ("id,customer,element\nL1,C1\n", "x.csv:2: row has 2 fields, the header has 3"),
        ("id,customer\nL1,C1\n", "x.csv:1: the header has no column 'element'"),
        ("", "x.csv:1: the file is empty: expected a header row (id,customer,element,port,probe,target,contract,service,probe_profile)"),
    ])
    func malformedCSVIsReportedWhereItStands(csv: String, message: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-csv-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try csv.write(toFile: folder + "/x.csv", atomically: true, encoding: .utf8)
        let yaml = "elements: [{id: acc, address: 198.18.0.1, kind: access}]\ncustomers: [{id: C1}]\nlines_csv: x.csv\n"
        let error = #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(yaml: yaml, file: "f.yaml", baseDirectory: folder)
        }
        #expect(error?.description.replacingOccurrences(of: folder + "/", with: "") == message)
    }
}

@Suite struct ValueParsingTests {
    @Test func durations() {
        #expect(DurationText.parse("500ms") == .milliseconds(500))
        #expect(DurationText.parse("30s") == .seconds(30))
        #expect(DurationText.parse("5m") == .seconds(300))
        #expect(DurationText.parse("1h") == .seconds(3600))
        #expect(DurationText.parse("2d") == .seconds(172_800))
        #expect(DurationText.parse("45") == .seconds(45))
        #expect(DurationText.parse("-5s") == nil)
        #expect(DurationText.parse("5 s") == nil)
        #expect(DurationText.parse("1.5s") == nil)
        #expect(DurationText.format(.milliseconds(1500)) == "1500ms")
        #expect(DurationText.format(.seconds(120)) == "2m")
    }

    @Test func percentagesAreExact() {
        #expect(Percentage(decimal: "99.9")?.millionths == 99_900_000)
        #expect(Percentage(decimal: "99.999")?.millionths == 99_999_000)
        #expect(Percentage(decimal: "100")?.millionths == 100_000_000)
        #expect(Percentage(decimal: "0.000001")?.millionths == 1)
        #expect(Percentage(decimal: "100.1") == nil)
        #expect(Percentage(decimal: "99.") == nil)
        #expect(Percentage(decimal: ".5") == nil)
        #expect(Percentage(decimal: "9e1") == nil)
        #expect(Percentage(millionths: 99_950_000).description == "99.95")
    }

    @Test func moneyPrintsMinorUnitsExactly() {
        #expect(Money(minorUnits: 149_900, currency: "CZK").description == "1499.00 CZK")
        #expect(Money(minorUnits: -5, currency: "EUR").description == "-0.05 EUR")
        #expect(Money.isValidCurrency("CZK") && !Money.isValidCurrency("Kč") && !Money.isValidCurrency("EURO"))
    }

    @Test func addressesAndEndpoints() {
        #expect(IPAddress("192.0.2.1")?.description == "192.0.2.1")
        #expect(IPAddress("2001:DB8:0::1")?.description == "2001:db8::1")
        #expect(IPAddress("192.0.2.256") == nil)
        #expect(IPAddress("router1") == nil)
        #expect(IPAddress("01.2.3.4") == nil)
        #expect(SocketEndpoint("0.0.0.0:162")?.port == 162)
        #expect(SocketEndpoint("[::]:162")?.description == "[::]:162")
        #expect(SocketEndpoint("::1:162") == nil)
        #expect(SocketEndpoint("127.0.0.1:0") == nil)
        #expect(SocketEndpoint("127.0.0.1:70000") == nil)
    }

    @Test func portsAndProbes() {
        #expect(PortReference("7") == .ifIndex(7))
        #expect(PortReference("ge-0/0/7") == .ifName("ge-0/0/7"))
        #expect(PortReference("0") == .ifName("0"))
        #expect(ProbeMethod("tcp:443") == .tcp(port: 443))
        #expect(ProbeMethod("tcp:0") == nil)
        #expect(ProbeMethod("tcp:") == nil)
        #expect(ProbeMethod("ICMP") == nil)
    }
}
