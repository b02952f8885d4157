#if canImport(Glibc)
import Glibc
#endif
internal import CPcap

/// Opening an engine's sockets inside another network namespace (`ip netns`): a socket stays in
/// the namespace it was created in, so the engine can probe lines reachable only from there (a
/// VRF, a lab) while the process lives in its own.
public enum NetworkNamespace {
    /// Runs `body` on the calling thread inside the namespace `name` (/run/netns/NAME) and comes
    /// back. `body` must be synchronous: the thread, not the task, is what is in the namespace.
    public static func with<T>(_ name: String, _ body: () throws(ProbeError) -> T) throws(ProbeError) -> T {
        let home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard home >= 0 else { throw ProbeError.socket(operation: "open own network namespace", target: nil, cause: ProbeError.errnoText()) }
        defer { close(home) }
        let target = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw ProbeError.socket(operation: "open network namespace", target: name, cause: ProbeError.errnoText()) }
        defer { close(target) }
        guard fw_enter_network_namespace(target) == 0 else {
            throw ProbeError.socket(operation: "enter network namespace (needs CAP_SYS_ADMIN)", target: name, cause: ProbeError.errnoText())
        }
        defer { _ = fw_enter_network_namespace(home) }
        return try body()
    }
}
