import ArgumentParser
import ForewarnConfig
import ForewarnModel
import Foundation
import Persistence

struct Maintenance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Planned work: incidents on what a window covers are planned (no ticket, no credit, no KPI).",
        subcommands: [Add.self, List.self, End.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a maintenance window.",
            discussion: "Kept in the store beside the configuration's windows; the running daemon takes it within a second.")

        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Option(help: ArgumentHelp("A name for the window.", valueName: "ID")) var id: String
        @Option(help: ArgumentHelp("Start (RFC 3339).", valueName: "TIME")) var start: String
        @Option(help: ArgumentHelp("End (RFC 3339).", valueName: "TIME")) var end: String
        @Option(name: .customLong("element"), help: ArgumentHelp("An element it covers (repeatable).", valueName: "ID"))
        var elements: [String] = []
        @Option(name: .customLong("line"), help: ArgumentHelp("A line it covers (repeatable).", valueName: "ID"))
        var lines: [String] = []
        @Option(help: ArgumentHelp("What the work is.", valueName: "TEXT")) var reason: String = ""

        func validate() throws {
            let from = try StoreAccess.parseTime(start, option: "--start", bounds: StoreAccess.planning)
            let to = try StoreAccess.parseTime(end, option: "--end", bounds: StoreAccess.planning)
            guard to > from else { throw ValidationError("--end must be after --start") }
            guard !elements.isEmpty || !lines.isEmpty else {
                throw ValidationError("a window covers something: give --element or --line")
            }
        }

        func run() async throws {
            let access = try StoreAccess(options, storeOption, needConfiguration: true)
            let configuration = access.configuration!
            let knownElements = Set(configuration.elements.map(\.id.rawValue))
            let knownLines = Set(configuration.lines.map(\.id.rawValue))
            for element in elements where !knownElements.contains(element) { throw CommandFailure("unknown element '\(element)'") }
            for line in lines where !knownLines.contains(line) { throw CommandFailure("unknown line '\(line)'") }
            if configuration.maintenance.contains(where: { $0.id.rawValue == id }) {
                throw CommandFailure("maintenance window '\(id)' is already in \(configuration.source)")
            }
            let window = MaintenanceWindow(id: MaintenanceID(id), start: try StoreAccess.parseTime(start, option: "--start", bounds: StoreAccess.planning),
                                           end: try StoreAccess.parseTime(end, option: "--end", bounds: StoreAccess.planning),
                                           elements: elements.map { ElementID($0) }, lines: lines.map { LineID($0) },
                                           reason: reason)
            let store = try access.openCreatingStore()
            if try await store.maintenanceWindows().contains(where: { $0.id == window.id }) {
                throw CommandFailure("maintenance window '\(id)' already exists")
            }
            let command = try await store.enqueue(.maintenanceAdd(window), at: Date())
            print("maintenance window \(id) added (command \(command))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List maintenance windows (configuration and store).")
        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Flag(help: "Print JSON instead of text.") var json = false

        func run() async throws {
            let access = try StoreAccess(options, storeOption)
            var windows: [(MaintenanceWindow, String)] = (access.configuration?.maintenance ?? []).map { ($0, "config") }
            if access.storeMayExist {
                windows += try await access.read().maintenanceWindows().map { ($0, "operator") }
            }
            windows.sort { $0.0.start != $1.0.start ? $0.0.start < $1.0.start : $0.0.id < $1.0.id }
            if json {
                let array = windows.map { window, source -> [String: Any] in
                    ["id": window.id.rawValue, "start": RFC3339.format(window.start), "end": RFC3339.format(window.end),
                     "elements": window.elements.map(\.rawValue), "lines": window.lines.map(\.rawValue),
                     "reason": window.reason, "source": source]
                }
                let data = try JSONSerialization.data(withJSONObject: array, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            if windows.isEmpty { print("no maintenance windows") }
            let now = Date()
            for (window, source) in windows {
                let state = window.covers(now) ? "active" : (window.end <= now ? "ended" : "upcoming")
                let covers = (window.elements.map { "element \($0)" } + window.lines.map { "line \($0)" })
                    .joined(separator: ", ")
                print("\(window.id) \(state): \(RFC3339.format(window.start)) – \(RFC3339.format(window.end)), "
                      + "\(covers) (\(source))" + (window.reason.isEmpty ? "" : ": \(window.reason)"))
            }
        }
    }
}

extension Maintenance {
    struct End: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a maintenance window early (one added with `maintenance add`).",
            discussion: "Incidents still planned when it ends continue as ordinary ones from then on.")

        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Option(help: ArgumentHelp("The window.", valueName: "ID")) var id: String
        @Option(help: ArgumentHelp("When it ended (RFC 3339; default now).", valueName: "TIME")) var at: String?

        func validate() throws {
            if let at { _ = try StoreAccess.parseTime(at, option: "--at", bounds: StoreAccess.planning) }
        }

        func run() async throws {
            let access = try StoreAccess(options, storeOption)
            if access.configuration?.maintenance.contains(where: { $0.id.rawValue == id }) == true {
                throw CommandFailure("maintenance window '\(id)' is in the configuration file: change it there and reload")
            }
            let end = try at.map { try StoreAccess.parseTime($0, option: "--at", bounds: StoreAccess.planning) } ?? Date()
            let store = try access.open()
            guard try await store.maintenanceWindows().contains(where: { $0.id.rawValue == id }) else {
                throw CommandFailure("no maintenance window '\(id)'")
            }
            let command = try await store.enqueue(.maintenanceEnd(MaintenanceID(id), at: end), at: Date())
            print("maintenance window \(id) ends at \(RFC3339.format(end)) (command \(command))")
        }
    }
}
