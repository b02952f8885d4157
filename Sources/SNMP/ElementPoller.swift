import ForewarnModel

/// One poll of one element: sysUpTime.0 and sysName.0, then the IF-MIB objects of the ports asked
/// for (ifName references resolved by walking ifName once; `resolveNames` forces a new walk,
/// after a reboot for instance).
public struct ElementPoller: Sendable {
    public struct PortReading: Sendable, Hashable {
        public var reference: PortReference
        public var ifIndex: Int
        public var ifName: String?
        public var adminStatus: Int
        public var operStatus: Int
        public var lastChange: UInt32?
        public var inErrors: UInt32?
        public var outErrors: UInt32?
        public var inOctets: UInt64?
        public var outOctets: UInt64?
        /// True when the octet counters are the 64-bit ifHC ones.
        public var octetsAre64Bit: Bool
    }

    public struct Reading: Sendable {
        public var sysUpTime: UInt32
        public var sysName: String?
        public var ports: [PortReading]
        /// Ports that could not be read, with why (unknown ifName, no such ifIndex, errors).
        public var portProblems: [PortReference: String]
        /// ifName → ifIndex as resolved (cached by the caller for the next poll).
        public var names: [String: Int]
    }

    public let engine: SNMPEngine
    /// Varbinds per GET; small enough for any agent's message size.
    public var varbindsPerRequest = 40

    public init(engine: SNMPEngine) { self.engine = engine }

    public func poll(_ target: SNMPTarget, ports: [PortReference], knownNames: [String: Int]?,
                     resolveNames: Bool = false) async throws(SNMPError) -> Reading {
        let system = try await engine.get([MIB.sysUpTime, MIB.sysName], from: target)
        guard case .timeTicks(let uptime) = system[0].value else {
            throw SNMPError(target: target.name, address: target.endpointText, operation: "get sysUpTime.0",
                            cause: .malformedResponse("sysUpTime.0 is \(system[0].value), not TimeTicks"))
        }
        var reading = Reading(sysUpTime: uptime, sysName: system[1].value.text, ports: [], portProblems: [:],
                              names: knownNames ?? [:])
        var wanted: [(PortReference, Int)] = []
        let needsNames = ports.contains { if case .ifName = $0 { true } else { false } }
        if needsNames && (knownNames == nil || resolveNames) {
            do {
                reading.names = try await ifNames(target)
            } catch {
                for port in ports { if case .ifName = port { reading.portProblems[port] = error.description } }
            }
        }
        for port in ports {
            switch port {
            case .ifIndex(let index): wanted.append((port, index))
            case .ifName(let name):
                if let index = reading.names[name] { wanted.append((port, index)) }
                else if reading.portProblems[port] == nil { reading.portProblems[port] = "no interface named '\(name)' in ifName" }
            }
        }
        let columns = target.profile.version == .v1
            ? [MIB.ifAdminStatus, MIB.ifOperStatus, MIB.ifLastChange, MIB.ifInErrors, MIB.ifOutErrors, MIB.ifInOctets, MIB.ifOutOctets]
            : [MIB.ifAdminStatus, MIB.ifOperStatus, MIB.ifLastChange, MIB.ifInErrors, MIB.ifOutErrors, MIB.ifHCInOctets, MIB.ifHCOutOctets]
        let perRequest = max(1, varbindsPerRequest / columns.count)
        var start = 0
        while start < wanted.count {
            let chunk = Array(wanted[start..<min(start + perRequest, wanted.count)])
            start += perRequest
            let oids = chunk.flatMap { _, index in columns.map { $0.appending(UInt(index)) } }
            let values: [VarBind]
            do {
                values = try await engine.get(oids, from: target)
            } catch {
                // SNMPv1 fails the whole PDU for one missing object: read these ports one by one.
                if case .noSuchName = error.cause, chunk.count > 1 {
                    for single in chunk {
                        do {
                            let one = try await engine.get(columns.map { $0.appending(UInt(single.1)) }, from: target)
                            decode(one, chunk: [single], columns: columns.count, names: reading.names, into: &reading)
                        } catch {
                            reading.portProblems[single.0] = error.description
                        }
                    }
                    continue
                }
                if case .timeout = error.cause { throw error }
                for port in chunk { reading.portProblems[port.0] = error.description }
                continue
            }
            decode(values, chunk: chunk, columns: columns.count, names: reading.names, into: &reading)
        }
        return reading
    }

    private func decode(_ values: [VarBind], chunk: [(PortReference, Int)], columns: Int, names: [String: Int],
                        into reading: inout Reading) {
        let nameOf = Dictionary(names.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })
        for (offset, (reference, index)) in chunk.enumerated() {
            let row = values[(offset * columns)..<min(values.count, (offset + 1) * columns)].map(\.value)
            guard row.count == columns, let admin = row[0].integerValue, let oper = row[1].integerValue else {
                reading.portProblems[reference] = "no interface with ifIndex \(index)"
                continue
            }
            func counter32(_ value: SNMPValue) -> UInt32? { if case .counter32(let number) = value { number } else { nil } }
            func octets(_ value: SNMPValue) -> UInt64? {
                switch value {
                case .counter64(let number): return number
                case .counter32(let number): return UInt64(number)
                default: return nil
                }
            }
            var lastChange: UInt32?
            if case .timeTicks(let ticks) = row[2] { lastChange = ticks }
            let is64: Bool = if case .counter64 = row[5] { true } else { false }
            reading.ports.append(PortReading(reference: reference, ifIndex: index, ifName: nameOf[index],
                                             adminStatus: Int(admin), operStatus: Int(oper), lastChange: lastChange,
                                             inErrors: counter32(row[3]), outErrors: counter32(row[4]),
                                             inOctets: octets(row[5]), outOctets: octets(row[6]), octetsAre64Bit: is64))
        }
    }

    /// ifName → ifIndex for every interface of the element.
    public func ifNames(_ target: SNMPTarget) async throws(SNMPError) -> [String: Int] {
        var names: [String: Int] = [:]
        for varbind in try await engine.walk(MIB.ifName, from: target) {
            guard let index = varbind.oid.suffix(after: MIB.ifName)?.first, let name = varbind.value.text else { continue }
            names[name] = Int(index)
        }
        return names
    }
}
