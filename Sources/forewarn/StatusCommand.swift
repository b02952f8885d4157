import ArgumentParser
import Billing
import ForewarnConfig
import ForewarnModel
import Foundation
import Persistence
import Reports
import Stores

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show whether the daemon is alive and what it monitors, or a period's operations report.",
        discussion: """
            Without --period: reads the daemon's heartbeat from the store. Exit status 0 when a daemon \
            is alive (heartbeat younger than 30 s), 3 when none is, 1 on an error.

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
        let path: String
        if let store = storeOption.store {
            path = store
        } else {
            do {
                path = try ConfigLoader.load(path: options.config).daemon.storePath
            } catch {
                FileHandle.standardError.write(Data("forewarn: cannot read configuration:\n\(error)\n".utf8))
                throw ExitCode.failure
            }
        }
        let report = try await StatusReport(store: try StoreFactory.open(path, access: .readOnly))
        print(chosenFormat == .json ? report.json : report.text)
        if !report.anyAlive { throw ExitCode(3) }
    }
}

/// `forewarn status --period`: the store's incidents and line intervals, the configuration's
/// lines, targets and time zone, and Billing's credits, made into an operations report.
enum OperationsReportCommand {
    static func report(_ period: ReportPeriod, _ options: ConfigOptions, _ storeOption: StoreOption,
                       now: Date) async throws -> OperationsReport {
        let access = try StoreAccess(options, storeOption, needConfiguration: true)
        let configuration = access.configuration!
        let store = try access.read()
        let ledger = try CreditsAccess.ledger(access, store: store)
        guard let zone = TimeZone(identifier: configuration.billing.timeZone) else {
            throw CommandFailure("unknown time zone '\(configuration.billing.timeZone)' (billing.time_zone)")
        }
        var credits: [MonthCredits] = []
        for month in period.months {
            guard let billing = BillingPeriod(month) else { continue }
            let (closed, totals) = try await ledger.totals(billing, now: now)
            credits.append(MonthCredits(month: month, closed: closed, totals: totals))
        }
        let inputs = try await ReportInputs.read(
            from: store, period: period, zone: zone, now: now,
            inventory: ReportInventory(lines: configuration.lines, elements: configuration.elements),
            targets: configuration.reportTargets, credits: credits)
        return OperationsReport(inputs)
    }
}
