#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ForewarnModel
import Logging
@testable import SNMP
import Synchronization
import Testing

/// Log lines, kept for the test to read.
final class CapturedLog: Sendable {
    let lines = Mutex<[(level: Logger.Level, message: String, metadata: Logger.Metadata)]>([])

    struct Handler: LogHandler {
        let log: CapturedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.lines.withLock { $0.append((event.level, event.message.description, event.metadata ?? [:])) }
        }
    }

    var logger: Logger { Logger(label: "test") { _ in Handler(log: self) } }

    func messages(containing text: String) -> [String] {
        lines.withLock { $0.map(\.message).filter { $0.contains(text) } }
    }
}

@Suite("A trap flood is a few log lines, not one per datagram", .serialized)
struct TrapFloodLogTests {
    /// Sends `count` datagrams of junk from `sources` loopback addresses (127.0.1.x).
    static func flood(port: UInt16, count: Int, sources: Int) throws {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        for index in 0..<sources {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var source = sockaddr_in()
            source.sin_family = sa_family_t(AF_INET)
            source.sin_addr.s_addr = (UInt32(0x7f00_0100) + UInt32(2 + index)).bigEndian
            let bound = withUnsafePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, bound == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            sockets.append(fd)
        }
        var destination = sockaddr_in()
        destination.sin_family = sa_family_t(AF_INET)
        destination.sin_port = port.bigEndian
        destination.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var generator = SystemRandomNumberGenerator()
        for index in 0..<count {
            var bytes = (0..<Int.random(in: 9...200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes[0] = 0x30
            bytes[1] = 0x82
            _ = withUnsafePointer(to: &destination) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(sockets[index % sources], bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if index % 100 == 99 { usleep(5_000) } // let the socket buffer drain
        }
    }

    /// 1,500 junk datagrams from 50 addresses, over the rate limit, and traps with a community
    /// not accepted (the real snmptrap): each reason is logged once, then summarised, however
    /// many sources (per source and minute, this was 50 lines for each reason).
    @Test func junkFromFiftySourcesAndWrongCommunitiesAreOneLineEachAndASummary() async throws {
        if TrapListenerTests.snmptrapMissing { print("skipped: snmptrap is not installed (apt-get install snmp)"); return }
        let captured = CapturedLog()
        let engine = try SNMPEngine(logger: captured.logger)
        defer { engine.shutdown() }
        let port = TestAgent.freeUDPPort()
        let listener = try await engine.listenForTraps(on: SocketEndpoint("127.0.0.1:\(port)")!, ratePerSecond: 5, burst: 20,
                                                       communities: [Secret("n0c-traps")]) { _ in }
        try Self.flood(port: port, count: 1_500, sources: 50)
        for _ in 0..<3 {
            #expect(try TestAgent.run("snmptrap", ["-v", "2c", "-c", "public", "127.0.0.1:\(port)", "", "1.3.6.1.6.3.1.1.5.3"]) == 0)
        }
        let counters = await listener.counters()
        listener.close()
        listener.log.flush()

        #expect(counters.undecodable > 50 && counters.rateLimited > 50 && counters.wrongCommunity == 3, "\(counters)")
        for reason in ["undecodable or unauthenticated SNMP message", "trap rate limit exceeded",
                       "trap with a community not in snmp.trap_communities"] {
            let lines = captured.messages(containing: reason)
            #expect(lines.count == 2, "\(reason): \(lines)")
            #expect(lines.first?.hasSuffix("(more are counted and summarised once a minute)") == true, "\(lines)")
        }
        let summary = captured.lines.withLock { $0 }.first { $0.message.hasPrefix("trap rate limit exceeded: dropping: ") }
        #expect(summary?.metadata["sources"] == "50", "\(String(describing: summary))")
        #expect(captured.lines.withLock { $0 }.count <= 8, "\(captured.lines.withLock { $0.map(\.message) })")
    }

    /// net-snmp's own messages (snmp_log) reach the logger instead of stderr.
    @Test func netSNMPMessagesGoThroughTheLogger() {
        NetSNMPLibrary.initialise()
        let before = NetSNMPLibrary.routed.withLock { $0 }
        NetSNMPLibrary.logThroughNetSNMP(priority: LOG_WARNING, "Forewarn test message\n")
        NetSNMPLibrary.logThroughNetSNMP(priority: LOG_WARNING, "Forewarn test message\n")
        #expect(NetSNMPLibrary.routed.withLock { $0 } >= before + 2)
    }
}
