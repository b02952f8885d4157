import ArgumentParser
import ForewarnModel
import Foundation
import Persistence

struct ReportCall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report-call",
        abstract: "Log a customer's call about a line.",
        discussion: """
            The running daemon attaches the call to the incident covering the line (marking it \
            proactive if it was detected before the first call) or opens a customer-reported \
            incident and asks for a probe of the line and a poll of its element. Queued in the \
            store; the daemon takes it within a second.
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var storeOption: StoreOption
    @Option(help: ArgumentHelp("The line the customer called about.", valueName: "LINE")) var line: String
    @Option(help: ArgumentHelp("When the customer called (RFC 3339; default now).", valueName: "TIME")) var at: String?
    @Option(help: ArgumentHelp("What the customer said.", valueName: "TEXT")) var note: String = ""

    func validate() throws {
        if let at { _ = try StoreAccess.parseTime(at, option: "--at") }
    }

    func run() async throws {
        let access = try StoreAccess(options, storeOption)
        if let configuration = access.configuration, !configuration.lines.contains(where: { $0.id.rawValue == line }) {
            throw CommandFailure("unknown line '\(line)' (not in \(configuration.source))")
        }
        let time = try at.map { try StoreAccess.parseTime($0, option: "--at", bounds: access.timeBounds) } ?? Date()
        let report = CustomerReport(line: LineID(line), at: time, note: note, source: "cli")
        let id = try await access.open().enqueue(.reportCall(report), at: Date())
        print("call about line \(line) queued as command \(id)")
    }
}
