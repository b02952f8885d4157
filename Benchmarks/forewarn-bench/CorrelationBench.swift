import Correlation
import ForewarnModel
import Foundation
import Persistence
import Stores
import Ticketing

/// The correlator under an operator-sized topology: 2,000 elements (1 core, 40 aggregation,
/// 1,959 access) and 200,000 lines. Virtual clock: the figures are the correlator's own
/// work, with the actions built (one change carrying 200,000 line intervals) but not written.
enum CorrelationBench {
    static let lineCount = 200_000
    static let epoch = Date(unixMilliseconds: 1_800_000_000_000)

    static func topology() -> Topology {
        let (elements, lines) = inventory()
        return Topology(elements: elements, lines: lines)
    }

    static func inventory() -> (elements: [Element], lines: [Line]) {
        var elements = [Element(id: "core1", name: "core1", address: .v4(1), kind: .core)]
        for aggregation in 0..<40 {
            elements.append(Element(id: ElementID("agg\(aggregation)"), name: "agg\(aggregation)",
                                    address: .v4(UInt32(100 + aggregation)), kind: .aggregation, upstream: ["core1"]))
        }
        for access in 0..<1_959 {
            // Every tenth access element is dual-homed to two aggregation routers.
            var upstream = [ElementID("agg\(access % 40)")]
            if access % 10 == 0 { upstream.append(ElementID("agg\((access + 1) % 40)")) }
            elements.append(Element(id: ElementID("acc\(access)"), name: "acc\(access)",
                                    address: .v4(UInt32(1000 + access)), kind: .access, upstream: upstream))
        }
        var lines: [Line] = []
        lines.reserveCapacity(lineCount)
        for line in 0..<lineCount {
            let element = ElementID("acc\(line % 1_959)")
            let port = PortReference.ifIndex(line / 1_959 % 48 + 1)
            let target = IPAddress.v4(UInt32(0x0A00_0000 + line))
            let service: ServiceKind = line % 4 == 0 ? .voice : .data
            lines.append(Line(id: LineID("L\(line)"), customer: CustomerID("C\(line / 2)"), element: element, port: port,
                              probe: .icmp, target: target, contract: nil, service: service))
        }
        return (elements, lines)
    }

    static func observation(_ subject: Subject, _ health: Health, at seconds: Double) -> Observation {
        let date = epoch.addingTimeInterval(seconds)
        return Observation(subject: subject, kind: .state(health), since: date, observedAt: date, source: .probe,
                           detail: "bench")
    }

    /// The core fails and 200,000 line-down observations arrive in one burst, the lines first
    /// (the worst order: every one is held until the core is known); time from the first
    /// observation to the single settled incident.
    static func burst() throws {
        let buildStart = ContinuousClock.now
        let topology = topology()
        let build = seconds(ContinuousClock.now - buildStart)
        var best = Double.infinity
        var settleBest = Double.infinity
        var lastChanges: [IncidentChange] = []
        var restored: Double = 0
        for round in 0..<3 {
            var correlator = Correlator(topology: topology, epoch: VirtualInstant(), epochDate: epoch)
            let observations = (0..<lineCount).map { observation(.line(LineID("L\($0)")), .down, at: 0.1) }
            let core = observation(.element("core1"), .down, at: 0)
            let start = ContinuousClock.now
            var changes = 0
            var lines = 0
            for item in observations {
                for action in correlator.handle(.observation(item), now: .seconds(0.2)) {
                    if case .incident = action { changes += 1 }
                }
            }
            for action in correlator.handle(.observation(core), now: .seconds(0.3)) {
                if case .incident(let change) = action { lines += change.lines.count }
            }
            let settleStart = ContinuousClock.now
            lastChanges = []
            for action in correlator.tick(now: .seconds(10)) {
                if case .incident(let change) = action {
                    lines += change.lines.count
                    lastChanges.append(change)
                }
            }
            let end = ContinuousClock.now
            best = min(best, seconds(end - start))
            settleBest = min(settleBest, seconds(end - settleStart))
            let open = correlator.openIncidents
            guard open.count == 1, open[0].root.subject == .element("core1"),
                  correlator.openLines(of: open[0].id).count == lineCount, lines == lineCount
            else {
                throw BenchError("expected one incident rooted at core1 with \(lineCount) lines, got \(open.count) "
                                 + "incidents, \(lines) line intervals")
            }
            guard round == 2 else { continue }
            // The restore: the core answers again, then every line's probe; the incident resolves
            // with every interval ended.
            let restoreStart = ContinuousClock.now
            var ended = 0
            var resolved = 0
            var actions = correlator.handle(.observation(observation(.element("core1"), .up, at: 20)), now: .seconds(20))
            for line in 0..<lineCount {
                actions += correlator.handle(.observation(observation(.line(LineID("L\(line)")), .up, at: 21)),
                                             now: .seconds(21))
            }
            actions += correlator.tick(now: .seconds(40))
            for case .incident(let change) in actions {
                ended += change.lines.filter { $0.end != nil }.count
                if change.kind == .resolve { resolved += 1 }
            }
            restored = seconds(ContinuousClock.now - restoreStart)
            guard resolved == 1, ended == lineCount, correlator.openIncidents.isEmpty else {
                throw BenchError("expected the incident resolved with \(lineCount) lines ended, got \(resolved) resolved, "
                                 + "\(ended) ended")
            }
        }
        let persisted = try persist(lastChanges)
        print(String(format: "correlation-burst: topology of 2,000 elements / %d lines built in %.3f s", lineCount, build))
        print(String(format: "correlation-burst: the settled incident (%d line intervals, outbox row) written to a "
                     + "fresh SQLite store in %.3f s, one transaction", lineCount, persisted))
        print(String(format: "correlation-burst: core down + %d line-down observations → 1 incident, %d lines, "
                     + "in %.3f s (best of 3; of which the settling tick %.3f s); peak RSS %d MiB",
                     lineCount, lineCount, best, settleBest, peakRSSMiB()))
        print(String(format: "correlation-burst: the restore (core up, then %d line-ups) → the incident resolved, every "
                     + "interval ended, in %.3f s", lineCount, restored))
        print(String(format: "target: under 1 s and under 500 MB — %@", best < 1 && peakRSSMiB() < 500 ? "met" : "NOT MET"))
        print("bench: correlation-burst ours=\(String(format: "%.3f", best)) peer=- unit=s")
    }

    /// Writes the changes as the daemon does (one transaction with the outbox entries the ticketing
    /// stage makes of them).
    static func persist(_ changes: [IncidentChange]) throws -> Double {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forewarn-bench-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try StoreFactory.open(folder + "/bench.sqlite", access: .create)
        let hooks = [Hook(id: "rt", target: .webhook(url: "http://127.0.0.1:1/"), events: Hook.Event.allCases)]
        var announcer = TicketAnnouncer()
        let batch = CorrelationBatch(changes: changes, outbox: announcer.announce(changes, hooks: hooks), at: epoch)
        let result = Result<Double, StoreError>.Box()
        let done = DispatchSemaphore(value: 0)
        Task {
            let start = ContinuousClock.now
            do throws(StoreError) {
                try await store.record(batch)
                result.value = .success(seconds(ContinuousClock.now - start))
            } catch {
                result.value = .failure(error)
            }
            done.signal()
        }
        done.wait()
        return try result.value!.get()
    }

    /// Independent line faults (each its own incident: its element answers) at 10,000 per
    /// virtual second for 30 virtual seconds, each line back after 10 s; ticks every 100 ms as
    /// the daemon does. Throughput is faults handled per second of wall-clock time.
    static func sustained() throws {
        let topology = topology()
        var correlator = Correlator(topology: topology, epoch: VirtualInstant(), epochDate: epoch)
        let perSecond = 10_000
        let duration = 30
        let stepsPerSecond = 10
        let perStep = perSecond / stepsPerSecond
        var opened = 0
        var resolved = 0
        var faults = 0
        var upQueue: [(at: Int, line: Int)] = []
        var upHead = 0
        let start = ContinuousClock.now
        for step in 0..<(duration + 12) * stepsPerSecond {
            let time = Double(step) / Double(stepsPerSecond)
            let now = VirtualInstant.seconds(time)
            var actions: [CorrelatorAction] = []
            if step < duration * stepsPerSecond {
                for index in 0..<perStep {
                    let line = ((step * perStep + index) &* 7_919) % lineCount
                    actions += correlator.handle(.observation(observation(.line(LineID("L\(line)")), .down, at: time)),
                                                 now: now)
                    upQueue.append((step + 10 * stepsPerSecond, line))
                    faults += 1
                }
                if step % stepsPerSecond == 0 {  // the elements asked about answer
                    for element in stride(from: 0, to: 1_959, by: 1) where element % 7 == step / stepsPerSecond % 7 {
                        actions += correlator.handle(.observation(observation(.element(ElementID("acc\(element)")), .up,
                                                                              at: time)), now: now)
                    }
                }
            }
            while upHead < upQueue.count, upQueue[upHead].at <= step {
                actions += correlator.handle(.observation(observation(.line(LineID("L\(upQueue[upHead].line)")), .up,
                                                                      at: time)), now: now)
                upHead += 1
            }
            actions += correlator.tick(now: now)
            for action in actions {
                guard case .incident(let change) = action else { continue }
                if change.announce.contains(.open) { opened += 1 }
                if change.announce.contains(.resolve) { resolved += 1 }
            }
        }
        let wall = seconds(ContinuousClock.now - start)
        let rate = Double(faults) / wall
        guard opened == faults, resolved == faults, correlator.openIncidents.isEmpty else {
            throw BenchError("expected \(faults) incidents opened and resolved, got \(opened) opened, \(resolved) resolved")
        }
        print(String(format: "correlation-sustained: %d independent line faults over %d virtual s (each opened and "
                     + "resolved as its own incident, with its recovery) in %.3f s of work: %.0f faults/s; peak RSS %d MiB",
                     faults, duration, wall, rate, peakRSSMiB()))
        print(String(format: "target: 10,000 faults/s sustained — %@ (%.1f× the target)", rate >= 10_000 ? "met" : "NOT MET",
                     rate / 10_000))
        print("bench: correlation-sustained ours=\(String(format: "%.0f", rate)) peer=- unit=faults/s")
    }
}

extension Result {
    /// Carries a result out of a task to the synchronous benchmark driver.
    final class Box: @unchecked Sendable {
        // @unchecked: written once by the task before `done.signal()`, read after `done.wait()`;
        // the semaphore orders the two accesses.
        var value: Result?
    }
}
