import Foundation
import ForewarnModel
import Testing
@testable import ForewarnConfig

/// `probing:`, `probe_profiles:` and the line field `probe_profile` (YAML and CSV).
@Suite("Probe configuration")
struct ProbeConfigTests {
    static let testdata = Testdata.folder

    /// Every diagnostic of a bad fixture, with the folder taken off the file names.
    static func problems(_ file: String) -> [String] {
        do {
            _ = try ConfigLoader.load(path: testdata + "/" + file)
            return []
        } catch {
            return error.diagnostics.map { $0.description.replacingOccurrences(of: testdata + "/", with: "") }
        }
    }

    @Test("a configuration with probing settings, probe profiles and per-line profiles loads")
    func goodConfiguration() throws {
        let configuration = try ConfigLoader.load(path: Self.testdata + "/good-probing.yaml")
        #expect(configuration.probing.rate == 17_000)
        #expect(configuration.probing.icmpSocket == .auto)
        #expect(configuration.probing.arpInterface == "eth1")
        #expect(configuration.probing.capture == Self.testdata + "/probes.pcap")
        #expect(configuration.probing.tcpConcurrency == 1024)
        let business = try #require(configuration.probeProfiles["business"])
        #expect(business.interval == .seconds(10) && business.timeout == .milliseconds(500))
        #expect(business.count == 3 && business.spacing == .milliseconds(200))
        #expect(business.downAfter == 3 && business.upAfter == 2 && business.window == 6)
        #expect(business.degradedLoss == Percentage(decimal: "20"))
        #expect(business.degradedRTT == .milliseconds(150))

        let lines = Dictionary(uniqueKeysWithValues: configuration.lines.map { ($0.id, $0) })
        #expect(lines["L-1"]?.probeProfile == nil)
        #expect(configuration.probeProfile(for: lines["L-1"]!).id == "default", "the profile named default applies")
        #expect(lines["L-2"]?.probeProfile == "business")
        #expect(configuration.arpInterface(for: lines["L-3"]!) == "eth2", "the profile's interface wins")
        #expect(lines["L-4"]?.probeProfile == "business", "CSV column probe_profile")
        #expect(configuration.arpInterface(for: lines["L-5"]!) == "eth1", "probing.arp_interface is the fallback")
    }

    @Test("without probing settings the defaults apply")
    func defaults() throws {
        let configuration = try ConfigLoader.parse(yaml: "daemon:\n  log_level: info\n", file: "x.yaml", baseDirectory: ".")
        #expect(configuration.probing == ProbingSettings())
        #expect(configuration.probeProfiles.isEmpty)
        let profile = ProbeProfile.standard
        #expect(profile.interval == .seconds(60) && profile.timeout == .seconds(1) && profile.count == 1)
        #expect(profile.downAfter == 3 && profile.upAfter == 2 && profile.window == 10)
    }

    @Test("bad probe profiles are reported where they stand")
    func badProfiles() {
        #expect(Self.problems("bad-probe-profiles.yaml") == [
            "bad-probe-profiles.yaml:3:15: 'interval' in probe profile 'fast' must be a duration from 1s to 24h such as 500ms, 30s, 5m or 1h, not '500ms'",
            "bad-probe-profiles.yaml:5:15: probe profile 'long-rounds': a round (count × spacing + timeout = 2200ms) must end before the next one starts (interval 2s)",
            "bad-probe-profiles.yaml:10:12: 'count' in probe profile 'thresholds' must be a whole number from 1 to 100, not '0'",
            "bad-probe-profiles.yaml:14:17: 'down_after' in probe profile 'thresholds' must be a whole number from 1 to 1000, not '-1'",
            "bad-probe-profiles.yaml:11:13: 'window' in probe profile 'thresholds' must be a whole number from 1 to 255, not '300'",
            "bad-probe-profiles.yaml:12:20: 'degraded_loss' in probe profile 'thresholds' must be a percentage from 0 to 100 such as 20%, not 'lots'",
            "bad-probe-profiles.yaml:13:19: 'degraded_rtt' in probe profile 'thresholds' must be a duration from 1ms to 1m such as 500ms, 30s, 5m or 1h, not 'quick'",
            "bad-probe-profiles.yaml:16:5: unknown key 'intervall' in probe profile 'typo' (allowed: id, interval, timeout, count, spacing, down_after, up_after, window, degraded_loss, degraded_rtt, arp_interface)",
            "bad-probe-profiles.yaml:17:9: duplicate probe profile id 'fast' (first at 2:9)",
            "bad-probe-profiles.yaml:20:20: 'arp_interface' in probe profile 'bad-interface' must be an interface name (at most 15 characters, no '/' or spaces), not 'eth 0'",
        ])
    }

    @Test("bad probing settings are reported where they stand")
    func badProbing() {
        #expect(Self.problems("bad-probing.yaml") == [
            "bad-probing.yaml:6:3: unknown key 'retries' in probing (allowed: rate, icmp_socket, arp_interface, capture, tcp_concurrency)",
            "bad-probing.yaml:2:9: 'rate' in probing must be a whole number from 0 to 1000000, not 'fast'",
            "bad-probing.yaml:3:16: 'icmp_socket' in probing must be one of auto, raw, datagram, not 'packet'",
            "bad-probing.yaml:4:18: 'arp_interface' in probing must be an interface name (at most 15 characters, no '/' or spaces), not 'an-interface-name-too-long'",
            "bad-probing.yaml:5:20: 'tcp_concurrency' in probing must be a whole number from 1 to 16384, not '0'",
        ])
    }

    @Test("lines naming unknown profiles are rejected in YAML and CSV; ARP lines need no configured interface")
    func badLines() {
        #expect(Self.problems("bad-probe-lines.yaml") == [
            "bad-probe-lines.yaml:18:20: line 'L-1' names unknown probe_profile 'premium' (known: business)",
            "bad-probe-lines.csv:2:32: line 'L-3' names unknown probe_profile 'gold' (known: business)",
        ])
    }

    @Test("the documented example configuration loads")
    func exampleConfiguration() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let configuration = try ConfigLoader.load(path: root.appendingPathComponent("config/forewarn.yaml").path)
        #expect(!configuration.probeProfiles.isEmpty)
        #expect(configuration.probing.arpInterface != nil)
    }
}
