import ForewarnModel
import Foundation
import Persistence
import Stores
import Testing

/// `forewarn line` with the real binary on a hand-built store and configuration, no daemon: the
/// line found by id, customer or address; its path; the open incident with the customer's call;
/// the month's outage and credit; refusals.
@Suite(.serialized) struct LineCommandTests {
    struct Fixture {
        let folder: String
        var config: String { folder + "/forewarn.yaml" }
        var store: String { folder + "/forewarn.sqlite" }
        // Whole milliseconds, as the store keeps instants.
        let started = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 120).rounded(.down))

        init() async throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-line-\(UUID())").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            // Nothing listens on this port: the command falls back to the store.
            let port = try FreePort.get(.tcp)
            try """
                daemon:
                  store: unused.sqlite
                  http_listen: 127.0.0.1:\(port)
                credit_policies:
                  - {id: home, rules: [{per_step: {step: 0.1, credit: 0.5}}]}
                contracts:
                  - {id: K1, monthly_fee: 49900, currency: CZK, availability_target: 99.5, credit_policy: home}
                elements:
                  - {id: core, address: 192.0.2.1, kind: core}
                  - {id: agg1, address: 192.0.2.2, kind: aggregation, upstream: [core]}
                  - {id: agg2, address: 192.0.2.3, kind: aggregation, upstream: [core]}
                  - {id: acc1, name: Access Holešovice, address: 192.0.2.4, kind: access, upstream: [agg1, agg2]}
                customers:
                  - {id: C1, name: Pekárna U Nádraží}
                  - {id: C2, name: Autoservis}
                lines:
                  - {id: L1, customer: C1, element: acc1, probe: icmp, target: 198.51.100.1, contract: K1}
                  - {id: L2, customer: C2, element: acc1, probe: icmp, target: 198.51.100.2, contract: K1}
                  - {id: L3, customer: C2, element: agg2, probe: none, contract: K1}

                """.write(toFile: config, atomically: true, encoding: .utf8)
            let store = try StoreFactory.open(self.store, access: .create)
            let header = Incident(id: IncidentID(1), root: IncidentRoot(subject: .element("acc1"), kind: .unreachable),
                                  group: "element:acc1", severity: .minor, proactive: true, startedAt: started,
                                  detectedAt: started.addingTimeInterval(20), acknowledgedAt: started.addingTimeInterval(60),
                                  updatedAt: started.addingTimeInterval(60))
            let change = IncidentChange(
                kind: .open, incident: header,
                lines: [LineInterval(line: "L1", customer: "C1", start: started), LineInterval(line: "L2", customer: "C2", start: started)],
                timeline: [TimelineEntry(at: started.addingTimeInterval(20), kind: "opened", detail: "acc1 unreachable"),
                           TimelineEntry(at: started.addingTimeInterval(90), kind: "customer-call",
                                         detail: "customer C2 called about line L2 at \(RFC3339.format(started)) (cli)")])
            try await store.record(CorrelationBatch(changes: [change], at: started.addingTimeInterval(90)))
            try await store.appendTransitions([
                StateTransition(subject: .element("acc1"), from: .up, to: .down, at: started, evidence: "3 polls failed"),
                StateTransition(subject: .line("L1"), from: .up, to: .down, at: started, evidence: "icmp 198.51.100.1: 3 rounds lost"),
            ])
        }

        func line(_ arguments: [String]) throws -> ForewarnBinary.Result {
            try ForewarnBinary.run(["line", "--config", config, "--store", store] + arguments)
        }

        func remove() { try? FileManager.default.removeItem(atPath: folder) }
    }

    @Test func aLineInAnOpenIncidentShowsItsStatePathIncidentAndMonth() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let result = try fixture.line(["L1"])
        #expect(result.status == 0, "\(result.errors)")
        let text = result.output
        for line in text.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        #expect(text.hasPrefix("line L1, customer C1 Pekárna U Nádraží\n"), "\(text)")
        #expect(text.contains("now: DOWN since \(RFC3339.format(fixture.started))"), "\(text)")
        #expect(text.contains("  (the daemon did not answer: the last change the store recorded)\n"))
        #expect(text.contains("  acc1 Access Holešovice (access): down since \(RFC3339.format(fixture.started))\n    also via agg2\n"))
        #expect(text.contains("  agg1 (aggregation): unknown\n  core (core): unknown\n"), "\(text)")
        #expect(text.contains("KNOWN OUTAGE: incident #1 (minor), root acc1 unreachable\n"))
        #expect(text.contains("  customer has not called about this line yet\n"))
        #expect(text.contains("log the call:\n  forewarn report-call --line L1 --note '...'\n"))

        let called = try fixture.line(["--address", "198.51.100.2", "--json"])
        #expect(called.status == 0, "\(called.errors)")
        let views = try #require(try JSONSerialization.jsonObject(with: Data(called.output.utf8)) as? [[String: Any]])
        #expect(views.count == 1)
        let view = try #require(views.first)
        #expect((view["line"] as? [String: Any])?["id"] as? String == "L2")
        let incident = try #require(view["incident"] as? [String: Any])
        #expect(incident["customer_called"] as? Bool == true && incident["id"] as? Int == 1)
        // No transition recorded for L2: its state is not known without the daemon.
        #expect((view["state"] as? [String: Any])?["health"] as? String == "unknown")
        let month = try #require(view["month"] as? [String: Any])
        let zone = TimeZone(identifier: "UTC")!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month], from: Date())
        #expect(month["period"] as? String == String(format: "%04d-%02d", parts.year!, parts.month!))
        #expect((month["outages"] as? [[String: Any]])?.count == 1)
        #expect(month["currency"] as? String == "CZK" && month["credit_minor_units"] is Int, "\(month)")
    }

    @Test func aCustomerShowsEachLineAndUnknownNamesAreRefused() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let customer = try fixture.line(["--customer", "C2"])
        #expect(customer.status == 0, "\(customer.errors)")
        #expect(customer.output.contains("line L2, customer C2") && customer.output.contains("line L3, customer C2"))
        #expect(customer.output.contains("now: UNPROBED"))
        #expect(customer.output.contains("no open incident covers this line"))
        let unknown = try fixture.line(["L99"])
        #expect(unknown.status == 1 && unknown.errors.contains("no line for line 'L99' in \(fixture.config)"), "\(unknown.errors)")
        let both = try fixture.line(["L1", "--customer", "C1"])
        #expect(both.status == 64 && both.errors.contains("name exactly one of LINE, --customer or --address"))
        let address = try fixture.line(["--address", "not-an-address"])
        #expect(address.status == 64)
    }
}
