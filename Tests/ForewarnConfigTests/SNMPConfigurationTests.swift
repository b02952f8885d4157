import ForewarnConfig
import ForewarnModel
import Foundation
import Testing

/// The `snmp` section and the per-element `error_rate_threshold`.
@Suite struct SNMPConfigurationTests {
    static var folder: String { Testdata.folder }

    @Test func everyKeyIsRead() throws {
        let configuration = try ConfigLoader.load(path: Self.folder + "/snmp-good.yaml")
        let snmp = configuration.snmp
        #expect(snmp.maxOutstanding == 500)
        #expect(snmp.confirmInterval == .seconds(2))
        #expect(snmp.confirmAttempts == 2)
        #expect(snmp.errorRateThreshold == 0.5)
        #expect(snmp.trapRateLimit == 20)
        #expect(snmp.trapBurst == 100)
        #expect(snmp.trapV3Profiles == ["v3"])
        #expect(snmp.trapEngineIDs == [[0x80, 0x00, 0x1f, 0x88, 0x80, 0xa1, 0xb2, 0xc3, 0xd4]])
        #expect(snmp.errorRateThreshold(for: "acc1") == 10)
        #expect(snmp.errorRateThreshold(for: "acc2") == 0.5)
    }

    @Test func defaultsWithoutTheSection() throws {
        let configuration = try ConfigLoader.parse(yaml: "elements: []\n", file: "x.yaml", baseDirectory: ".")
        #expect(configuration.snmp == SNMPSettings())
        #expect(configuration.snmp.confirmInterval == .seconds(5) && configuration.snmp.confirmAttempts == 3)
    }

    static let cases: [(file: String, message: String)] = [
        ("snmp-bad-key.yaml", "snmp-bad-key.yaml:3:3: unknown key 'confirm_tries' in snmp (allowed: max_outstanding, confirm_interval, confirm_attempts, error_rate_threshold, trap_rate_limit, trap_burst, trap_v3_profiles, trap_engine_ids, trap_communities)"),
        ("snmp-bad-trap-profile.yaml", "snmp-bad-trap-profile.yaml:6:22: 'trap_v3_profiles' in snmp names SNMP profile 'v2', which is not version 3"),
        ("snmp-bad-engine-id.yaml", "snmp-bad-engine-id.yaml:2:21: each entry of 'trap_engine_ids' in snmp must be an engine ID in hex of 5 to 32 bytes such as 0x80001f8880a1b2c3d4, not '0x8000'"),
        ("snmp-bad-threshold.yaml", "snmp-bad-threshold.yaml:5:27: 'error_rate_threshold' in element 'acc1' must be a number from 0 to 1000000000 such as 0.5 or 10, not 'lots'"),
    ]

    @Test(arguments: cases)
    func rejectedWithExactMessage(file: String, message: String) throws {
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.load(path: Self.folder + "/" + file) }
        #expect(error?.description.replacingOccurrences(of: Self.folder + "/", with: "") == message)
    }
}

@Suite struct TrapCommunitiesConfigurationTests {
    @Test func trapCommunitiesAreSecretsAndMustNotBeEmpty() throws {
        let yaml = "snmp:\n  trap_communities: [n0c-traps, legacy]\n"
        let configuration = try ConfigLoader.parse(yaml: yaml, file: "f.yaml", baseDirectory: "/nonexistent")
        #expect(configuration.snmp.trapCommunities?.map(\.value) == ["n0c-traps", "legacy"])
        #expect(!"\(configuration.snmp)".contains("n0c-traps"))
        #expect(try ConfigLoader.parse(yaml: "snmp:\n  trap_rate_limit: 5\n", file: "f.yaml", baseDirectory: "/x")
                    .snmp.trapCommunities == nil)
        let error = #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(yaml: "snmp:\n  trap_communities: []\n", file: "f.yaml", baseDirectory: "/nonexistent")
        }
        #expect(error?.description.contains("f.yaml:2:3: 'trap_communities' in snmp must list at least one community") == true,
                "\(String(describing: error))")
    }
}
