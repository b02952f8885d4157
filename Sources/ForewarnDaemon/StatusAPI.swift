import ForewarnConfig
import ForewarnModel
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Persistence
import Reports
import Synchronization

/// The read-only API beside the status: `GET /api/v1/status` (the `status --json` document) and
/// `GET /api/v1/report?period=P&format=text|json|html` (the operations report). A request that is
/// not understood gets 400 naming the parameter; nothing here writes to the store.
enum StatusAPI {
    static func status(store: any Store, current: CurrentConfiguration, accounting: StatusAccounting,
                       now: Date) async throws(StoreError) -> Response {
        HTTPListener.jsonResponse(try await LiveStatus.report(store: store, configuration: current.configuration, now: now,
                                                              accounting: accounting, generation: current.generation).json)
    }

    static let reportParameters: Set<String> = ["period", "format"]

    /// `query`: the request's parameters in order (a parameter given twice is refused).
    static func report(query: [(key: String, value: String)], store: any Store, configuration: Configuration,
                       now: Date, logger: Logger) async -> Response {
        if let unknown = query.map(\.key).first(where: { !reportParameters.contains($0) }) {
            return error(.badRequest, "unknown parameter '\(unknown)' (period and format are known)")
        }
        if let twice = reportParameters.sorted().first(where: { name in query.filter { $0.key == name }.count > 1 }) {
            return error(.badRequest, "parameter '\(twice)' is given more than once")
        }
        let parameters = Dictionary(query.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let periodText = parameters["period"], !periodText.isEmpty else {
            return error(.badRequest, "parameter 'period' is missing: a quarter (2026Q4), a month (2026-11) or a range of days (2026-11-01..2026-11-15)")
        }
        let period: ReportPeriod
        do {
            period = try ReportPeriod(parsing: periodText)
        } catch {
            return Self.error(.badRequest, "parameter 'period': " + error.message.replacingOccurrences(of: "--period ", with: ""))
        }
        let format = parameters["format"] ?? "json"
        let contentType: String
        switch format {
        case "text": contentType = "text/plain; charset=utf-8"
        case "json": contentType = "application/json"
        case "html": contentType = "text/html; charset=utf-8"
        default: return error(.badRequest, "parameter 'format' must be text, json or html, not '\(format)'")
        }
        let report: OperationsReport
        do {
            report = try await LiveStatus.operationsReport(period, configuration: configuration, store: store, now: now)
        } catch {
            logger.error("report request failed", metadata: ["error": "\(error)", "report.period": "\(period)"])
            return Self.error(.internalServerError, "\(error)")
        }
        let body = format == "text" ? report.text : format == "json" ? report.json : report.html
        return Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// `{"error": MESSAGE}` with `status`.
    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: ["error": message], options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: String(decoding: data, as: UTF8.self) + "\n")))
    }
}

/// What `/metrics` adds from the store before each scrape: open incidents by severity, the
/// outbox's backlog and dead letters, and the quarter's KPIs beside their targets (from
/// `StatusAccounting`: computed at most once a minute, a quarter's line intervals are the
/// expensive read).
struct StatusMetrics: Sendable {
    let accounting: StatusAccounting

    func refresh(store: any Store, current: CurrentConfiguration, now: Date, logger: Logger) async {
        do {
            let open = try await store.incidents(openOnly: true, since: nil).map(\.incident)
            for severity in Severity.allCases {
                Gauge(label: "forewarn_incidents_open", dimensions: [("severity", severity.rawValue)])
                    .record(open.filter { !$0.planned && $0.severity == severity }.count)
            }
            Gauge(label: "forewarn_incidents_open_planned").record(open.filter(\.planned).count)
            let backlog = try await store.outboxBacklog()
            Gauge(label: "forewarn_outbox_pending").record(backlog.reduce(0) { $0 + $1.pending })
            Gauge(label: "forewarn_outbox_dead_letters").record(backlog.reduce(0) { $0 + $1.dead })
        } catch {
            logger.error("metrics: cannot read open incidents and outbox", metadata: ["error": "\(error)"])
        }
        let figures = await accounting.figures(configuration: current.configuration, generation: current.generation,
                                               store: store, now: now)
        if let quarter = figures.kpis {
            Self.record(quarter)
        } else {
            logger.error("metrics: cannot compute the quarter's KPIs", metadata: ["error": "\(figures.notes)"])
        }
    }

    static func record(_ kpis: StatusReport.QuarterKPIs) {
        let rates: [(String, StatusReport.QuarterKPIs.Rate)] = [
            ("proactive_rate", kpis.proactive), ("lines_hit", kpis.linesHit), ("fixed_within_a_day", kpis.fixedWithinDay),
        ]
        for (name, rate) in rates {
            let (share, target, status) = (rate.share, rate.target, rate.status)
            let dimensions = [("kpi", name)]
            // No data (nothing to divide by): NaN, which no alert rule compares true with.
            Gauge(label: "forewarn_kpi_ratio", dimensions: dimensions)
                .record(share.isEmpty ? Double.nan : Double(share.numerator) / Double(share.denominator))
            Gauge(label: "forewarn_kpi_target_ratio", dimensions: dimensions).record(Double(target.millionths) / 100_000_000)
            Gauge(label: "forewarn_kpi_target_met", dimensions: dimensions)
                .record(status == .met ? 1 : status == .notMet ? 0 : Double.nan)
        }
        Gauge(label: "forewarn_kpi_availability_ratio").record(
            kpis.availability.isEmpty ? Double.nan : Double(kpis.availability.numerator) / Double(kpis.availability.denominator))
    }
}
