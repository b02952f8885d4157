import ForewarnModel

/// One subscriber line as written (YAML mapping or CSV row), before its references are checked.
struct LineFields {
    static let keys = ["id", "customer", "element", "port", "probe", "target", "contract", "service", "probe_profile"]
    static let required: Set<String> = ["id", "customer", "element"]

    /// Values by key, each with where it stands.
    var values: [String: (text: String, at: SourceLocation)] = [:]
    /// Where the line as a whole stands (the mapping or the row).
    var location: SourceLocation

    init(location: SourceLocation) { self.location = location }

    init(yaml fields: Fields, sink: inout DiagnosticSink) {
        self.init(location: fields.owner.location)
        for key in Self.keys {
            if let text = fields.string(key, sink: &sink), !text.isEmpty {
                values[key] = (text, fields.value(key)!.location)
            }
        }
    }

    /// The checked line, or nil after reporting what is wrong with it.
    func validate(index: inout InventoryIndex, probes: LineProbeContext = LineProbeContext(),
                  sink: inout DiagnosticSink) -> Line? {
        guard let id = values["id"] else {
            sink.report(location, "a line is missing required key 'id'")
            return nil
        }
        var valid = index.addLine(LineID(id.text), at: id.at, sink: &sink)
        for key in ["customer", "element"] where values[key] == nil {
            sink.report(location, "line '\(id.text)' is missing required key '\(key)'")
            valid = false
        }
        if let element = values["element"], index.elements[ElementID(element.text)] == nil {
            sink.report(element.at, "line '\(id.text)' is on unknown element '\(element.text)'")
            valid = false
        }
        if let customer = values["customer"], index.customers[CustomerID(customer.text)] == nil {
            sink.report(customer.at, "line '\(id.text)' belongs to unknown customer '\(customer.text)'")
            valid = false
        }
        if let contract = values["contract"], index.contracts[ContractID(contract.text)] == nil {
            sink.report(contract.at, "line '\(id.text)' names unknown contract '\(contract.text)'")
            valid = false
        }
        let port = values["port"].flatMap { PortReference($0.text) }
        var probe = ProbeMethod.icmp
        if let text = values["probe"] {
            if let method = ProbeMethod(text.text) {
                probe = method
            } else {
                sink.report(text.at, "line '\(id.text)' has unknown probe '\(text.text)' (icmp, tcp:PORT, arp or none)")
                valid = false
            }
        }
        var target: IPAddress?
        if let text = values["target"] {
            target = IPAddress(text.text)
            if target == nil {
                sink.report(text.at, "line '\(id.text)' has invalid target address '\(text.text)'")
                valid = false
            } else if probe == .arp, target?.isIPv6 == true {
                sink.report(text.at, "line '\(id.text)' probes by ARP, which needs an IPv4 target, not '\(text.text)'")
                valid = false
            }
        } else if probe != .none {
            sink.report(values["probe"]?.at ?? location,
                        "line '\(id.text)' is probed by \(probe) but has no 'target' address (or set probe: none)")
            valid = false
        }
        var probeProfile: ProfileID?
        if let text = values["probe_profile"] {
            if probes.profiles[ProfileID(text.text)] == nil {
                let known = probes.profiles.keys.map(\.rawValue).sorted()
                sink.report(text.at, "line '\(id.text)' names unknown probe_profile '\(text.text)'"
                            + (known.isEmpty ? " (no probe_profiles are configured)" : " (known: \(known.joined(separator: ", ")))"))
                valid = false
            } else {
                probeProfile = ProfileID(text.text)
            }
        }
        var service = ServiceKind.data
        if let text = values["service"] {
            if let kind = ServiceKind(rawValue: text.text) {
                service = kind
            } else {
                let allowed = ServiceKind.allCases.map(\.rawValue).joined(separator: ", ")
                sink.report(text.at, "line '\(id.text)' has unknown service '\(text.text)' (\(allowed))")
                valid = false
            }
        }
        guard valid, let customer = values["customer"], let element = values["element"] else { return nil }
        return Line(id: LineID(id.text), customer: CustomerID(customer.text), element: ElementID(element.text),
                    port: port, probe: probe, target: target, contract: values["contract"].map { ContractID($0.text) },
                    service: service, probeProfile: probeProfile)
    }
}
