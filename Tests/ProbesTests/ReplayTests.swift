import Foundation
import ForewarnModel
import Testing
@testable import Probes

/// Savefiles replayed through the reply parsers (pcap_open_offline): traffic recorded with
/// `forewarn probe --capture`, and hand-made malformed frames (fixtures/make-malformed.py).
@Suite("Reply parsers on recorded savefiles")
struct ReplayTests {
    static func fixture(_ name: String) -> String {
        Bundle.module.path(forResource: "fixtures", ofType: nil)! + "/" + name
    }

    static func verdicts(_ name: String) throws -> [String] {
        try Savefile.read(path: fixture(name)).frames.map { ReplyParser.classify($0.bytes).description }
    }

    @Test("recorded ARP traffic on a bridged segment: the replies of the two CPEs present, our own requests set aside")
    func recordedARP() throws {
        let contents = try Savefile.read(path: Self.fixture("arp-segment.pcap"))
        #expect(contents.isEthernet && contents.problem == nil)
        let verdicts = contents.frames.map { ReplyParser.classify($0.bytes) }
        let replies = verdicts.compactMap { verdict -> String? in
            if case .arpReply(let sender, _) = verdict { return sender }
            return nil
        }
        #expect(replies == ["198.18.1.11", "198.18.1.12", "198.18.1.11", "198.18.1.12"])
        #expect(verdicts.filter { $0 == .rejected("ARP operation 1 is not a reply") }.count == 6,
                "3 targets × 2 requests, 198.18.1.13 never answered")
    }

    @Test("recorded ICMP and ICMPv6 echoes on loopback: replies parsed, requests rejected")
    func recordedICMP() throws {
        let verdicts = try Self.verdicts("icmp-loopback.pcap")
        #expect(verdicts.filter { $0.hasPrefix("echo reply from 127.0.0.1") }.count == 2)
        #expect(verdicts.filter { $0.hasPrefix("echo reply from ::1") }.count == 2)
        #expect(verdicts.filter { $0.hasPrefix("rejected: ICMP type 8 ") || $0.hasPrefix("rejected: ICMP type 128 ") }.count == 4)
    }

    @Test("malformed and truncated frames are rejected with the reason, good ones still accepted")
    func malformedFrames() throws {
        #expect(try Self.verdicts("malformed.pcap") == [
            "ARP reply: 198.18.1.11 is at 02:00:00:00:00:aa",
            "rejected: shorter than an Ethernet header (10 bytes)",
            "rejected: truncated ARP packet (16 of 28 bytes)",
            "rejected: ARP hardware type 6 is not Ethernet",
            "rejected: ARP operation 1 is not a reply",
            "rejected: ARP address lengths 8/4 are not 6/4",
            "rejected: ARP reply from a zero or multicast hardware address",
            "ARP reply: 198.18.1.12 is at 02:00:00:00:00:aa",
            "rejected: EtherType 0x88cc is not ARP",
            "echo reply from 127.0.0.1 id 4660 seq 7",
            "rejected: bad ICMP checksum",
            "rejected: IPv4 total length 200 does not fit the 44 bytes captured",
            "rejected: echo reply to another program",
            "rejected: ICMP type 3 code 0 is not an echo reply",
            "rejected: echo reply without Forewarn's payload",
            "rejected: shorter than an IPv6 header",
            "rejected: truncated ARP packet (16 of 28 bytes)",
        ])
    }

    @Test("a savefile whose last record is cut short yields the records before it and says why it stopped")
    func truncatedFile() throws {
        let contents = try Savefile.read(path: Self.fixture("truncated-file.pcap"))
        #expect(contents.frames.count == 1)
        // 24-byte file header, then record 1 (16-byte header and 42 bytes): record 2 starts at 82
        // and the file ends 10 bytes before it does.
        #expect(contents.truncation?.record == 2)
        #expect(contents.truncation?.offset == 82)
        #expect(contents.problem == "record 2 at byte offset 82 is cut short: "
                + "truncated dump file; tried to read 42 captured bytes, only got 32")
    }

    @Test("a file that is not a savefile is a clear error")
    func notASavefile() {
        #expect(throws: ProbeError.self) { try Savefile.read(path: Self.fixture("make-malformed.py")) }
    }

    @Test("every prefix of a good reply is rejected cleanly, never accepted or crashing")
    func everyTruncation() throws {
        let frames = try Savefile.read(path: Self.fixture("malformed.pcap")).frames
        for good in [frames[0].bytes, frames[9].bytes] {
            for length in 0..<good.count {
                let verdict = ReplyParser.classify(Array(good.prefix(length)))
                guard case .rejected = verdict else {
                    Issue.record("a \(length)-byte prefix was accepted: \(verdict)")
                    continue
                }
            }
        }
    }
}
