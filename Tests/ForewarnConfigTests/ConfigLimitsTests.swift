import ForewarnConfig
import ForewarnModel
import Testing

/// Every duration and number has an upper bound: the bound itself is accepted, anything beyond
/// is refused where it is written, and a document that expands past the YAML budget is refused
/// in bounded time.
@Suite struct ConfigLimitsTests {
    static let maxima = """
        daemon:
          heartbeat_interval: 1h
        correlation:
          hold_down: 1h
          flap_window: 1d
          flap_quiet: 1d
        snmp:
          confirm_interval: 1h
          error_rate_threshold: 1000000000
          trap_rate_limit: 1000000
        snmp_profiles:
          - {id: slow, version: 2c, community: public, timeout: 60s, retries: 10}
        probe_profiles:
          - {id: default, interval: 1d, timeout: 60s, spacing: 60s, degraded_rtt: 60s}
        elements:
          - {id: e1, address: 192.0.2.1, kind: access, snmp_profile: slow, poll_interval: 1d}

        """

    @Test func theUpperBoundsThemselvesAreAccepted() throws {
        let configuration = try ConfigLoader.parse(yaml: Self.maxima, file: "maxima.yaml", baseDirectory: "/nonexistent")
        #expect(configuration.daemon.heartbeatInterval == ConfigLimits.heartbeatInterval.upperBound)
        #expect(configuration.correlation.holdDown == ConfigLimits.holdDown.upperBound)
        #expect(configuration.profiles["slow"]?.timeout == ConfigLimits.snmpTimeout.upperBound)
        #expect(configuration.elements.first?.pollInterval == ConfigLimits.pollInterval.upperBound)
    }

    @Test(arguments: [
        ("heartbeat_interval: 1h", "heartbeat_interval: 3601s", "maxima.yaml:2:23: 'heartbeat_interval' in daemon must be a duration from 1s to 1h such as 500ms, 30s, 5m or 1h, not '3601s'"),
        ("hold_down: 1h", "hold_down: 9223372036854775807", "maxima.yaml:4:14: 'hold_down' in correlation must be a duration from 100ms to 1h such as 500ms, 30s, 5m or 1h, not '9223372036854775807'"),
        ("flap_window: 1d", "flap_window: 2d", "maxima.yaml:5:16: 'flap_window' in correlation must be a duration from 1s to 24h such as 500ms, 30s, 5m or 1h, not '2d'"),
        ("confirm_interval: 1h", "confirm_interval: 9223372036854775807ms", "maxima.yaml:8:21: 'confirm_interval' in snmp must be a duration from 100ms to 1h such as 500ms, 30s, 5m or 1h, not '9223372036854775807ms'"),
        ("trap_rate_limit: 1000000", "trap_rate_limit: 1e300", "maxima.yaml:10:20: 'trap_rate_limit' in snmp must be a number from 0 to 1000000 such as 0.5 or 10, not '1e300'"),
        ("timeout: 60s, retries", "timeout: 9000000000, retries", "maxima.yaml:12:57: 'timeout' in SNMP profile 'slow' must be a duration from 10ms to 1m such as 500ms, 30s, 5m or 1h, not '9000000000'"),
        ("spacing: 60s", "spacing: 61s", "maxima.yaml:14:56: 'spacing' in probe profile 'default' must be a duration from 0s to 1m such as 500ms, 30s, 5m or 1h, not '61s'"),
        ("poll_interval: 1d", "poll_interval: 86401", "maxima.yaml:16:83: 'poll_interval' in element 'e1' must be a duration from 1s to 24h such as 500ms, 30s, 5m or 1h, not '86401'"),
    ])
    func beyondTheUpperBoundIsRefusedWhereItIsWritten(accepted: String, beyond: String, message: String) throws {
        let yaml = Self.maxima.replacingOccurrences(of: accepted, with: beyond)
        #expect(yaml != Self.maxima)
        let error = #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(yaml: yaml, file: "maxima.yaml", baseDirectory: "/nonexistent")
        }
        #expect(error?.description == message)
    }

    /// Anchors and aliases stay usable within the budget.
    @Test func ordinaryAnchorsAndAliasesAreFine() throws {
        let yaml = """
            snmp_profiles:
              - {id: a, version: 2c, community: &community public}
              - {id: b, version: 2c, community: *community}
            elements:
              - {id: e1, address: 192.0.2.1, kind: access, snmp_profile: a}
              - {id: e2, address: 192.0.2.2, kind: access, snmp_profile: a}
            """
        let configuration = try ConfigLoader.parse(yaml: yaml, file: "anchors.yaml", baseDirectory: "/nonexistent")
        #expect(configuration.elements.count == 2)
        #expect(configuration.profiles["b"]?.credentials == .community("public"))
    }
}

@Suite struct MaxFutureSkewTests {
    @Test func defaultsToFiveMinutesAndIsBounded() throws {
        let defaults = try ConfigLoader.parse(yaml: "daemon:\n  log_level: info\n", file: "f.yaml", baseDirectory: "/nonexistent")
        #expect(defaults.daemon.maxFutureSkew == .seconds(300))
        let set = try ConfigLoader.parse(yaml: "daemon:\n  max_future_skew: 1h\n", file: "f.yaml", baseDirectory: "/nonexistent")
        #expect(set.daemon.timeBounds == TimeBounds(maxFutureSkew: .seconds(3_600)))
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(yaml: "daemon:\n  max_future_skew: 2d\n", file: "f.yaml", baseDirectory: "/nonexistent")
        }
    }
}
