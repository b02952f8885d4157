import Foundation

/// A network namespace made for one test and removed by it (`defer { namespace.remove() }`), even
/// when the test fails. Addresses come from 198.18.0.0/15 (benchmarking range, RFC 2544).
final class TestNamespace: Sendable {
    let name: String

    init?(_ purpose: String) {
        name = "fwt-\(purpose)-\(getpid())-\(UInt16.random(in: 0...UInt16.max))"
        let made = shell("ip netns add \(name) && ip -n \(name) link set lo up")
        guard made.status == 0 else {
            print("skipping: cannot create network namespace \(name): \(made.output)")
            return nil
        }
    }

    /// Runs a shell command inside the namespace; returns false (and prints why) when it failed.
    @discardableResult
    func run(_ command: String) -> Bool {
        let result = shell("ip netns exec \(name) sh -c '\(command)'")
        if result.status != 0 { print("in \(name): \(command): \(result.output)") }
        return result.status == 0
    }

    /// A local address whose incoming packets are dropped: probes to it go out and are never
    /// answered (an input drop, not an output one, which would fail the send with EPERM instead).
    func addSilentAddress(_ address: String) -> Bool {
        run("ip addr add \(address)/32 dev lo && nft add table inet fwtest && "
            + "nft add chain inet fwtest in { type filter hook input priority 0 \\; } && "
            + "nft add rule inet fwtest in ip daddr \(address) drop")
    }

    func remove() {
        shell("ip netns del \(name)")
    }
}
