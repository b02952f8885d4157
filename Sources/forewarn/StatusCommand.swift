import ArgumentParser
import ForewarnDaemon
import Billing
import ForewarnConfig
import ForewarnModel
import Foundation
import Persistence
import Reports
import Stores

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what is broken now, who is affected and whether collection is healthy, or a period's operations report.",
        discussion: """
            Without --period: the live view from the store (docs/status-json.md): the daemon (version, \
            uptime, configuration and when it was loaded, heartbeat age), collection health as the daemon \
            publishes it with its heartbeat, the open incidents most severe first, the ticket outbox, \
            credits of the month to date and the quarter's KPIs beside their targets. Exit status 0 when a \
            daemon is alive, 3 when none is (stopped, failed, or its heartbeat older than 30 s or three \
            heartbeat intervals), 1 on an error. --watch [SECONDS] redraws it every SECONDS (default 2) \
            until interrupted. Colour only on a terminal, never with NO_COLOR set.

            With --period: the operations report of a quarter (2026Q4), a month (2026-11) or a range \
            of days (2026-11-01..2026-11-15, both included), in billing.time_zone: the KPIs against \
            reports.targets, incidents per week, detection lead times, availability per element, the \
            worst elements and customers, credits per month (docs/reports.md). Exit status 0.
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var storeOption: StoreOption
    @Flag(help: "Print JSON instead of text (the same as --format json).") var json = false
    @Option(help: ArgumentHelp("The report's period: 2026Q4, 2026-11 or 2026-11-01..2026-11-15.", valueName: "PERIOD"))
    var period: String?
    @Option(help: "text, json or html (html needs --period).") var format: String?
    @Option(help: ArgumentHelp("Write the report to FILE instead of standard output.", valueName: "FILE")) var output: String?
    @Flag(help: "Redraw the live view in place every SECONDS (default 2) until interrupted.") var watch = false
    @Argument(help: ArgumentHelp("With --watch: seconds between redraws (0.5 – 3600).", valueName: "SECONDS"))
    var seconds: Double?

    enum Format: String {
        case text, json, html
    }

    func validate() throws {
        if let period {
            do {
                _ = try ReportPeriod(parsing: period)
            } catch {
                throw ValidationError(error.message)
            }
        }
        if let format {
            guard let chosen = Format(rawValue: format) else {
                throw ValidationError("--format must be text, json or html, not '\(format)'")
            }
            if json && chosen != .json { throw ValidationError("--json and --format \(format) contradict each other") }
            if chosen == .html && period == nil { throw ValidationError("--format html needs --period (the live view is text or JSON)") }
        }
        if output != nil && period == nil { throw ValidationError("--output needs --period") }
        if seconds != nil && !watch { throw ValidationError("SECONDS is the interval of --watch, which is missing") }
        if let seconds, !(0.5...3_600).contains(seconds) {
            throw ValidationError("--watch SECONDS must be between 0.5 and 3600, not \(seconds)")
        }
        if watch && period != nil { throw ValidationError("--watch is for the live view, not with --period") }
    }

    var chosenFormat: Format { format.flatMap(Format.init) ?? (json ? .json : .text) }

    func run() async throws {
        if let period {
            let report = try await OperationsReportCommand.report(try ReportPeriod(parsing: period), options, storeOption,
                                                                  now: Date())
            let text: String
            switch chosenFormat {
            case .text: text = report.text
            case .json: text = report.json
            case .html: text = report.html
            }
            try CreditsAccess.write(text, to: output)
            return
        }
        let source: LiveSource
        do {
            source = try await LiveSource(options, storeOption)
        } catch let missing as LiveSource.NoStore {
            // No daemon ever ran on it: the status of nothing running, in the format asked for.
            let note = "store \(missing.location) does not exist (no daemon has run with this store)"
            if chosenFormat == .json {
                print(StatusReport(StatusInputs(store: missing.location, now: Date(), heartbeats: [], notes: [note])).json)
            } else {
                print("DAEMON NOT RUNNING: \(note)")
            }
            throw ExitCode(3)
        }
        let terminal = isatty(STDOUT_FILENO) == 1
        let colour = chosenFormat == .text
            && StatusReport.wantsColour(isTerminal: terminal, environment: ProcessInfo.processInfo.environment)
        guard watch else {
            let report = try await source.report(now: Date())
            print(chosenFormat == .json ? report.json : report.text(colour: colour), terminator: chosenFormat == .json ? "\n" : "")
            if !report.anyAlive { throw ExitCode(3) }
            return
        }
        let interval = seconds ?? 2
        while !Task.isCancelled {
            let report = try await source.report(now: Date())
            let body = chosenFormat == .json ? report.json + "\n" : report.text(colour: colour)
            // In place on a terminal (cursor home, clear); elsewhere one frame after another.
            FileHandle.standardOutput.write(Data(((terminal ? "\u{1B}[H\u{1B}[2J" : "\n") + body).utf8))
            try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
        }
    }
}

/// Where the live view comes from: the store (`--store`, else `daemon.store`), read only, and
/// the configuration for credits and KPIs: `--config`, else the one the daemon's heartbeat
/// names. A store that does not exist means no daemon ever ran on it: exit 3, said plainly.
struct LiveSource {
    let store: any Store
    var configuration: Configuration?
    var notes: [String] = []
    /// `--watch` recomputes credits and KPIs once a minute, not every redraw.
    let accounting = StatusAccounting()

    init(_ options: ConfigOptions, _ storeOption: StoreOption) async throws {
        let access = try StoreAccess(options, storeOption)
        var configuration = access.configuration
        let location = access.location
        guard access.storeMayExist else { throw NoStore(location: location) }
        store = try StoreFactory.open(location, access: .readOnly)
        if configuration == nil, let named = try await store.heartbeats().first?.configPath {
            configuration = try? ConfigLoader.load(path: named)
        }
        if configuration == nil {
            notes.append("no configuration readable (\(options.config)): credits and KPIs left out")
        }
        self.configuration = configuration
    }

    struct NoStore: Error {
        var location: String
    }

    /// The store read now; credits and KPIs as the running daemon keeps them (at most a minute
    /// old: computing them takes seconds at 200,000 lines), else computed here.
    func report(now: Date) async throws -> StatusReport {
        let kept = configuration == nil ? nil : await daemonFigures()
        return try await LiveStatus.report(store: store, configuration: configuration, now: now, notes: notes,
                                           accounting: accounting, figures: kept)
    }

    /// `credits_month_to_date` and `kpis_quarter_to_date` of the daemon's `GET /api/v1/status`.
    func daemonFigures() async -> StatusAccounting.Figures? {
        guard let configuration, let data = await DaemonAPI.get("/api/v1/status", configuration: configuration, timeout: 5),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let credits = (object["credits_month_to_date"] as? [String: Any]).flatMap(MonthCredits.init(json:)),
              let kpisObject = object["kpis_quarter_to_date"] as? [String: Any],
              let kpis = StatusReport.QuarterKPIs(json: kpisObject),
              let at = (kpisObject["as_of"] as? String).flatMap(RFC3339.parse) else { return nil }
        return StatusAccounting.Figures(credits: credits, kpis: kpis, at: at)
    }
}

/// `forewarn status --period`: the report as the daemon's `GET /api/v1/report` makes it.
enum OperationsReportCommand {
    static func report(_ period: ReportPeriod, _ options: ConfigOptions, _ storeOption: StoreOption,
                       now: Date) async throws -> OperationsReport {
        let access = try StoreAccess(options, storeOption, needConfiguration: true)
        do {
            return try await LiveStatus.operationsReport(period, configuration: access.configuration!, store: try access.read(),
                                                         now: now)
        } catch let error as LiveStatusError {
            throw CommandFailure(error.description)
        }
    }
}
