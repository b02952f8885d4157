import ForewarnModel

/// How the SNMP engine polls and receives traps: the `snmp` section, plus per-element
/// `error_rate_threshold`.
public struct SNMPSettings: Sendable, Hashable {
    /// Requests in flight at once over all elements.
    public var maxOutstanding = 1_000
    /// After a failed poll: confirmation polls this often…
    public var confirmInterval: Duration = .seconds(5)
    /// …and this many of them must fail before the element is unreachable.
    public var confirmAttempts = 3
    /// Errors per second (ifInErrors + ifOutErrors) above which a port is degraded.
    public var errorRateThreshold = 1.0
    /// Traps per second accepted from one source address (and the burst above it).
    public var trapRateLimit = 50.0
    public var trapBurst = 200
    /// SNMPv3 profiles whose users may send traps and informs.
    public var trapV3Profiles: [ProfileID] = []
    /// Engine IDs of SNMPv3 trap senders that are not polled (polled elements' are learnt).
    public var trapEngineIDs: [[UInt8]] = []
    /// When set, v1/v2c traps and informs with any other community are dropped (informs not
    /// acknowledged). Printed, they show as `<secret>`.
    public var trapCommunities: [Secret]?
    /// Per-element overrides of `errorRateThreshold`.
    public var elementErrorRateThresholds: [ElementID: Double] = [:]

    public init() {}

    public func errorRateThreshold(for element: ElementID) -> Double {
        elementErrorRateThresholds[element] ?? errorRateThreshold
    }

    static let keys = ["max_outstanding", "confirm_interval", "confirm_attempts", "error_rate_threshold",
                       "trap_rate_limit", "trap_burst", "trap_v3_profiles", "trap_engine_ids", "trap_communities"]
}

extension ConfigReader {
    mutating func readSNMP(_ node: Located, profiles: [ProfileID: SNMPProfile]) -> SNMPSettings {
        var settings = SNMPSettings()
        guard let fields = Fields(node, what: "snmp", allowed: SNMPSettings.keys, sink: &sink) else { return settings }
        settings.maxOutstanding = Int(fields.integer("max_outstanding", in: 1...100_000, sink: &sink) ?? 1_000)
        settings.confirmInterval = fields.duration("confirm_interval", default: .seconds(5), in: ConfigLimits.confirmInterval,
                                                   sink: &sink)
        settings.confirmAttempts = Int(fields.integer("confirm_attempts", in: 0...20, sink: &sink) ?? 3)
        settings.errorRateThreshold = fields.decimal("error_rate_threshold", maximum: ConfigLimits.errorRateThreshold, sink: &sink) ?? 1
        settings.trapRateLimit = fields.decimal("trap_rate_limit", maximum: ConfigLimits.trapRateLimit, sink: &sink) ?? 50
        settings.trapBurst = Int(fields.integer("trap_burst", in: 1...1_000_000, sink: &sink) ?? 200)
        for entry in fields.strings("trap_v3_profiles", sink: &sink) {
            guard let profile = profiles[ProfileID(entry.text)] else {
                sink.report(entry.at.location, "'trap_v3_profiles' in snmp names unknown SNMP profile '\(entry.text)'")
                continue
            }
            guard profile.version == .v3 else {
                sink.report(entry.at.location, "'trap_v3_profiles' in snmp names SNMP profile '\(entry.text)', which is not version 3")
                continue
            }
            settings.trapV3Profiles.append(profile.id)
        }
        for entry in fields.strings("trap_engine_ids", sink: &sink) {
            guard let bytes = Self.engineID(entry.text) else {
                sink.report(entry.at.location,
                            "each entry of 'trap_engine_ids' in snmp must be an engine ID in hex of 5 to 32 bytes such as 0x80001f8880a1b2c3d4, not '\(entry.text)'")
                continue
            }
            settings.trapEngineIDs.append(bytes)
        }
        if fields.has("trap_communities") {
            let communities = fields.strings("trap_communities", sink: &sink)
            if communities.isEmpty || communities.contains(where: { $0.text.isEmpty }) {
                sink.report(fields.keyLocation("trap_communities"),
                            "'trap_communities' in snmp must list at least one community, none of them empty")
            } else {
                settings.trapCommunities = communities.map { Secret($0.text) }
            }
        }
        return settings
    }

    static func engineID(_ text: String) -> [UInt8]? {
        var hex = Substring(text)
        if hex.hasPrefix("0x") || hex.hasPrefix("0X") { hex = hex.dropFirst(2) }
        guard hex.count % 2 == 0, (10...64).contains(hex.count) else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

extension Fields {
    /// A decimal number from 0 to `maximum` such as 0.5 or 20.
    func decimal(_ key: String, maximum: Double, sink: inout DiagnosticSink) -> Double? {
        guard let text = string(key, sink: &sink) else { return nil }
        guard let number = Double(text), number >= 0, number <= maximum,
              text.allSatisfy({ $0.isNumber || $0 == "." }) else {
            sink.report(value(key)!.location,
                        "'\(key)' in \(what) must be a number from 0 to \(Int(maximum)) such as 0.5 or 10, not '\(text)'")
            return nil
        }
        return number
    }
}
