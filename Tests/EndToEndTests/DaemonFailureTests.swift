#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// The real binary when a part of it cannot run: the heartbeat tells the truth at once.
@Suite(.serialized) struct DaemonFailureTests {
    /// A loopback TCP port held open by the test, as another program would hold it.
    final class HeldPort {
        let descriptor: Int32
        let port: UInt16

        init() throws {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                    guard bind(descriptor, pointer, length) == 0, listen(descriptor, 1) == 0 else { return -1 }
                    return getsockname(descriptor, pointer, &length)
                }
            }
            guard bound == 0 else {
                close(descriptor)
                throw POSIXError(.init(rawValue: errno) ?? .EIO)
            }
            self.descriptor = descriptor
            port = UInt16(bigEndian: address.sin_port)
        }

        deinit { close(descriptor) }
    }

    /// `http_listen` on a port another program holds: exit 1 naming the address, and the
    /// heartbeat says `failed` at once (it said `running` for 30 s, so `status` exited 0).
    @Test func anHTTPAddressInUseStopsTheDaemonAndItsHeartbeatSaysFailed() throws {
        let fixture = try DaemonFixture()
        defer { fixture.remove() }
        let held = try HeldPort()
        try fixture.writeRaw("""
            daemon:
              store: unused.sqlite
              heartbeat_interval: 1s
              http_listen: 127.0.0.1:\(held.port)
              trap_listen: 127.0.0.1:\(fixture.trapPort)
            elements:
              - {id: e1, address: 127.77.3.1, snmp_port: 16161, kind: access}

            """)
        let daemon = try RunningDaemon(fixture, environment: [:])
        let outcome = daemon.waitForExit(within: 20)
        #expect(!outcome.stillRunning)
        #expect(outcome.status == 1)
        #expect(outcome.log.contains("forewarn: stopped: cannot listen on daemon.http_listen 127.0.0.1:\(held.port): address already in use"),
                "log:\n\(outcome.log)")

        let report = try ForewarnBinary.run(["status", "--store", fixture.storePath])
        #expect(report.status == 3, "status:\n\(report.output)\(report.errors)")
        #expect(report.output.contains("FAILED (stopped on an error; its log says which), state failed"), "status:\n\(report.output)")
        let json = try ForewarnBinary.run(["status", "--store", fixture.storePath, "--json"])
        #expect(json.output.contains("\"state\" : \"failed\"") && json.output.contains("\"alive\" : false"), "\(json.output)")
    }
}
