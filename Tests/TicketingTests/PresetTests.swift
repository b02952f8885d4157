import ForewarnConfig
import ForewarnModel
import Foundation
import Persistence
import Testing
@testable import Ticketing

/// Every ready-made hook in config/hooks/ loads, compiles, and renders requests whose JSON
/// bodies parse, for every event it takes — with a name full of quotes and line breaks.
@Suite struct PresetTests {
    static let presets: [String] = {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/hooks").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".yaml") }
            .sorted().map { folder + "/" + $0 }
    }()

    @Test func everyPresetIsTested() {
        #expect(Set(Self.presets.map { ($0 as NSString).lastPathComponent })
                == ["request-tracker.yaml", "jira.yaml", "pagerduty.yaml", "slack.yaml", "generic.yaml"])
    }

    @Test(arguments: presets) func loadsCompilesAndRendersValidRequests(_ preset: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-preset-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for name in ["token", "routing_key", "webhook_url"] {
            try (name == "webhook_url" ? "http://127.0.0.1:1/hook" : "s3cret-\(name)").write(
                toFile: folder + "/\(name)", atomically: true, encoding: .utf8)
        }
        let yaml = """
            elements:
              - {id: agg1, name: "Brno \\"north\\" agg", address: 192.0.2.1, kind: aggregation}
            hooks:
              - id: under-test
                preset: \(preset)
                settings: {url: "http://127.0.0.1:1", queue: NOC, project: NOC, issue_type: Incident, resolve_transition: "31"}
                secrets: {token: {file: token}, routing_key: {file: routing_key}, webhook_url: {file: webhook_url}}
            """
        let configuration = try ConfigLoader.parse(yaml: yaml, file: folder + "/forewarn.yaml", baseDirectory: folder)
        let (compiled, problems) = HookTemplates.compile(configuration.hooks)
        #expect(problems.isEmpty, "\(problems)")
        let hook = try #require(compiled["under-test"])
        guard case .webhook(let headers, let requests, _) = hook.target else {
            Issue.record("\(preset) is not a webhook")
            return
        }
        var announcer = TicketAnnouncer(inventory: TicketInventory(elements: configuration.elements))
        let epoch = Date(timeIntervalSince1970: 1_800_000_000)
        let incident = Incident(id: IncidentID(42), root: IncidentRoot(subject: .element("agg1"), kind: .unreachable),
                                group: "element:agg1", severity: .major, startedAt: epoch, detectedAt: epoch, updatedAt: epoch)
        let change = IncidentChange(kind: .open, incident: incident,
                                    lines: [LineInterval(line: "L1", customer: "C1", start: epoch)],
                                    timeline: [TimelineEntry(at: epoch, kind: "opened", detail: "cut \"fibre\"\nat km 12\\3")],
                                    announce: [.open])
        let payload = try #require(announcer.announce([change], hooks: [hook.hook]).first?.payload)
        for (kind, request) in requests {
            let item = OutboxItem(id: 7, entry: OutboxEntry(incident: IncidentID(42), hook: "under-test",
                                                            event: kind == .lookup ? .open : Hook.Event(rawValue: kind.rawValue)!,
                                                            payload: payload),
                                  state: .pending, createdAt: epoch, attempts: 0, nextAttemptAt: epoch)
            let ticket = Ticket(incident: IncidentID(42), hook: "under-test", ticketID: "NOC-7", state: "new",
                                openedAt: epoch, updatedAt: epoch)
            let document = EventDocument(item: item, hook: hook.hook, ticket: kind == .open || kind == .lookup ? nil : ticket)
            let rendered = try TicketDeliverer<ContinuousClock>.render(request, headers: headers, document: document).get()
            #expect(URL(string: rendered.url) != nil, "\(preset) \(kind): \(rendered.url)")
            #expect(rendered.headers.contains { $0.name == "Idempotency-Key" && $0.value == "forewarn-42-under-test-\(item.entry.event.rawValue)-7" })
            if let body = rendered.body, request.spec.bodyType == .json {
                let object = try? JSONSerialization.jsonObject(with: Data(body.utf8))
                #expect(object != nil, "\(preset) \(kind) body is not JSON:\n\(body)")
            }
            if kind == .update || kind == .resolve, rendered.url.contains("ticket") || rendered.url.contains("issue") {
                #expect(rendered.url.contains("NOC-7") || rendered.body?.contains("NOC-7") == true
                        || !request.spec.url.text.contains("ticket.id"), "\(preset) \(kind) does not name the ticket")
            }
        }
    }
}
