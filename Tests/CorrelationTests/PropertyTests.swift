import Correlation
import ForewarnModel
import Foundation
import Testing

/// Random topologies and random failure sets, from a seed: each case prints its seed when it
/// fails, and `FOREWARN_SEED=N` reruns just that one.
@Suite struct PropertyTests {
    static var seeds: [UInt64] {
        if let text = ProcessInfo.processInfo.environment["FOREWARN_SEED"], let seed = UInt64(text) { return [seed] }
        return Array(1...300)
    }

    @Test func rootsAreTheMinimalFailedElementsAndEveryLineIsInOneIncident() {
        for seed in Self.seeds {
            var random = SplitMix64(seed: seed)
            let network = RandomNetwork(random: &random)
            let failure = network.randomFailure(random: &random)
            let result = network.play(failure.observations, order: &random)
            let reference = network.reference(failure)

            let elementRoots = Set(result.incidents.compactMap { incident -> ElementID? in
                if case .element(let id) = incident.root.subject, incident.root.kind == .unreachable { return id }
                return nil
            })
            #expect(elementRoots == reference.minimalFailed, "seed \(seed)")
            let lineRoots = Set(result.incidents.compactMap { incident -> LineID? in
                if case .line(let id) = incident.root.subject { return id }
                return nil
            })
            #expect(lineRoots == reference.independentLines, "seed \(seed)")

            var seen: [LineID: Int] = [:]
            for incident in result.incidents {
                for line in incident.lines { seen[line, default: 0] += 1 }
            }
            #expect(seen.values.allSatisfy { $0 == 1 }, "seed \(seed): a line in several open incidents")
            #expect(Set(seen.keys) == reference.affectedLines, "seed \(seed)")
            let portGroups = Set(result.incidents.compactMap { incident -> ElementID? in
                switch (incident.root.subject, incident.root.kind) {
                case (.port(let element, _), .down), (.element(let element), .lineCard): return element
                default: return nil
                }
            })
            #expect(portGroups == reference.portGroups, "seed \(seed)")
            for incident in result.incidents {
                guard case .element(let root) = incident.root.subject else { continue }
                for line in incident.lines {
                    #expect(reference.rootOfLine[line] == root, "seed \(seed): line \(line) under \(root)")
                }
            }
        }
    }

    @Test func anyOrderWithinTheHoldDownGivesTheSameIncidents() {
        for seed in Self.seeds {
            var random = SplitMix64(seed: seed)
            let network = RandomNetwork(random: &random)
            let failure = network.randomFailure(random: &random)
            var firstOrder = SplitMix64(seed: seed &* 7919)
            var secondOrder = SplitMix64(seed: seed &* 104_729 &+ 1)
            let first = network.play(failure.observations, order: &firstOrder)
            let second = network.play(failure.observations, order: &secondOrder)
            #expect(first.shape == second.shape, "seed \(seed)")
        }
    }
}

extension PropertyTests {
    /// Random failures and recoveries over time (bounces included): what the actions say
    /// (the store's view) always matches the correlator's own state, and once everything is
    /// back up every incident is resolved with every interval ended.
    @Test func whatIsPersistedMatchesTheStateAndEverythingResolvesWhenAllIsUp() {
        for seed in Self.seeds {
            var random = SplitMix64(seed: seed &+ 0x5EED)
            let network = RandomNetwork(random: &random)
            var subjects: [Subject] = network.elements.map { .element($0.id) } + network.lines.map { .line($0.id) }
            for element in network.elements where Bool.random(using: &random) {
                subjects.append(.port(element.id, .ifIndex(Int.random(in: 1...3, using: &random))))
            }
            var timeline = Timeline(topology: network.topology)
            var time = 0.0
            var down: Set<Subject> = []
            for _ in 0..<Int.random(in: 10...60, using: &random) {
                time += Double.random(in: 0...4, using: &random)
                let subject = subjects.randomElement(using: &random)!
                let health: Health = down.contains(subject) ? .up : (Int.random(in: 0..<5, using: &random) == 0 ? .degraded : .down)
                if health == .up { down.remove(subject) } else { down.insert(subject) }
                timeline.observe(subject, health, at: time)
                if Int.random(in: 0..<4, using: &random) == 0 { timeline.advance(to: time + 5) }
                time = max(time, timeline.now.offset.inSeconds)
                #expect(consistent(timeline), "seed \(seed) at t=\(time)")
                if Int.random(in: 0..<12, using: &random) == 0 {
                    // kill -9: a new correlator from what was persisted; the sources tell again
                    // what is down (what was still in its hold-down is known only from them).
                    var restarted = Timeline(topology: network.topology)
                    restarted.ledger = timeline.ledger
                    restarted.now = timeline.now
                    let next = (timeline.ledger.incidents.keys.map(\.rawValue).max() ?? 0) + 1
                    // The store's id allocation: ids after every one it holds.
                    restarted.correlator.supplyIncidentIDs(next ..< next + 1_000_000)
                    restarted.apply(restarted.correlator.recover(timeline.ledger.snapshots, now: restarted.now))
                    timeline = restarted
                    #expect(consistent(timeline), "seed \(seed) after restart at t=\(time)")
                    for subject in down.sorted(by: { $0.identifier < $1.identifier }) {
                        timeline.observe(subject, .down, at: time)
                    }
                    // The confirmations recovery asked for come back: what is no longer down says so.
                    let restored = timeline.ledger.snapshots.flatMap { $0.faults.map(\.subject) }
                    for subject in restored where !down.contains(subject) {
                        timeline.observe(subject, .up, at: time)
                    }
                }
            }
            timeline.advance(to: time + 10)
            #expect(consistent(timeline), "seed \(seed)")
            for subject in down.sorted(by: { $0.identifier < $1.identifier }) {
                time += 0.5
                timeline.observe(subject, .up, at: time)
            }
            timeline.advance(to: time + 2_000)  // past the flap quiet period
            #expect(timeline.open.isEmpty, "seed \(seed): \(timeline.open.map(\.root))")
            for incident in timeline.all {
                #expect(timeline.ledger.lines(of: incident.id).allSatisfy { $0.end != nil }, "seed \(seed)")
            }
        }
    }

    func consistent(_ timeline: Timeline) -> Bool {
        let stored = timeline.open.map(\.id)
        let live = timeline.correlator.openIncidents.map(\.id)
        guard stored == live else { return false }
        return stored.allSatisfy { id in
            timeline.ledger.openLineIDs(of: id).map(\.rawValue).sorted()
                == timeline.correlator.openLines(of: id).map(\.rawValue).sorted()
        }
    }
}


/// A small, fast, reproducible generator (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct RandomNetwork {
    var elements: [Element] = []
    var lines: [Line] = []
    var topology: Topology

    init(random: inout SplitMix64) {
        let count = Int.random(in: 3...24, using: &random)
        let cores = Int.random(in: 1...2, using: &random)
        for index in 0..<count {
            var upstream: [ElementID] = []
            if index >= cores {
                upstream.append(ElementID("e\(Int.random(in: 0..<index, using: &random))"))
                if Bool.random(using: &random), Int.random(in: 0..<4, using: &random) == 0 {
                    let second = ElementID("e\(Int.random(in: 0..<index, using: &random))")
                    if !upstream.contains(second) { upstream.append(second) }
                }
            }
            elements.append(Element(id: ElementID("e\(index)"), name: "e\(index)", address: .v4(UInt32(index + 1)),
                                    kind: index < cores ? .core : .access, upstream: upstream))
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                let number = lines.count
                lines.append(Line(id: LineID("l\(number)"), customer: CustomerID("c\(number)"),
                                  element: ElementID("e\(index)"), port: .ifIndex(Int.random(in: 1...3, using: &random)),
                                  probe: .icmp, target: .v4(UInt32(number + 1)), contract: nil, service: .data))
            }
        }
        topology = Topology(elements: elements, lines: lines)
    }

    struct Failure {
        var failedElements: Set<ElementID>
        var failedLines: Set<LineID>
        var failedPorts: Set<String>  // "element/port"
        var observations: [Subject]
    }

    /// Some elements unreachable, some lines down; lines behind a failed element report down
    /// too, as probes would, half of the time.
    func randomFailure(random: inout SplitMix64) -> Failure {
        var failedElements: Set<ElementID> = []
        for element in elements where Int.random(in: 0..<5, using: &random) == 0 { failedElements.insert(element.id) }
        let cut = cutSet(failedElements)
        var failedLines: Set<LineID> = []
        for line in lines {
            let odds = cut.contains(line.element) ? 2 : 8
            if Int.random(in: 0..<odds, using: &random) == 0 { failedLines.insert(line.id) }
        }
        var failedPorts: Set<String> = []
        var portSubjects: [Subject] = []
        for element in elements where Int.random(in: 0..<6, using: &random) == 0 {
            let port = Int.random(in: 1...3, using: &random)
            failedPorts.insert("\(element.id)/\(port)")
            portSubjects.append(.port(element.id, .ifIndex(port)))
        }
        let observations = failedElements.sorted().map { Subject.element($0) } + portSubjects
            + failedLines.sorted().map { Subject.line($0) }
        return Failure(failedElements: failedElements, failedLines: failedLines, failedPorts: failedPorts,
                       observations: observations)
    }

    func cutSet(_ failed: Set<ElementID>) -> Set<ElementID> {
        var cut: Set<ElementID> = []
        for element in elements {  // upstreams always come first in this generator
            let upstreamCut = !element.upstream.isEmpty && element.upstream.allSatisfy { cut.contains($0) }
            if upstreamCut || failed.contains(element.id) { cut.insert(element.id) }
        }
        return cut
    }

    struct Reference {
        var minimalFailed: Set<ElementID>
        var independentLines: Set<LineID>
        var affectedLines: Set<LineID>
        var rootOfLine: [LineID: ElementID]
        /// Reachable elements with failed ports: one port incident (or line card) each.
        var portGroups: Set<ElementID>
    }

    /// The expected outcome, computed straight from the definitions.
    func reference(_ failure: Failure) -> Reference {
        let cut = cutSet(failure.failedElements)
        var root: [ElementID: ElementID] = [:]
        var minimal: Set<ElementID> = []
        for element in elements where cut.contains(element.id) {
            let upstreamCut = !element.upstream.isEmpty && element.upstream.allSatisfy { cut.contains($0) }
            if upstreamCut {
                // The first root in inventory order among the upstreams' roots.
                root[element.id] = element.upstream.map { root[$0]! }
                    .min { Int($0.rawValue.dropFirst())! < Int($1.rawValue.dropFirst())! }
            } else {
                root[element.id] = element.id
                minimal.insert(element.id)
            }
        }
        var rootOfLine: [LineID: ElementID] = [:]
        var independent: Set<LineID> = []
        var affected: Set<LineID> = []
        var portGroups: Set<ElementID> = []
        for port in failure.failedPorts {
            let element = ElementID(String(port.split(separator: "/")[0]))
            if !cut.contains(element) { portGroups.insert(element) }
        }
        for line in lines {
            if let elementRoot = root[line.element] {
                rootOfLine[line.id] = elementRoot
                affected.insert(line.id)
            } else if failure.failedPorts.contains("\(line.element)/\(line.port!)") {
                affected.insert(line.id)
            } else if failure.failedLines.contains(line.id) {
                independent.insert(line.id)
                affected.insert(line.id)
            }
        }
        return Reference(minimalFailed: minimal, independentLines: independent, affectedLines: affected,
                         rootOfLine: rootOfLine, portGroups: portGroups)
    }

    struct Result {
        struct Open {
            var root: IncidentRoot
            var lines: [LineID]
        }
        var incidents: [Open]
        /// What must not depend on the order: roots and their lines.
        var shape: [String] {
            incidents.map { "\($0.root) \($0.lines.map(\.rawValue).joined(separator: ","))" }.sorted()
        }
    }

    /// Feeds the observations in a random order at random times within the hold-down (3 s),
    /// then lets every hold-down expire.
    func play(_ subjects: [Subject], order random: inout SplitMix64) -> Result {
        var timeline = Timeline(topology: topology)
        let timed = subjects.shuffled(using: &random).map { ($0, Double.random(in: 0..<2.9, using: &random)) }
            .sorted { $0.1 < $1.1 }
        for (subject, time) in timed { timeline.observe(subject, .down, at: time) }
        timeline.advance(to: 30)
        let incidents = timeline.open.map { incident in
            Result.Open(root: incident.root, lines: timeline.ledger.openLineIDs(of: incident.id).sorted())
        }
        return Result(incidents: incidents)
    }
}
