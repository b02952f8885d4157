import ForewarnConfig
import ForewarnModel
import SNMP
import Testing

/// No secret in any output: every type that holds one prints, debug-prints and dumps it as `***`
/// (service-lifecycle logs each service with `\(service)` at debug level, nested values and all).
@Suite struct SecretRedactionTests {
    static let secrets = ["http-token-SECRET-0123", "community-SECRET-1", "auth-key-SECRET-1", "priv-key-SECRET-1"]

    static let configuration = """
        daemon:
          http_token: \(secrets[0])
        snmp_profiles:
          - {id: default, version: 2c, community: \(secrets[1])}
          - {id: v3, version: 3, user: noc, auth_protocol: SHA-256, auth_key: \(secrets[2]), priv_key: \(secrets[3])}
        snmp:
          trap_v3_profiles: [v3]
        elements:
          - {id: e1, address: 192.0.2.1, kind: access, snmp_profile: v3}

        """

    /// Everything Swift prints a value with.
    static func renderings(_ value: Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return [String(describing: value), String(reflecting: value), "\(value)", dumped]
    }

    @Test func noSecretIsPrintedDebugPrintedOrDumped() throws {
        let configuration = try ConfigLoader.parse(yaml: Self.configuration, file: "secrets.yaml", baseDirectory: "/nonexistent")
        let v3 = try #require(configuration.profiles["v3"])
        let values: [(String, Any)] = [
            ("configuration", configuration),
            ("daemon settings", configuration.daemon),
            ("profiles", configuration.profiles),
            ("v2c credentials", try #require(configuration.profiles["default"]).credentials),
            ("v3 credentials", v3.credentials),
            ("SNMP target", SNMPTarget(name: "e1", address: .v4(0xc000_0201), port: 161, profile: v3)),
            ("trap receiver settings", TrapReceiver.Settings(listen: SocketEndpoint("127.0.0.1:162")!, v3Profiles: [v3])),
        ]
        for (name, value) in values {
            for text in Self.renderings(value) {
                for secret in Self.secrets {
                    #expect(!text.contains(secret), "\(name) shows a secret: \(text)")
                }
            }
        }
        // Redacted, not dropped: what is there is still told.
        #expect(String(describing: configuration.daemon).contains("httpToken: ***"))
        #expect(String(reflecting: v3.credentials).contains("user(noc, authPriv, auth: SHA-256 ***, privacy: AES ***)"))
    }
}
