import ForewarnConfig
import ForewarnModel
import Foundation
import Logging
import Probes
import ServiceLifecycle
import Persistence

/// Where line observations go: the store's state transitions (and the log), and the correlator.
protocol LineObservationSink: Sendable {
    func deliver(_ observations: [LineObservation]) async
}

/// Probes every configured line on its profile's schedule (`LineMonitor`) until shutdown. Probe
/// engines that cannot start (no CAP_NET_RAW, missing interface) are logged as critical and their
/// lines left unprobed; the rest of the daemon keeps running.
struct ProbeService: Service {
    let configuration: Configuration
    let sinks: [any LineObservationSink]
    let liveness: Liveness?
    /// Out-of-schedule rounds the correlator asks for; their answers go to `confirmationSink`.
    var confirmations: LineConfirmations? = nil
    var confirmationSink: (any LineObservationSink)? = nil
    /// Told which lines are probed and how many rounds ran, for the heartbeat.
    var collection: CollectionStatistics? = nil
    /// Keeps every line's last round, for the line view.
    var lastRounds: LineProbeLog? = nil
    let logger: Logger

    func run() async throws {
        let (plan, unreachable) = Self.plan(configuration)
        if !unreachable.isEmpty {
            logger.critical("ARP lines on no connected subnet and with no arp_interface: not probed",
                            metadata: ["lines": "\(unreachable.count)", "line.ids": "\(unreachable.prefix(20).map(\.rawValue))"])
        }
        guard !plan.lines.isEmpty else {
            collection?.probing([])
            logger.info("no lines to probe")
            // A service that returns ends the whole group: idle until shutdown instead.
            try? await gracefulShutdown()
            return
        }
        let capture: PacketCapture?
        do {
            capture = try configuration.probing.capture.map { path throws(ProbeError) in try PacketCapture(path: path) }
        } catch {
            logger.error("probe capture disabled", metadata: ["error": "\(error)"])
            capture = nil
        }
        defer { capture?.close() }
        let probers = startProbers(for: plan, capture: capture)
        defer { probers.values.forEach { $0.shutdown() } }
        let probedLines = plan.lines.filter { probers[$0.prober] != nil }.map(\.id)
        let probed = probedLines.count
        collection?.probing(Set(probedLines))
        guard probed > 0 else {
            try? await gracefulShutdown()
            return
        }
        logger.info("probing lines", metadata: ["lines": "\(probed)", "engines": "\(probers.keys.map(\.description).sorted())",
                                                 "probe.rate": "\(configuration.probing.rate)"])
        let monitor = LineMonitor(plan: plan, probers: probers, clock: ContinuousClock())
        let sinks = self.sinks
        let liveness = self.liveness
        let confirmations = self.confirmations
        let confirmationSink = self.confirmationSink
        let collection = self.collection
        var rounds: (@Sendable ([Int], [ProbeOutcome], Date) -> Void)?
        if let lastRounds = self.lastRounds {
            rounds = { indices, outcomes, at in lastRounds.record(indices.map { plan.lines[$0].id }, outcomes, at: at) }
        }
        let roundsSink = rounds
        let logger = self.logger
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                if let confirmations, let confirmationSink {
                    group.addTask {
                        await confirmations.serve(plan: plan, probers: probers, deliver: { observations in
                            await confirmationSink.deliver(observations)
                        }, logger: logger)
                    }
                }
                group.addTask {
                    await monitor.run(deliver: { observations in
                        confirmations?.record(observations)
                        for sink in sinks { await sink.deliver(observations) }
                    }, progress: { statistics in
                        liveness?.markProgress()
                        collection?.probeRounds(total: statistics.rounds)
                    }, rounds: roundsSink)
                }
            }
        }
        logger.info("probing stopped")
    }

    func startProbers(for plan: MonitorPlan, capture: PacketCapture?) -> [ProberKey: any Prober] {
        var probers: [ProberKey: any Prober] = [:]
        let probing = configuration.probing
        for key in plan.proberKeys.sorted(by: { $0.description < $1.description }) {
            do throws(ProbeError) {
                let prober = try ProberFactory.make(key, probing: probing, rate: probing.rate, capture: capture)
                if let icmp = prober as? ICMPProber {
                    logger.info("ICMP engine started", metadata: ["probe.socket": "\(icmp.socketMode)"])
                }
                probers[key] = prober
            } catch {
                let lines = plan.lines.filter { $0.prober == key }.count
                logger.critical("cannot start the \(key) probe engine: its lines are not probed",
                                metadata: ["error": "\(error)", "lines": "\(lines)"])
            }
        }
        return probers
    }

    /// The probed lines of a configuration (probe other than none, with a target), with the
    /// profiles they use indexed.
    ///
    /// ARP lines without a configured interface go out of the interface whose subnet holds their
    /// target; those on no connected subnet cannot be probed and are returned in `unreachable`.
    static func plan(_ configuration: Configuration,
                     subnets: [InterfaceLookup.Subnet] = InterfaceLookup.connectedSubnets()) -> (plan: MonitorPlan, unreachable: [LineID]) {
        var unreachable: [LineID] = []
        var profiles: [ProbeProfile] = []
        var profileIndex: [ProfileID: Int] = [:]
        var lines: [MonitoredLine] = []
        for line in configuration.lines {
            guard let address = line.target else { continue }
            let key: ProberKey
            var port: UInt16 = 0
            switch line.probe {
            case .none: continue
            case .icmp: key = .icmp
            case .tcp(let tcpPort):
                key = .tcp
                port = tcpPort
            case .arp:
                guard let interface = configuration.arpInterface(for: line)
                        ?? InterfaceLookup.interface(for: address, among: subnets) else {
                    unreachable.append(line.id)
                    continue
                }
                key = .arp(interface: interface)
            }
            let profile = configuration.probeProfile(for: line)
            let index: Int
            if let known = profileIndex[profile.id] {
                index = known
            } else {
                index = profiles.count
                profileIndex[profile.id] = index
                profiles.append(profile)
            }
            lines.append(MonitoredLine(id: line.id, prober: key, address: address, port: port, profile: index))
        }
        return (MonitorPlan(lines: lines, profiles: profiles), unreachable)
    }
}

/// Hands every line verdict, the first one after start included (the correlator's baseline), to
/// the correlator.
struct CorrelatorLineSink: LineObservationSink {
    let correlator: any ObservationSink
    /// Confirmation rounds are the newest verdicts too: collection health counts them.
    var collection: CollectionStatistics? = nil

    func deliver(_ observations: [LineObservation]) async {
        collection?.observed(observations.map(\.observation))
        for item in observations { correlator.submit(item.observation) }
    }
}

/// Sharing the store: probes the lines of the elements this instance owns, starting the probe
/// service again on the new share whenever it changes (checked every 200 ms).
struct OwnedProbeService: Service {
    let current: CurrentConfiguration
    let ownership: Ownership
    let make: @Sendable (Configuration) -> ProbeService

    func run() async throws {
        var probed: Set<LineID>?
        var running: Task<Void, Never>?
        var seen = (-1, -1)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let generations = (current.generation, ownership.generation)
            if generations != seen, case let owned = Set(ownership.share(of: current).lines), owned != probed {
                let configuration = current.configuration
                running?.cancel()
                await running?.value
                var share = configuration
                share.lines = configuration.lines.filter { owned.contains($0.id) }
                let service = make(share)
                running = Task { try? await service.run() }
                probed = owned
            }
            seen = generations
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(200)) }
        }
        await running?.value
    }
}
