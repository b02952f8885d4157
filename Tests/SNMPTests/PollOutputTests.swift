import Foundation
@testable import SNMP
import Testing

/// `forewarn poll --json` is written a result at a time; the document is the same, byte for
/// byte, as encoding it whole.
@Suite("forewarn poll output, streamed")
struct PollOutputTests {
    struct Document: Encodable {
        var results: [OneShotPoll.Result]
        var summary: OneShotPoll.Summary
    }

    static func whole(_ results: [OneShotPoll.Result], _ summary: OneShotPoll.Summary) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try! encoder.encode(Document(results: results, summary: summary)), as: UTF8.self)
    }

    @Test(arguments: [0, 1, 3])
    func theStreamedDocumentIsTheWholeOne(count: Int) throws {
        let answered = OneShotPoll.Result(
            target: "agg1", address: "127.0.0.1:161", answered: true, timedOut: false, sysUpTime: 360_000, sysName: "agg1",
            ports: [OneShotPoll.Port(ifIndex: 1, ifName: "lo", adminStatus: "up", operStatus: "up", inErrors: 0, outErrors: nil)],
            error: nil, milliseconds: 3)
        let silent = OneShotPoll.Result(target: "ghost", address: "127.0.0.9:161", answered: false, timedOut: true,
                                        sysUpTime: nil, sysName: nil, ports: [], error: "no response", milliseconds: 100)
        let results = Array([answered, silent, answered].prefix(count))
        let summary = OneShotPoll.Summary(targets: count, answered: results.filter(\.answered).count,
                                          timedOut: results.filter(\.timedOut).count, failed: 0, elapsedSeconds: 0.25)
        var stream = OneShotPoll.JSONStream()
        var text = stream.opening
        for result in results { text += stream.element(result) }
        text += stream.closing(summary)
        #expect(text == Self.whole(results, summary))
        #expect(OneShotPoll.json(results, summary) == text)
    }
}
