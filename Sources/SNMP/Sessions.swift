internal import CNetSNMP
import ForewarnModel
import Foundation

/// Sessions are shared by every request to the same agent with the same credentials.
struct SessionKey: Hashable {
    var address: IPAddress
    var port: UInt16
    var profile: SNMPProfile
}

/// One net-snmp session (one UDP socket), owned by the loop thread.
final class SessionEntry {
    let key: SessionKey
    let target: SNMPTarget
    var handle: UnsafeMutableRawPointer?
    var fd: Int32 = -1
    var pending = 0
    var lastUsed: UInt64 = 0
    var idleLinked = false
    var idlePrevious: SessionEntry?
    var idleNext: SessionEntry?
    /// SNMPv3 only: requests waiting while the agent's engine ID is discovered.
    var discovery: [PendingRequest]?

    init(key: SessionKey, target: SNMPTarget) {
        self.key = key
        self.target = target
    }
}

extension IOLoop {
    /// The open session for `target`, opening one (and discovering a v3 engine ID) if needed.
    func session(for target: SNMPTarget) -> Result<SessionEntry, SNMPError> {
        let key = SessionKey(address: target.address, port: target.port, profile: target.profile)
        if let entry = sessions[key], entry.handle != nil { return .success(entry) }
        while openSessions >= settings.maxOpenSessions {
            guard evictIdleSession() else {
                return .failure(SNMPError(target: target.name, address: target.endpointText, operation: "open session",
                                          cause: .sessionFailed("all \(settings.maxOpenSessions) sessions are busy")))
            }
        }
        let entry = SessionEntry(key: key, target: target)
        let engineID = engineIDs[key]

        switch openHandle(target, engineID: engineID) {
        case .failure(let error):
            return .failure(error)
        case .success(let handle):
            // Request callbacks find the loop here (their own context is a request token).
            snmp_sess_session(handle)?.pointee.callback_magic = Unmanaged.passUnretained(self).toOpaque()
            entry.handle = handle
            entry.fd = fw_session_socket(handle)
            byFD[entry.fd] = entry
            watch(entry.fd)
            didOpenSession()
        }
        sessions[key] = entry
        if target.profile.version == .v3 && engineID == nil { startDiscovery(entry) }
        return .success(entry)
    }

    private func openHandle(_ target: SNMPTarget, engineID: [UInt8]?) -> Result<UnsafeMutableRawPointer, SNMPError> {
        var session = netsnmp_session()
        snmp_sess_init(&session)
        let profile = target.profile
        session.timeout = Int(profile.timeout.components.seconds * 1_000_000
                              + profile.timeout.components.attoseconds / 1_000_000_000_000)
        session.retries = Int32(profile.retries)
        var failure: String?
        let handle: UnsafeMutableRawPointer? = target.peerName.withCString { peer in
            session.peername = UnsafeMutablePointer(mutating: peer)
            switch profile.credentials {
            case .community(let community):
                session.version = profile.version == .v1 ? Int(SNMP_VERSION_1) : Int(SNMP_VERSION_2c)
                return community.withCString { text in
                    session.community = UnsafeMutableRawPointer(mutating: text).assumingMemoryBound(to: u_char.self)
                    session.community_len = strlen(text)
                    return snmp_sess_open(&session)
                }
            case .user(let name, let level, let auth, let authKey, let privacy, let privacyKey):
                // Never net-snmp's own probe, which blocks for a round trip (or a whole timeout):
                // the loop discovers engine IDs asynchronously.
                session.flags |= UInt(SNMP_FLAGS_DONT_PROBE)
                let securityLevel: Int32 = switch level {
                case .noAuthNoPriv: SNMP_SEC_LEVEL_NOAUTH
                case .authNoPriv: SNMP_SEC_LEVEL_AUTHNOPRIV
                case .authPriv: SNMP_SEC_LEVEL_AUTHPRIV
                }
                return name.withCString { user in
                    (authKey ?? "").withCString { authPass in
                        (privacyKey ?? "").withCString { privPass in
                            let status = fw_session_set_usm(&session, user, securityLevel, auth == .sha256 ? 1 : 0,
                                                            authPass, privacy == .aes256 ? 1 : 0, privPass)
                            guard status == SNMPERR_SUCCESS else {
                                failure = "cannot derive SNMPv3 keys (net-snmp error \(status))"
                                return nil
                            }
                            guard let engineID else {
                                let opened = snmp_sess_open(&session)
                                // snmp_sess_open clears the flag once open; the first send would probe.
                                if let opened, let copy = snmp_sess_session(opened) {
                                    copy.pointee.flags |= UInt(SNMP_FLAGS_DONT_PROBE)
                                }
                                return opened
                            }
                            return engineID.withUnsafeBufferPointer { id in
                                fw_session_set_engine_id(&session, id.baseAddress, id.count)
                                let opened = snmp_sess_open(&session)
                                // With probing off net-snmp does not create the USM user (localised keys
                                // for this engine ID) that the probe would have created.
                                if let opened, let copy = snmp_sess_session(opened) {
                                    let status = create_user_from_session(copy)
                                    if status != SNMPERR_SUCCESS {
                                        failure = "cannot create the SNMPv3 user for engine \(engineID.hexText) (net-snmp error \(status))"
                                        snmp_sess_close(opened)
                                        return nil
                                    }
                                }
                                return opened
                            }
                        }
                    }
                }
            }
        }
        guard let handle else {
            if failure == nil {
                var cerrno: Int32 = 0
                var snmpErrno: Int32 = 0
                var text: UnsafeMutablePointer<CChar>?
                snmp_error(&session, &cerrno, &snmpErrno, &text)
                failure = text.map { String(cString: $0) } ?? "net-snmp error \(snmpErrno)"
                free(text)
            }
            return .failure(SNMPError(target: target.name, address: target.endpointText, operation: "open session",
                                      cause: .sessionFailed(failure ?? "unknown")))
        }
        return .success(handle)
    }


    /// Sends the discovery GET; requests for this agent wait in `entry.discovery` meanwhile.
    private func startDiscovery(_ entry: SessionEntry) {
        entry.discovery = []
        let probe = PendingRequest(kind: .engineDiscovery, oids: [], target: entry.target, loop: self) { [unowned self] result in
            self.finishDiscovery(entry, result)
        }
        probe.countsAsOutstanding = false
        send(probe, on: entry)
    }

    private func finishDiscovery(_ entry: SessionEntry, _ result: Result<[VarBind], SNMPError>) {
        // Runs inside a net-snmp callback: the waiting requests are sent once the read returns.
        deferUntilIdle { [self] in
            let waiting = entry.discovery ?? []
            entry.discovery = nil
            var status = SNMPERR_UNKNOWN_ENG_ID
            if let handle = entry.handle, let session = snmp_sess_session(handle) {
                status = fw_session_adopt_discovered_engine(session)
                if status == SNMPERR_SUCCESS, let id = session.pointee.securityEngineID {
                    let engineID = Array(UnsafeBufferPointer(start: id, count: session.pointee.securityEngineIDLen))
                    engineIDs[entry.key] = engineID
                    polledEngines.insert(engineID)
                }
            }
            guard status == SNMPERR_SUCCESS else {
                var error: SNMPError
                if case .failure(let failure) = result {
                    error = failure
                } else {
                    error = SNMPError(target: entry.target.name, address: entry.target.endpointText,
                                      operation: "SNMPv3 engine discovery",
                                      cause: .malformedResponse("no engine ID in the agent's report (net-snmp error \(status))"))
                }
                for request in waiting {
                    error.operation = request.operation
                    finish(request, .failure(error))
                }
                close(entry)
                return
            }
            for request in waiting where !request.finished { send(request, on: entry) }
        }
    }
}

extension Array where Element == UInt8 {
    var hexText: String { "0x" + map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
}
