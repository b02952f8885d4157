import ForewarnModel
import Foundation
import Persistence
import Reports
import Testing

/// What a customer or a ticketing system wrote reaches the operator's terminal inert: control
/// characters in notes are shown escaped, never sent raw.
@Suite struct TerminalOutputTests {
    @Test func controlCharactersInNotesAreEscapedInTheText() {
        let start = Date(unixMilliseconds: 1_800_000_000_000)
        let incident = Incident(id: IncidentID(7), root: IncidentRoot(subject: .line("L1"), kind: .customerReport),
                                group: "line:L1", severity: .minor, startedAt: start, detectedAt: start, updatedAt: start)
        let note = "no dial tone\u{1B}[2J\u{1B}]0;pwned\u{07}\rCLEARED\nsecond line\u{9B}31m\u{7F}"
        let detail = IncidentDetail(record: IncidentRecord(incident: incident, lines: []),
                                    timeline: [TimelineEntry(at: start, kind: "call", detail: note)])
        let text = IncidentList.detail(detail)
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x0D || $0.value == 0x9B
                                                 || $0.value == 0x7F })
        #expect(text.contains(#"call: no dial tone\x1b[2J\x1b]0;pwned\x07\rCLEARED\nsecond line\u{9b}31m\x7f"#), "\(text)")
    }
}
