internal import CNetSNMP
import ForewarnModel
import Foundation
import Logging

/// A trap or inform as received, before it is mapped to an element.
public struct ReceivedTrap: Sendable, Hashable {
    public enum Version: String, Sendable, Hashable { case v1 = "1", v2c = "2c", v3 = "3" }

    public var source: IPAddress
    public var sourcePort: UInt16
    public var version: Version
    /// The community (v1, v2c) or the USM user name (v3).
    public var securityName: String
    public var isInform: Bool
    /// snmpTrapOID.0, or for SNMPv1 the RFC 3584 translation of generic/specific trap.
    public var trapOID: OID
    /// The originating agent: SNMPv1 agent-addr or the snmpTrapAddress.0 varbind, if present.
    public var agentAddress: IPAddress?
    public var varbinds: [VarBind]
    public var receivedAt: Date

    public init(source: IPAddress, sourcePort: UInt16, version: Version, securityName: String, isInform: Bool,
                trapOID: OID, agentAddress: IPAddress?, varbinds: [VarBind], receivedAt: Date) {
        self.source = source
        self.sourcePort = sourcePort
        self.version = version
        self.securityName = securityName
        self.isInform = isInform
        self.trapOID = trapOID
        self.agentAddress = agentAddress
        self.varbinds = varbinds
        self.receivedAt = receivedAt
    }

    /// The ifIndex varbind of linkUp/linkDown (ifIndex.N = N).
    public var ifIndex: Int? {
        for varbind in varbinds where MIB.ifIndex.contains(varbind.oid) && varbind.oid != MIB.ifIndex {
            if let value = varbind.value.integerValue { return Int(value) }
        }
        return nil
    }
}

/// What the listener counted, for logs and tests.
public struct TrapListenerCounters: Sendable, Hashable {
    public var received = 0
    public var rateLimited = 0
    /// Datagrams net-snmp could not decode or authenticate (also v3 discovery probes, answered).
    public var undecodable = 0
    /// v1/v2c traps and informs whose community is not in `snmp.trap_communities` (dropped,
    /// informs not acknowledged).
    public var wrongCommunity = 0
}

/// The loop-thread side of one trap socket: a net-snmp server session whose datagrams are peeked
/// (source address) and admitted by `TrapAdmission` before net-snmp parses them.
final class TrapListenerContext {
    let endpoint: SocketEndpoint
    var handle: UnsafeMutableRawPointer?
    var fd: Int32 = -1
    var admission: TrapAdmission<ContinuousClock.Instant>
    /// Communities accepted from v1/v2c senders; nil: any.
    let communities: Set<String>?
    let deliver: @Sendable (ReceivedTrap) -> Void
    /// Drops and problems, per reason and minute: a flood costs a few lines, not one per datagram.
    let log: AggregatedLog
    var counters = TrapListenerCounters()
    var currentSource: (IPAddress, UInt16)?
    var delivered = false

    init(endpoint: SocketEndpoint, admission: TrapAdmission<ContinuousClock.Instant>, communities: Set<String>? = nil,
         log: AggregatedLog, deliver: @escaping @Sendable (ReceivedTrap) -> Void) {
        self.endpoint = endpoint
        self.admission = admission
        self.communities = communities
        self.log = log
        self.deliver = deliver
    }

    func close() {
        if let handle { snmp_sess_close(handle) }
        handle = nil
    }

    /// Called by net-snmp for each decoded message on this session.
    func received(_ pdu: UnsafeMutablePointer<netsnmp_pdu>) {
        let command = pdu.pointee.command
        guard command == Int32(fw_snmp_msg_trap) || command == Int32(fw_snmp_msg_trap2)
                || command == Int32(fw_snmp_msg_inform), let (source, port) = currentSource else { return }
        delivered = true
        let isInform = command == Int32(fw_snmp_msg_inform)
        let version: ReceivedTrap.Version = switch Int(pdu.pointee.version) {
        case Int(SNMP_VERSION_1): .v1
        case Int(SNMP_VERSION_3): .v3
        default: .v2c
        }
        let securityName: String
        if version == .v3 {
            securityName = pdu.pointee.securityName.map { String(cString: $0) } ?? ""
        } else if let community = pdu.pointee.community {
            securityName = String(decoding: UnsafeBufferPointer(start: community, count: pdu.pointee.community_len), as: UTF8.self)
        } else {
            securityName = ""
        }
        // Checked before an inform is acknowledged: a sender with a wrong community sees a timeout.
        if version != .v3, let communities, !communities.contains(securityName) {
            counters.wrongCommunity += 1
            EngineMetrics.trapsWrongCommunity.increment()
            log.note(TrapLogReasons.wrongCommunity, source: source.description,
                     metadata: ["trap.source": "\(source)", "trap.version": "\(version.rawValue)"])
            return
        }
        if isInform, let handle, let reply = snmp_clone_pdu(pdu) {
            // Acknowledge: the same PDU back as a Response (RFC 3416 §4.2.7).
            reply.pointee.command = Int32(fw_snmp_msg_response)
            reply.pointee.errstat = 0
            reply.pointee.errindex = 0
            if snmp_sess_send(handle, reply) == 0 { snmp_free_pdu(reply) }
        }
        var varbinds: [VarBind] = []
        var variable = pdu.pointee.variables
        while let current = variable {
            let oid = OID(Array(UnsafeBufferPointer(start: current.pointee.name, count: current.pointee.name_length)))
            varbinds.append(VarBind(oid: oid, value: PendingRequest.value(of: current) ?? .null))
            variable = current.pointee.next_variable
        }
        var trapOID: OID = "0.0"
        var agentAddress: IPAddress?
        if command == Int32(fw_snmp_msg_trap) {
            let generic = Int(pdu.pointee.trap_type)
            if generic >= 0 && generic < MIB.genericTraps.count && generic != 6 {
                trapOID = MIB.genericTraps[generic]
            } else if let enterprise = pdu.pointee.enterprise {
                trapOID = OID(Array(UnsafeBufferPointer(start: enterprise, count: pdu.pointee.enterprise_length)))
                    .appending(0, UInt(max(0, pdu.pointee.specific_type)))
            }
            let a = pdu.pointee.agent_addr
            let value = UInt32(a.0) << 24 | UInt32(a.1) << 16 | UInt32(a.2) << 8 | UInt32(a.3)
            if value != 0 { agentAddress = .v4(value) }
        } else {
            for varbind in varbinds {
                if varbind.oid == MIB.snmpTrapOID, case .objectIdentifier(let oid) = varbind.value { trapOID = oid }
                if varbind.oid == MIB.snmpTrapAddress, case .ipAddress(let ip) = varbind.value {
                    agentAddress = .v4(UInt32(ip.a) << 24 | UInt32(ip.b) << 16 | UInt32(ip.c) << 8 | UInt32(ip.d))
                }
            }
        }
        counters.received += 1
        EngineMetrics.trapsReceived.increment()
        deliver(ReceivedTrap(source: source, sourcePort: port, version: version, securityName: securityName,
                             isInform: isInform, trapOID: trapOID, agentAddress: agentAddress, varbinds: varbinds,
                             receivedAt: Date()))
    }
}

extension IOLoop {
    func openTrapListener(_ context: TrapListenerContext) -> Result<Void, SNMPError> {
        let endpoint = context.endpoint
        let spec = endpoint.address.isIPv6 ? "udp6:[\(endpoint.address)]:\(endpoint.port)" : "udp:\(endpoint)"
        func failure(_ text: String) -> Result<Void, SNMPError> {
            .failure(SNMPError(target: "trap receiver", address: endpoint.description, operation: "listen", cause: .sessionFailed(text)))
        }
        guard let transport = netsnmp_transport_open_server("snmptrap", spec) else {
            return failure("cannot bind UDP \(endpoint) (in use, or port below 1024 without CAP_NET_BIND_SERVICE)")
        }
        var session = netsnmp_session()
        snmp_sess_init(&session)
        fw_session_set_server(&session, { op, _, _, pdu, magic in
            guard op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE, let pdu, let magic else { return 1 }
            Unmanaged<TrapListenerContext>.fromOpaque(magic).takeUnretainedValue().received(pdu)
            return 1
        }, Unmanaged.passUnretained(context).toOpaque())
        guard let handle = snmp_sess_add(&session, transport, nil, nil) else {
            return failure("net-snmp refused the trap session")
        }
        context.handle = handle
        context.fd = fw_session_socket(handle)
        listeners[context.fd] = context
        watch(context.fd)
        return .success(())
    }

    func closeTrapListener(_ context: TrapListenerContext) {
        listeners[context.fd] = nil
        unwatch(context.fd)
        context.close()
    }

    /// Reads every waiting datagram: peek the source, admit or drop, then let net-snmp parse it.
    func readTrapListener(_ context: TrapListenerContext) {
        guard let handle = context.handle else { return }
        for _ in 0..<256 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            var byte: UInt8 = 0
            let peeked = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    peekBuffer.withUnsafeMutableBytes { buffer in
                        recvfrom(context.fd, buffer.baseAddress, buffer.count, Int32(MSG_PEEK | MSG_DONTWAIT), address, &length)
                    }
                }
            }
            guard peeked >= 0 else { return }
            let (source, port) = Self.address(of: storage)
            switch context.admission.admit(source, at: .now) {
            case .accept:
                context.currentSource = (source, port)
                context.delivered = false
                // A v3 message authenticated with a polled agent's engine ID carries its sender's boots
                // and time (snmptrap -e), which net-snmp would take as the agent's for every poll:
                // receiving leaves polling's notion of that engine exactly as it was.
                let engineID = polledEngines.isEmpty ? nil
                    : SNMPv3Header.authoritativeEngineID(Array(peekBuffer[0..<peeked]))
                let polled = engineID.flatMap { polledEngines.contains($0) ? $0 : nil }
                var saved = polled.map { id in id.withUnsafeBufferPointer { fw_enginetime_save($0.baseAddress, $0.count) } }
                fw_large_fd_set(context.fd, &fdSetForListeners)
                _ = snmp_sess_read2(handle, &fdSetForListeners)
                fw_large_fd_clr(context.fd, &fdSetForListeners)
                if let polled, saved != nil {
                    polled.withUnsafeBufferPointer { fw_enginetime_restore($0.baseAddress, $0.count, &saved!) }
                }
                if !context.delivered {
                    context.counters.undecodable += 1
                    EngineMetrics.trapsDroppedMalformed.increment()
                    context.log.note(TrapLogReasons.undecodable, source: source.description,
                                     metadata: ["trap.source": "\(source)"])
                }
            case .drop:
                _ = recv(context.fd, &byte, 1, Int32(MSG_DONTWAIT))
                context.counters.rateLimited += 1
                EngineMetrics.trapsDroppedRateLimit.increment()
                context.log.note(TrapLogReasons.rateLimited, source: source.description,
                                 metadata: ["trap.source": "\(source)"])
            }
        }
    }

    static func address(of storage: sockaddr_storage) -> (IPAddress, UInt16) {
        var copy = storage
        if Int32(storage.ss_family) == AF_INET6 {
            return withUnsafePointer(to: &copy) { pointer in
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    let bytes = withUnsafeBytes(of: address.pointee.sin6_addr) { Array($0) }
                    var high: UInt64 = 0
                    var low: UInt64 = 0
                    for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
                    for index in 8..<16 { low = low << 8 | UInt64(bytes[index]) }
                    // IPv4-mapped addresses (::ffff:a.b.c.d) are shown and matched as IPv4.
                    if high == 0 && low >> 32 == 0xffff { return (.v4(UInt32(truncatingIfNeeded: low)), UInt16(bigEndian: address.pointee.sin6_port)) }
                    return (.v6(high, low), UInt16(bigEndian: address.pointee.sin6_port))
                }
            }
        }
        return withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                (.v4(UInt32(bigEndian: address.pointee.sin_addr.s_addr)), UInt16(bigEndian: address.pointee.sin_port))
            }
        }
    }
}
