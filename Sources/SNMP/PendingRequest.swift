internal import CNetSNMP
import Foundation

/// One request in flight, owned by the loop thread (which finds it by its callback token).
final class PendingRequest {
    enum Kind: Sendable, Hashable {
        case get, getNext
        case getBulk(nonRepeaters: Int, maxRepetitions: Int)
        /// An empty unauthenticated GET whose report carries the agent's SNMPv3 engine ID.
        case engineDiscovery
    }

    let kind: Kind
    let oids: [OID]
    let target: SNMPTarget
    unowned let loop: IOLoop
    private let completion: (Result<[VarBind], SNMPError>) -> Void
    var entry: SessionEntry?
    var sendCount = 0
    /// The callback context token once sent (0 before).
    var token: UInt = 0
    var startedAt: UInt64 = 0
    var finished = false
    /// Sends so far (more than one only after a resynchronisation).
    var sends = 0
    var resynchronised = false
    var countsAsOutstanding = true

    init(kind: Kind, oids: [OID], target: SNMPTarget, loop: IOLoop,
         completion: @escaping (Result<[VarBind], SNMPError>) -> Void) {
        self.kind = kind
        self.oids = oids
        self.target = target
        self.loop = loop
        self.completion = completion
    }

    var timeoutNanoseconds: UInt64 {
        let timeout = target.profile.timeout.components
        return UInt64(timeout.seconds) * 1_000_000_000 + UInt64(timeout.attoseconds / 1_000_000_000)
    }

    var operation: String { Self.describe(kind, oids) }

    static func describe(_ kind: Kind, _ oids: [OID]) -> String {
        let names = oids.prefix(3).map(\.description).joined(separator: ", ") + (oids.count > 3 ? ", …" : "")
        switch kind {
        case .get: return "get \(names)"
        case .getNext: return "getnext \(names)"
        case .getBulk: return "getbulk \(names)"
        case .engineDiscovery: return "SNMPv3 engine discovery"
        }
    }

    func error(_ cause: SNMPError.Cause) -> SNMPError {
        SNMPError(target: target.name, address: target.endpointText, operation: operation, cause: cause)
    }

    func complete(_ result: Result<[VarBind], SNMPError>) {
        if startedAt != 0 && kind != .engineDiscovery {
            let elapsed = IOLoop.monotonicNanoseconds() &- startedAt
            switch result {
            case .success:
                EngineMetrics.requestsOK.increment()
                EngineMetrics.latency.recordNanoseconds(Int64(elapsed))
            case .failure(let error):
                if case .timeout = error.cause {
                    EngineMetrics.requestsTimeout.increment()
                    EngineMetrics.timeouts.increment()
                } else {
                    EngineMetrics.requestsError.increment()
                }
            }
        }
        completion(result)
    }

    func makePDU() -> UnsafeMutablePointer<netsnmp_pdu>? {
        let command: Int32 = switch kind {
        case .get, .engineDiscovery: Int32(fw_snmp_msg_get)
        case .getNext: Int32(fw_snmp_msg_getnext)
        case .getBulk: Int32(fw_snmp_msg_getbulk)
        }
        guard let pdu = snmp_pdu_create(command) else { return nil }
        switch kind {
        case .getBulk(let nonRepeaters, let maxRepetitions):
            pdu.pointee.errstat = nonRepeaters      // non-repeaters travel in errstat
            pdu.pointee.errindex = maxRepetitions   // max-repetitions in errindex
        case .engineDiscovery:
            // RFC 3414 §4: no user, no authentication, no engine ID; the agent reports its own.
            pdu.pointee.securityName = strdup("")
            pdu.pointee.securityNameLen = 0
            pdu.pointee.securityLevel = SNMP_SEC_LEVEL_NOAUTH
            pdu.pointee.securityModel = SNMP_SEC_MODEL_USM
        default:
            break
        }
        for oid in oids {
            oid.components.withUnsafeBufferPointer { buffer in
                _ = snmp_add_null_var(pdu, buffer.baseAddress, buffer.count)
            }
        }
        return pdu
    }

    /// Turns a response (or report) into values or a typed error.
    func decode(_ pdu: UnsafeMutablePointer<netsnmp_pdu>?) -> Result<[VarBind], SNMPError> {
        guard let pdu else { return .failure(error(.malformedResponse("empty response"))) }
        // Any answer ends a discovery; whether it carried an engine ID is read from the session.
        if kind == .engineDiscovery { return .success([]) }
        if pdu.pointee.command == Int32(fw_snmp_msg_report) {
            let report = snmpv3_get_report_type(pdu)
            let text = String(cString: snmp_api_errstring(report))
            switch report {
            case SNMPERR_AUTHENTICATION_FAILURE, SNMPERR_UNKNOWN_USER_NAME, SNMPERR_UNSUPPORTED_SEC_LEVEL,
                 SNMPERR_DECRYPTION_ERR, SNMPERR_UNKNOWN_ENG_ID, SNMPERR_NOT_IN_TIME_WINDOW:
                return .failure(error(.authentication(text)))
            default:
                return .failure(error(.malformedResponse("unexpected report: \(text)")))
            }
        }
        let status = pdu.pointee.errstat
        if status != 0 {
            let index = pdu.pointee.errindex
            switch status {
            case 1: return .failure(error(.tooBig))
            case 2:
                let oid = index >= 1 && index <= oids.count ? oids[index - 1] : nil
                return .failure(error(.noSuchName(oid)))
            default:
                return .failure(error(.agentError(status: status, index: index)))
            }
        }
        var values: [VarBind] = []
        var variable = pdu.pointee.variables
        while let current = variable {
            guard let value = Self.value(of: current) else {
                return .failure(error(.malformedResponse("undecodable value of type \(current.pointee.type)")))
            }
            let oid = OID(Array(UnsafeBufferPointer(start: current.pointee.name, count: current.pointee.name_length)))
            values.append(VarBind(oid: oid, value: value))
            variable = current.pointee.next_variable
        }
        if case .get = kind, values.count != oids.count {
            return .failure(error(.malformedResponse("asked for \(oids.count) objects, got \(values.count)")))
        }
        return .success(values)
    }

    static func value(of variable: UnsafeMutablePointer<netsnmp_variable_list>) -> SNMPValue? {
        let type = variable.pointee.type
        let value = variable.pointee.val
        let length = variable.pointee.val_len
        func bytes() -> [UInt8] {
            guard let string = value.string, length > 0 else { return [] }
            return Array(UnsafeBufferPointer(start: string, count: length))
        }
        switch type {
        case fw_asn_integer:
            guard let pointer = value.integer else { return nil }
            return .integer(Int64(pointer.pointee))
        case fw_asn_octet_str: return .octets(bytes())
        case fw_asn_opaque: return .opaque(bytes())
        case fw_asn_null: return .null
        case fw_asn_object_id:
            guard let objid = value.objid else { return nil }
            return .objectIdentifier(OID(Array(UnsafeBufferPointer(start: objid, count: length / MemoryLayout<oid>.size))))
        case fw_asn_ipaddress:
            let raw = bytes()
            guard raw.count == 4 else { return nil }
            return .ipAddress(.init(a: raw[0], b: raw[1], c: raw[2], d: raw[3]))
        case fw_asn_counter, fw_asn_gauge, fw_asn_timeticks:
            guard let pointer = value.integer else { return nil }
            let number = UInt32(truncatingIfNeeded: pointer.pointee)
            return type == fw_asn_counter ? .counter32(number) : type == fw_asn_gauge ? .gauge32(number) : .timeTicks(number)
        case fw_asn_counter64:
            guard let counter = value.counter64 else { return nil }
            return .counter64(UInt64(counter.pointee.high) << 32 | UInt64(counter.pointee.low & 0xffff_ffff))
        case fw_snmp_nosuchobject: return .noSuchObject
        case fw_snmp_nosuchinstance: return .noSuchInstance
        case fw_snmp_endofmibview: return .endOfMibView
        default: return nil
        }
    }
}
