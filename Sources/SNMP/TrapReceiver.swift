import ForewarnModel
import Foundation
import Logging
import ServiceLifecycle

/// Receives traps and informs on the configured address and maps each to an element (by source
/// address, else the agent-addr / snmpTrapAddress varbind) and port (ifIndex varbind). A trap
/// never becomes an observation by itself: it makes the scheduler poll what it names at once,
/// and the poll's answer is the evidence. Unknown sources are counted and logged once a minute.
public struct TrapReceiver: Service {
    public struct Settings: Sendable {
        public var listen: SocketEndpoint
        public var ratePerSecond: Double
        public var burst: Int
        /// SNMPv3 users accepted for traps and informs.
        public var v3Profiles: [SNMPProfile]
        /// Engine IDs of v3 trap senders not otherwise polled.
        public var senderEngineIDs: [[UInt8]]
        /// v1/v2c communities accepted; nil: any.
        public var communities: Set<Secret>?

        public init(listen: SocketEndpoint, ratePerSecond: Double = 50, burst: Int = 200, v3Profiles: [SNMPProfile] = [],
                    senderEngineIDs: [[UInt8]] = [], communities: Set<Secret>? = nil) {
            self.communities = communities
            self.listen = listen
            self.ratePerSecond = ratePerSecond
            self.burst = burst
            self.v3Profiles = v3Profiles
            self.senderEngineIDs = senderEngineIDs
        }
    }

    let engine: SNMPEngine
    let settings: Settings
    let scheduler: PollScheduler
    let logger: Logger
    /// Called for every mapped trap (tests, metrics); nil in the daemon.
    let onTrap: (@Sendable (ReceivedTrap, ElementID?) -> Void)?
    let forward: (@Sendable (ReceivedTrap, String) -> Bool)?

    /// Traps are mapped to the elements `scheduler` polls (kept current across reloads).
    /// `forward`: a trap from no element this receiver's scheduler polls is handed to it with the
    /// reason a poll would be made for (several instances sharing the elements: the owner polls);
    /// it returns false when the source is no element at all.
    public init(engine: SNMPEngine, settings: Settings, scheduler: PollScheduler,
                logger: Logger, onTrap: (@Sendable (ReceivedTrap, ElementID?) -> Void)? = nil,
                forward: (@Sendable (ReceivedTrap, _ reason: String) -> Bool)? = nil) {
        self.engine = engine
        self.settings = settings
        self.scheduler = scheduler
        self.logger = logger
        self.onTrap = onTrap
        self.forward = forward
    }

    public func run() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: ReceivedTrap.self, bufferingPolicy: .bufferingNewest(10_000))
        if !settings.v3Profiles.isEmpty {
            await engine.addTrapUsers(settings.v3Profiles, senderEngineIDs: settings.senderEngineIDs)
        }
        let listener: TrapListener
        do {
            listener = try await engine.listenForTraps(on: settings.listen, ratePerSecond: settings.ratePerSecond,
                                                       burst: settings.burst, communities: settings.communities) {
                continuation.yield($0)
            }
        } catch {
            // Polling goes on without traps: a monitor that stops monitoring over its trap port is worse.
            logger.error("cannot receive SNMP traps; polling continues without them",
                         metadata: ["trap.listen": "\(settings.listen)", "error": "\(error)"])
            try? await gracefulShutdown()
            return
        }
        logger.info("listening for SNMP traps and informs", metadata: ["trap.listen": "\(settings.listen)"])
        await withGracefulShutdownHandler {
            for await trap in stream {
                handle(trap, log: listener.log)
            }
        } onGracefulShutdown: {
            continuation.finish()
        }
        listener.close()
        listener.log.flush()
    }

    /// Each trap is logged at debug level; at info and above, per reason and minute (the first
    /// at once, then how many more and from where), so that a flood cannot fill the journal.
    func handle(_ trap: ReceivedTrap, log: AggregatedLog) {
        let element = scheduler.element(at: trap.source) ?? trap.agentAddress.flatMap { scheduler.element(at: $0) }
        onTrap?(trap, element)
        let name = Self.name(of: trap.trapOID)
        let reason = "\(name) \(trap.isInform ? "inform" : "trap")" + (trap.ifIndex.map { " for ifIndex \($0)" } ?? "")
        guard let element else {
            if let forward, forward(trap, reason) {
                logger.debug("trap for an element another instance polls: forwarded",
                             metadata: ["trap.source": "\(trap.source)", "trap.oid": "\(trap.trapOID)"])
                return
            }
            EngineMetrics.trapsDroppedUnknown.increment()
            let metadata: Logger.Metadata = ["trap.source": "\(trap.source)", "trap.oid": "\(trap.trapOID)",
                                             "trap.agent_address": "\(trap.agentAddress.map(\.description) ?? "-")"]
            logger.debug("trap from an address that is no configured element", metadata: metadata)
            log.note(TrapLogReasons.unknownSource, source: trap.source.description, metadata: metadata)
            return
        }
        let metadata: Logger.Metadata = ["element.id": "\(element)", "trap.oid": "\(trap.trapOID)", "trap.name": "\(name)",
                                         "trap.source": "\(trap.source)"]
        logger.debug("trap received; polling to confirm", metadata: metadata)
        log.note(TrapLogReasons.accepted, source: element.rawValue, metadata: metadata)
        scheduler.confirm(element, ifIndex: trap.ifIndex, reason: reason)
    }

    static func name(of oid: OID) -> String {
        switch oid {
        case MIB.linkDown: return "linkDown"
        case MIB.linkUp: return "linkUp"
        case MIB.coldStart: return "coldStart"
        case MIB.warmStart: return "warmStart"
        default: return oid.description
        }
    }
}
