import Foundation
import ForewarnConfig
import Logging
import Metrics
import ServiceLifecycle
import Persistence

/// Writes the daemon's heartbeat to the store every `heartbeat_interval`, tells systemd READY=1
/// once the store has taken the first one, and STOPPING=1 plus a last `stopped` beat on shutdown.
struct HeartbeatService: Service {
    let store: any HeartbeatStore
    let current: CurrentConfiguration
    let identity: DaemonIdentity
    let notifier: SystemdNotifier
    let liveness: Liveness
    var storeHealth: StoreHealth? = nil
    /// What the sources saw, published with every beat as collection health.
    var collection: CollectionStatistics? = nil
    /// Sharing the store: collection health counts this instance's share only.
    var ownership: Ownership? = nil
    let logger: Logger

    private let written = Counter(label: "forewarn_heartbeat_writes_total")
    private let failed = Counter(label: "forewarn_heartbeat_failures_total")
    private let lastBeat = Gauge(label: "forewarn_heartbeat_last_timestamp_seconds")

    func run() async throws {
        var ready = false
        var lastFailure: String?
        var shownProblem: String?
        // Rates are over the last minute (from the start, during the first).
        var marks = [CollectionMeasure.Mark(counters: .init(), at: identity.startedAt)]
        var lastHealth: CollectionHealth?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let configuration = current.configuration
            // systemd's status line (systemctl status) says degraded while the store fails, even
            // when the heartbeat itself cannot be written.
            let problem = storeHealth?.problem
            if problem != shownProblem {
                notifier.notify("STATUS=" + (problem.map { "degraded: \($0)" } ?? Self.status(configuration)))
                shownProblem = problem
            }
            do {
                var beat = identity.heartbeat(state: storeHealth?.problem == nil ? .running : .degraded,
                                              configuration: configuration)
                beat.configLoadedAt = current.loadedAt
                if let collection {
                    let snapshot = collection.snapshot
                    let elements = configuration.elements.map(\.id).filter { ownership?.owns($0) ?? true }
                    let lines = ownership == nil ? configuration.lines : configuration.lines.filter { ownership!.owns($0.element) }
                    let health = CollectionMeasure.measure(elements: elements, lines: lines, snapshot: snapshot,
                                                           since: marks[0], now: beat.beatAt)
                    marks = CollectionMeasure.window(marks + [.init(counters: snapshot.counters, at: beat.beatAt)],
                                                     now: beat.beatAt)
                    beat.collection = health
                    lastHealth = health
                    CollectionGauges.record(health)
                }
                try await store.writeHeartbeat(beat)
                storeHealth?.wrote("heartbeat")
                written.increment()
                lastBeat.record(beat.beatAt.timeIntervalSince1970)
                if lastFailure != nil { logger.notice("heartbeat written again", metadata: ["store.path": "\(store.location)"]) }
                lastFailure = nil
                if !ready {
                    ready = true
                    logger.info("daemon ready", metadata: ["inventory": "\(configuration.summary)"])
                    notifier.notify("READY=1\nSTATUS=\(Self.status(configuration))")
                }
            } catch {
                failed.increment()
                storeHealth?.failed("heartbeat", error: error)
                // Logged once per distinct failure, not every beat.
                if lastFailure != error.description {
                    logger.error("cannot write heartbeat", metadata: ["error": "\(error)"])
                    lastFailure = error.description
                }
            }
            liveness.markProgress()
            try? await cancelWhenGracefulShutdown {
                try await Task.sleep(for: configuration.daemon.heartbeatInterval)
            }
        }
        notifier.notify("STOPPING=1\nSTATUS=stopping")
        logger.info("shutting down")
        // Written even when the group is cancelled (another service failed): a cancelled task's
        // store write would be refused, leaving `running` behind.
        var last = identity.heartbeat(state: .stopped, configuration: current.configuration)
        last.configLoadedAt = current.loadedAt
        last.collection = lastHealth
        let written = await Task { [store] () async -> String? in
            do { try await store.writeHeartbeat(last) } catch { return "\(error)" }
            return nil
        }.value
        if let error = written {
            logger.error("cannot write final heartbeat", metadata: ["error": "\(error)"])
        }
    }

    static func status(_ configuration: Configuration) -> String {
        "monitoring \(configuration.elements.count) elements, \(configuration.lines.count) lines"
    }
}

/// Who this daemon is, for its heartbeat row.
public struct DaemonIdentity: Sendable {
    public var instance: String
    public var pid: Int32
    public var hostname: String
    public var startedAt: Date

    public init(instance: String? = nil) {
        hostname = ProcessInfo.processInfo.hostName
        pid = ProcessInfo.processInfo.processIdentifier
        self.instance = instance ?? hostname
        startedAt = Date()
    }

    func heartbeat(state: Heartbeat.State, configuration: Configuration) -> Heartbeat {
        Heartbeat(instance: instance, pid: pid, hostname: hostname, version: ForewarnVersion.current,
                  configPath: configuration.source, startedAt: startedAt, beatAt: Date(), state: state,
                  elements: configuration.elements.count, lines: configuration.lines.count,
                  customers: configuration.customers.count, contracts: configuration.contracts.count,
                  interval: configuration.daemon.heartbeatInterval)
    }
}

public enum ForewarnVersion {
    public static let current = "0.1.0"
}

/// Collection health as Prometheus gauges, recorded with every beat.
enum CollectionGauges {
    static func record(_ health: CollectionHealth) {
        let elements = [("reachable", health.elementsReachable), ("unreachable", health.elementsUnreachable),
                        ("not_polled", health.elementsNotPolled)]
        for (state, count) in elements {
            Gauge(label: "forewarn_elements", dimensions: [("state", state)]).record(count)
        }
        let lines = [("up", health.linesUp), ("down", health.linesDown), ("degraded", health.linesDegraded),
                     ("unknown", health.linesUnknown), ("unprobed", health.linesUnprobed)]
        for (state, count) in lines {
            Gauge(label: "forewarn_lines", dimensions: [("state", state)]).record(count)
        }
        Gauge(label: "forewarn_collection_polls_per_second").record(health.pollsPerSecond)
        Gauge(label: "forewarn_collection_probes_per_second").record(health.probesPerSecond)
        Gauge(label: "forewarn_collection_traps_per_second").record(health.trapsPerSecond)
        Gauge(label: "forewarn_snmp_poll_timeouts").record(health.snmpTimeouts)
        if let last = health.lastTrapAt {
            Gauge(label: "forewarn_snmp_last_trap_timestamp_seconds").record(last.timeIntervalSince1970)
        }
    }
}
