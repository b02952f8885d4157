import Metrics

/// The engine's metrics (swift-metrics; the daemon chooses the backend, Prometheus in production).
enum EngineMetrics {
    static let requestsOK = Counter(label: "forewarn_snmp_requests_total", dimensions: [("result", "ok")])
    static let requestsTimeout = Counter(label: "forewarn_snmp_requests_total", dimensions: [("result", "timeout")])
    static let requestsError = Counter(label: "forewarn_snmp_requests_total", dimensions: [("result", "error")])
    static let timeouts = Counter(label: "forewarn_snmp_timeouts_total")
    static let retransmissions = Counter(label: "forewarn_snmp_retransmissions_total")
    static let latency = Metrics.Timer(label: "forewarn_snmp_request_duration_seconds", preferredDisplayUnit: .seconds)
    static let engineTimeResynchronisations = Counter(label: "forewarn_snmp_engine_time_resynchronisations_total")
    static let sessionsOpened = Counter(label: "forewarn_snmp_sessions_opened_total")
    static let sessionsOpen = Gauge(label: "forewarn_snmp_sessions_open")
    static let inFlight = Gauge(label: "forewarn_snmp_requests_in_flight")
    static let trapsReceived = Counter(label: "forewarn_snmp_traps_received_total")
    static let trapsDroppedRateLimit = Counter(label: "forewarn_snmp_traps_dropped_total", dimensions: [("reason", "rate_limit")])
    static let trapsDroppedMalformed = Counter(label: "forewarn_snmp_traps_dropped_total", dimensions: [("reason", "malformed")])
    static let trapsDroppedUnknown = Counter(label: "forewarn_snmp_traps_dropped_total", dimensions: [("reason", "unknown_source")])
    static let trapsWrongCommunity = Counter(label: "forewarn_snmp_traps_dropped_total", dimensions: [("reason", "wrong_community")])
}
