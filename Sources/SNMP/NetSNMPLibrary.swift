internal import CNetSNMP
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
            init_snmp("forewarn")
        }
    }
}
