import ForewarnConfig
import Foundation
import Testing

/// Every bad configuration in testdata/ is rejected with exactly this message (file:line:column).
/// Paths in messages are shown relative to testdata/.
@Suite struct BadConfigurationTests {
    static let cases: [(file: String, message: String)] = [
        ("bad-address.yaml", "bad-address.yaml:3:14: element 'agg1' has invalid address '192.0.2.300' (an IPv4 or IPv6 address, no host names)"),
        ("bad-contract-target.yaml", "bad-contract-target.yaml:5:26: 'availability_target' in contract 'K1' must be a percentage from 0 to 100 such as 99.9, not '101'"),
        ("bad-csv-column.yaml", "bad-columns.csv:1:21: unknown column 'vlan' (allowed: id, customer, element, port, probe, target, contract, service, probe_profile)"),
        ("bad-csv-element.yaml", "bad-lines.csv:3:7: line 'L2' is on unknown element 'acc2'"),
        ("bad-currency.yaml", "bad-currency.yaml:4:15: 'currency' in contract 'K1' must be an ISO 4217 code such as CZK or EUR, not 'czk'"),
        ("bad-cycle.yaml", "bad-cycle.yaml:6:9: element 'b' is in an upstream cycle: a -> c -> b -> a"),
        ("bad-duplicate-element.yaml", "bad-duplicate-element.yaml:5:9: duplicate element id 'core' (first defined at 2:9)"),
        ("bad-duplicate-line.yaml", "dup-lines.csv:2:1: duplicate line id 'L1' (first defined at bad-duplicate-line.yaml:8:9)"),
        ("bad-duration.yaml", "bad-duration.yaml:5:20: 'poll_interval' in element 'acc1' must be a duration from 1s to 24h such as 500ms, 30s, 5m or 1h, not '5 minutes'"),
        ("bad-fee.yaml", "bad-fee.yaml:3:18: 'monthly_fee' in contract 'K1' must be a whole number from 0 to 1000000000000, not '499.00'"),
        ("bad-kind.yaml", "bad-kind.yaml:4:11: 'kind' in element 'agg1' must be one of core, aggregation, distribution, access, cpe, server, not 'router'"),
        ("bad-line-no-target.yaml", "bad-line-no-target.yaml:11:12: line 'L1' is probed by icmp but has no 'target' address (or set probe: none)"),
        ("bad-line-unknown-element.yaml", "bad-line-unknown-element.yaml:10:14: line 'L1' is on unknown element 'acc9'"),
        ("bad-listen.yaml", "bad-listen.yaml:2:16: 'trap_listen' in daemon must be ADDRESS:PORT (e.g. 0.0.0.0:162 or [::]:162), not '0.0.0.0'"),
        ("bad-maintenance-order.yaml", "bad-maintenance-order.yaml:8:10: maintenance window 'MW1' ends before it starts"),
        ("bad-missing-secret-file.yaml", "bad-missing-secret-file.yaml:4:21: SNMP profile 'v2': cannot read community_file 'missing.secret': no such file"),
        ("bad-probe.yaml", "bad-probe.yaml:11:12: line 'L1' has unknown probe 'udp:53' (icmp, tcp:PORT, arp or none)"),
        ("bad-self-upstream.yaml", "bad-self-upstream.yaml:5:16: element 'agg1' lists itself as upstream"),
        ("bad-syntax.yaml", "bad-syntax.yaml:4:1: YAML syntax: did not find expected ',' or ']'"),
        ("bad-top-level.yaml", "bad-top-level.yaml:3:1: unknown key 'element' in the configuration (allowed: daemon, snmp_profiles, elements, lines, lines_csv, customers, customers_csv, contracts, maintenance, hooks, probing, probe_profiles, correlation, snmp, ticketing, billing, credit_policies, contracts_csv, reports, cluster)"),
        ("bad-unknown-key.yaml", "bad-unknown-key.yaml:5:5: unknown key 'adress' in element 'core' (allowed: id, name, address, snmp_port, kind, upstream, snmp_profile, poll_interval, error_rate_threshold)"),
        ("bad-unknown-profile.yaml", "bad-unknown-profile.yaml:9:19: element 'agg1' uses unknown snmp_profile 'v3-core'"),
        ("bad-unknown-upstream.yaml", "bad-unknown-upstream.yaml:8:24: element 'agg-7' lists unknown upstream 'core-9'"),
        ("bad-upstream-key.yaml", "bad-upstream-key.yaml:9:25: unknown key 'interface' in upstream 'core' of element 'agg1' (allowed: element, port, peer_port)"),
        ("bad-upstream-no-element.yaml", "bad-upstream-no-element.yaml:9:9: an upstream of element 'agg1' is missing required key 'element'"),
        ("bad-upstream-entry.yaml", "bad-upstream-entry.yaml:8:16: each entry of 'upstream' in element 'agg1' must be an element id or a mapping with element, port, peer_port"),
        ("bad-upstream-mapping-unknown.yaml", "bad-upstream-mapping-unknown.yaml:10:19: element 'acc1' lists unknown upstream 'agg9'"),
        ("bad-hold-down.yaml", "bad-hold-down.yaml:2:14: 'hold_down' in correlation must be a duration from 100ms to 1h such as 500ms, 30s, 5m or 1h, not 'soon'"),
        ("bad-flap-threshold.yaml", "bad-flap-threshold.yaml:3:19: 'flap_threshold' in correlation must be a whole number from 1 to 1000, not '0'"),
                ("bad-correlation-key.yaml", "bad-correlation-key.yaml:2:3: unknown key 'holddown' in correlation (allowed: hold_down, flap_threshold, flap_window, flap_quiet, confirmation_wait, announce_max, forwarding_window)"),
        ("bad-poll-interval-huge.yaml", "bad-poll-interval-huge.yaml:5:20: 'poll_interval' in element 'acc1' must be a duration from 1s to 24h such as 500ms, 30s, 5m or 1h, not '9223372036854775807'"),
        ("bad-heartbeat-huge.yaml", "bad-heartbeat-huge.yaml:2:23: 'heartbeat_interval' in daemon must be a duration from 1s to 1h such as 500ms, 30s, 5m or 1h, not '9223372036854775807'"),
        ("bad-hold-down-huge.yaml", "bad-hold-down-huge.yaml:2:14: 'hold_down' in correlation must be a duration from 100ms to 1h such as 500ms, 30s, 5m or 1h, not '9223372036854775807'"),
        ("bad-snmp-timeout-huge.yaml", "bad-snmp-timeout-huge.yaml:5:14: 'timeout' in SNMP profile 'slow' must be a duration from 10ms to 1m such as 500ms, 30s, 5m or 1h, not '9000000000'"),
        ("bad-alias-bomb.yaml", "bad-alias-bomb.yaml:6:8: YAML aliases expand the document beyond 100000 nodes (anchors and aliases are limited so that a small file cannot take minutes to read)"),
        ("bad-deep-nesting.yaml", "bad-deep-nesting.yaml:1:77: YAML nested deeper than 64 levels"),
        ("bad-v3-short-key.yaml", "bad-v3-short-key.yaml:5:5: SNMP profile 'v3': the authentication passphrase must be at least 8 characters (RFC 3414)"),
    ]

    @Test(arguments: cases)
    func rejectedWithExactMessage(file: String, message: String) throws {
        let path = Testdata.path(file)
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.load(path: path) }
        let shown = error?.description.replacingOccurrences(of: Testdata.folder + "/", with: "")
        #expect(shown == message)
    }

    /// Fixtures with several problems each, checked line by line in their own suites.
    static let multiProblemFixtures: Set<String> = ["bad-probe-lines.yaml", "bad-probe-profiles.yaml", "bad-probing.yaml"]

    @Test func everyBadFixtureIsCovered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Testdata.folder)
            .filter { $0.hasPrefix("bad-") && $0.hasSuffix(".yaml") }
        #expect(Set(files) == Set(Self.cases.map(\.file)).union(Self.multiProblemFixtures)
            .union(CreditConfigTests.cases.map(\.file))
            .union(ReportConfigTests.cases.map(\.file)))
        #expect(Self.cases.count >= 12)
    }

    @Test func allProblemsAreReportedInOnePass() throws {
        let yaml = """
            elements:
              - id: a
                address: nowhere
                kind: core
              - id: b
                address: 192.0.2.2
                kind: router
                upstream: [zz]
            """
        let error = #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(yaml: yaml, file: "inline.yaml", baseDirectory: "/nonexistent")
        }
        #expect(error?.diagnostics.map(\.description) == [
            "inline.yaml:3:14: element 'a' has invalid address 'nowhere' (an IPv4 or IPv6 address, no host names)",
            "inline.yaml:7:11: 'kind' in element 'b' must be one of core, aggregation, distribution, access, cpe, server, not 'router'",
            "inline.yaml:8:16: element 'b' lists unknown upstream 'zz'",
        ])
    }

    @Test func missingFileNamesTheFile() {
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.load(path: "/nonexistent/forewarn.yaml") }
        #expect(error?.description == "/nonexistent/forewarn.yaml: cannot read: no such file")
    }

    @Test func repeatedKeyIsAnError() {
        let yaml = "daemon:\n  log_level: info\n  log_level: debug\n"
        let error = #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(yaml: yaml, file: "r.yaml", baseDirectory: ".")
        }
        #expect(error?.description == "r.yaml:2:3: the mapping here repeats key 'log_level'")
    }
}

enum Testdata {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("testdata").path
    static func path(_ name: String) -> String { folder + "/" + name }
}
