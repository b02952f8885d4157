import ForewarnModel

/// What line validation needs to know about probing: the profiles (and the default ARP interface;
/// an ARP line without one is probed out of the interface whose subnet holds its target).
struct LineProbeContext {
    var profiles: [ProfileID: ProbeProfile] = [:]
    var defaultInterface: String?
}

extension ConfigReader {
    static let probingKeys = ["rate", "icmp_socket", "arp_interface", "capture", "tcp_concurrency"]
    static let probeProfileKeys = ["id", "interval", "timeout", "count", "spacing", "down_after", "up_after", "window",
                                   "degraded_loss", "degraded_rtt", "arp_interface"]

    // MARK: probing

    mutating func readProbing(_ node: Located) -> ProbingSettings {
        var settings = ProbingSettings()
        guard let fields = Fields(node, what: "probing", allowed: Self.probingKeys, sink: &sink) else { return settings }
        if let rate = fields.integer("rate", in: 0...1_000_000, sink: &sink) { settings.rate = Int(rate) }
        if let kind = fields.choice("icmp_socket", ProbingSettings.ICMPSocketKind.self, sink: &sink) { settings.icmpSocket = kind }
        if let interface = fields.string("arp_interface", sink: &sink) {
            settings.arpInterface = checkInterfaceName(interface, at: fields.value("arp_interface")!, in: "probing")
        }
        if let capture = fields.string("capture", required: false, sink: &sink), !capture.isEmpty {
            settings.capture = resolve(capture)
        }
        if let concurrency = fields.integer("tcp_concurrency", in: 1...16_384, sink: &sink) {
            settings.tcpConcurrency = Int(concurrency)
        }
        return settings
    }

    /// Linux interface names: 1 to 15 characters, no slash, no white space.
    mutating func checkInterfaceName(_ name: String, at value: Located, in what: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= 15, !name.contains("/"), !name.contains(where: \.isWhitespace) else {
            sink.report(value.location, "'arp_interface' in \(what) must be an interface name (at most 15 characters, no '/' or spaces), not '\(name)'")
            return nil
        }
        return name
    }

    // MARK: probe profiles

    mutating func readProbeProfiles(_ items: [Located]) -> [ProfileID: ProbeProfile] {
        var profiles: [ProfileID: ProbeProfile] = [:]
        var seen: [ProfileID: SourceLocation] = [:]
        for item in items {
            guard let fields = Fields(item, what: "a probe profile", kind: "probe profile", allowed: Self.probeProfileKeys, sink: &sink),
                  let idText = fields.string("id", required: true, sink: &sink) else { continue }
            let id = ProfileID(idText)
            if let first = seen[id] {
                sink.report(fields.value("id")!.location,
                            "duplicate probe profile id '\(idText)' (first at \(first.line ?? 0):\(first.column ?? 0))")
                continue
            }
            seen[id] = fields.value("id")!.location
            let defaults = ProbeProfile.standard
            var profile = ProbeProfile(id: id)
            profile.interval = fields.duration("interval", default: defaults.interval, in: ConfigLimits.probeInterval, sink: &sink)
            profile.timeout = fields.duration("timeout", default: defaults.timeout, in: ConfigLimits.probeTimeout, sink: &sink)
            profile.spacing = fields.duration("spacing", default: defaults.spacing, in: ConfigLimits.probeSpacing, sink: &sink)
            profile.count = Int(fields.integer("count", in: 1...100, sink: &sink) ?? Int64(defaults.count))
            profile.downAfter = Int(fields.integer("down_after", in: 1...1000, sink: &sink) ?? Int64(defaults.downAfter))
            profile.upAfter = Int(fields.integer("up_after", in: 1...1000, sink: &sink) ?? Int64(defaults.upAfter))
            profile.window = Int(fields.integer("window", in: 1...255, sink: &sink) ?? Int64(defaults.window))
            if let text = fields.string("degraded_loss", sink: &sink) {
                let number = text.hasSuffix("%") ? String(text.dropLast()).trimmingCharacters(in: .whitespaces) : text
                if let percentage = Percentage(decimal: number) {
                    profile.degradedLoss = percentage
                } else {
                    sink.report(fields.value("degraded_loss")!.location,
                                "'degraded_loss' in probe profile '\(idText)' must be a percentage from 0 to 100 such as 20%, not '\(text)'")
                }
            }
            if fields.has("degraded_rtt") {
                profile.degradedRTT = fields.duration("degraded_rtt", default: .seconds(1), in: ConfigLimits.degradedRTT, sink: &sink)
            }
            if let interface = fields.string("arp_interface", sink: &sink) {
                profile.arpInterface = checkInterfaceName(interface, at: fields.value("arp_interface")!, in: "probe profile '\(idText)'")
            }
            if profile.roundDuration >= profile.interval {
                sink.report(fields.value("interval")?.location ?? item.location,
                            "probe profile '\(idText)': a round (count × spacing + timeout = \(DurationText.format(profile.roundDuration))) "
                            + "must end before the next one starts (interval \(DurationText.format(profile.interval)))")
                continue
            }
            profiles[id] = profile
        }
        return profiles
    }
}
