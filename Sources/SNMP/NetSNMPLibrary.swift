internal import CNetSNMP
import Foundation
import Logging
import Synchronization

/// The net-snmp library Forewarn is linked against.
public enum NetSNMPLibrary {
    public static var version: String { String(cString: netsnmp_get_version()) }

    private static let initialised = Mutex(false)

    /// Initialises net-snmp once per process. Call it before starting concurrent work (the daemon
    /// and the CLI do so first thing); `SNMPEngine` calls it too, harmlessly.
    public static func initialise() {
        initialised.withLock { done in
            guard !done else { return }
            done = true
            // Forewarn keeps no net-snmp state on disk and loads no MIB files (OIDs are numeric).
            netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1)
            netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1)
            netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1)
            netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_LOAD_HOST_FILES, 1)
            setenv("MIBS", "", 1)
            // net-snmp's own messages (a datagram it cannot parse, an unknown USM user) would go
            // to stderr, a line each: they go through the logger instead, aggregated.
            snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, { _, _, message, _ in
                guard let message = message?.assumingMemoryBound(to: snmp_log_message.self).pointee,
                      let text = message.msg else { return 0 }
                NetSNMPLibrary.received(priority: message.priority, String(cString: text))
                return 0
            }, nil)
            snmp_enable_calllog()
            snmp_disable_stderrlog()
            init_snmp("forewarn")
        }
    }

    /// Where net-snmp's messages go: one line for the first of each priority, then a summary a
    /// minute. `SNMPEngine` points it at its logger.
    static let messages = AggregatedLog(logger: Logger(label: "forewarn.net-snmp"))

    static let reasons: [Int32: AggregatedLog.Reason] = [
        LOG_EMERG: .init("net-snmp.error", .error, "net-snmp message"), LOG_ALERT: .init("net-snmp.error", .error, "net-snmp message"),
        LOG_CRIT: .init("net-snmp.error", .error, "net-snmp message"), LOG_ERR: .init("net-snmp.error", .error, "net-snmp message"),
        LOG_WARNING: .init("net-snmp.warning", .warning, "net-snmp message"), LOG_NOTICE: .init("net-snmp.notice", .notice, "net-snmp message"),
        LOG_INFO: .init("net-snmp.info", .info, "net-snmp message"), LOG_DEBUG: .init("net-snmp.debug", .debug, "net-snmp message"),
    ]

    /// Messages net-snmp has logged through `received` (tests).
    static let routed = Mutex(0)

    /// Logs through net-snmp's own snmp_log path, as the library does (tests).
    static func logThroughNetSNMP(priority: Int32, _ text: String) {
        text.withCString { pointer in
            _ = withVaList([pointer]) { snmp_vlog(priority, "%s", $0) }
        }
    }

    static func received(priority: Int32, _ text: String) {
        routed.withLock { $0 += 1 }
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !line.isEmpty else { return }
        let reason = reasons[priority] ?? AggregatedLog.Reason("net-snmp.notice", .notice, "net-snmp message")
        messages.note(reason, detail: line, metadata: ["message": "\(line)"])
    }
}
