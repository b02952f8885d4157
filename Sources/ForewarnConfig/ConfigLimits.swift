/// The range of every duration and number in the configuration, in one place (the README's
/// configuration reference lists the same). Upper bounds keep values inside what the daemon's
/// arithmetic, timers and shutdown can honour: anything `check-config` accepts, `run` runs.
public enum ConfigLimits {
    public static let clusterTakeover: ClosedRange<Duration> = .seconds(5) ... .seconds(600)
    public static let clusterAgreement: ClosedRange<Duration> = .milliseconds(500) ... .seconds(60)
    public static let clusterRefresh: ClosedRange<Duration> = .milliseconds(200) ... .seconds(10)
    public static let heartbeatInterval: ClosedRange<Duration> = .seconds(1) ... .seconds(3_600)
    /// How far ahead of the daemon's clock a customer call may be dated.
    public static let maxFutureSkew: ClosedRange<Duration> = .zero ... .seconds(86_400)
    public static let holdDown: ClosedRange<Duration> = .milliseconds(100) ... .seconds(3_600)
    public static let flapWindow: ClosedRange<Duration> = .seconds(1) ... .seconds(86_400)
    public static let confirmationWait: ClosedRange<Duration> = .milliseconds(100) ... .seconds(600)
    public static let announceMax: ClosedRange<Duration> = .zero ... .seconds(3_600)
    public static let forwardingWindow: ClosedRange<Duration> = .zero ... .seconds(3_600)
    public static let flapQuiet: ClosedRange<Duration> = .seconds(1) ... .seconds(86_400)
    public static let pollInterval: ClosedRange<Duration> = .seconds(1) ... .seconds(86_400)
    /// One SNMP attempt; with at most 10 retries a poll gives up within 11 minutes.
    public static let snmpTimeout: ClosedRange<Duration> = .milliseconds(10) ... .seconds(60)
    public static let confirmInterval: ClosedRange<Duration> = .milliseconds(100) ... .seconds(3_600)
    public static let probeInterval: ClosedRange<Duration> = .seconds(1) ... .seconds(86_400)
    public static let probeTimeout: ClosedRange<Duration> = .milliseconds(10) ... .seconds(60)
    public static let probeSpacing: ClosedRange<Duration> = .zero ... .seconds(60)
    public static let degradedRTT: ClosedRange<Duration> = .milliseconds(1) ... .seconds(60)
    /// One ticketing request (or command hook run), and connecting for it.
    public static let hookTimeout: ClosedRange<Duration> = .milliseconds(100) ... .seconds(600)
    public static let hookConnectTimeout: ClosedRange<Duration> = .milliseconds(100) ... .seconds(60)
    public static let openAfter: ClosedRange<Duration> = .zero ... .seconds(86_400)
    public static let updateEvery: ClosedRange<Duration> = .zero ... .seconds(86_400)
    public static let maxAge: ClosedRange<Duration> = .seconds(60) ... .seconds(30 * 86_400)
    public static let ticketingPollInterval: ClosedRange<Duration> = .milliseconds(10) ... .seconds(60)
    /// A credit policy's guaranteed time to restore.
    public static let guaranteedRestore: ClosedRange<Duration> = .seconds(1) ... .seconds(31 * 86_400)
    /// Errors per second on a port.
    public static let errorRateThreshold = 1_000_000_000.0
    /// Traps per second from one source.
    public static let trapRateLimit = 1_000_000.0
}
