import ArgumentParser
import Foundation
import Persistence
import Reports

struct Incidents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List incidents, newest first.",
        discussion: """
            --json prints the documented, stable contract of docs/incidents-json.md: an array of \
            incidents with root, per-line intervals, customers and timestamps (RFC 3339, UTC).
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var storeOption: StoreOption
    @Flag(help: "Only incidents still open.") var open = false
    @Option(help: ArgumentHelp("Only incidents open at or resolved after this RFC 3339 time.", valueName: "TIME"))
    var since: String?
    @Flag(help: "Print JSON instead of text.") var json = false

    func validate() throws {
        if let since { _ = try StoreAccess.parseTime(since, option: "--since") }
    }

    func run() async throws {
        let access = try StoreAccess(options, storeOption)
        let sinceDate = try since.map { try StoreAccess.parseTime($0, option: "--since", bounds: access.timeBounds) }
        let records = try await access.read().incidents(openOnly: open, since: sinceDate)
        print(json ? IncidentList.json(records) : IncidentList.text(records))
    }
}
