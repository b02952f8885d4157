/// Named SNMP credentials and timing, shared by many elements.
public struct SNMPProfile: Sendable, Hashable, Identifiable, CustomStringConvertible, CustomDebugStringConvertible,
                           CustomReflectable {
    public enum Version: String, Sendable, Hashable, CaseIterable {
        case v1 = "1", v2c = "2c", v3 = "3"
    }

    public enum SecurityLevel: String, Sendable, Hashable, CaseIterable {
        case noAuthNoPriv, authNoPriv, authPriv
    }

    public enum AuthProtocol: String, Sendable, Hashable, CaseIterable {
        case sha = "SHA", sha256 = "SHA-256"
    }

    public enum PrivacyProtocol: String, Sendable, Hashable, CaseIterable {
        case aes128 = "AES", aes256 = "AES-256"
    }

    /// Printed, debug-printed or dumped, credentials never show a community or passphrase.
    public enum Credentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        case community(String)
        case user(name: String, level: SecurityLevel, auth: AuthProtocol?, authKey: String?,
                  privacy: PrivacyProtocol?, privacyKey: String?)

        public var description: String {
            switch self {
            case .community: return "community(***)"
            case .user(let name, let level, let auth, let authKey, let privacy, let privacyKey):
                return "user(\(name), \(level.rawValue), auth: \(auth?.rawValue ?? "-") \(authKey == nil ? "-" : "***"), "
                    + "privacy: \(privacy?.rawValue ?? "-") \(privacyKey == nil ? "-" : "***"))"
            }
        }

        public var debugDescription: String { description }

        public var customMirror: Mirror { Mirror(self, children: ["redacted": description], displayStyle: .enum) }
    }

    public var id: ProfileID
    public var version: Version
    public var credentials: Credentials
    public var timeout: Duration
    public var retries: Int

    public init(id: ProfileID, version: Version, credentials: Credentials, timeout: Duration = .seconds(2),
                retries: Int = 1) {
        self.id = id
        self.version = version
        self.credentials = credentials
        self.timeout = timeout
        self.retries = retries
    }

    /// SNMP v2c with community `public`, 1 s timeout and 1 retry, the net-snmp tools' defaults.
    public static let netSNMPDefault = SNMPProfile(id: "default", version: .v2c, credentials: .community("public"),
                                                   timeout: .seconds(1), retries: 1)

    /// Never prints a secret: logs and `check-config` output show this.
    public var description: String {
        switch credentials {
        case .community: return "\(id) (v\(version.rawValue), community ***)"
        case .user(let name, let level, _, _, _, _): return "\(id) (v3 user \(name), \(level.rawValue))"
        }
    }

    public var debugDescription: String {
        "SNMPProfile(\(id), v\(version.rawValue), \(credentials), timeout: \(timeout), retries: \(retries))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["id": id, "version": version, "credentials": credentials, "timeout": timeout,
                                "retries": retries], displayStyle: .struct)
    }
}
