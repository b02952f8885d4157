import ArgumentParser
import ForewarnDaemon
import ForewarnModel
import Foundation
import Persistence

extension IncidentCommand {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enter an incident monitoring did not see (or one from before it watched).",
            discussion: """
                It becomes an ordinary incident, marked manual: ticket, credits, KPIs and reports count it \
                like a detected one. Without --end it stays open until `forewarn incident resolve ID --at TIME`. \
                --element takes every line behind the element, as an incident rooted there would. \
                --ticket records a ticket that exists already instead of opening one.
                """)

        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Option(help: ArgumentHelp("The lines hit, comma-separated.", valueName: "L1,L2…")) var lines: String?
        @Option(help: ArgumentHelp("The element that failed: every line behind it.", valueName: "ELEMENT"))
        var element: String?
        @Option(help: ArgumentHelp("The customer hit: every line of theirs.", valueName: "CUSTOMER")) var customer: String?
        @Option(help: ArgumentHelp("When the outage began (RFC 3339, or YYYY-MM-DD HH:MM in --tz).", valueName: "TIME"))
        var start: String
        @Option(help: ArgumentHelp("When it ended (omit while it lasts).", valueName: "TIME")) var end: String?
        @Option(help: ArgumentHelp("network (default), customer-caused, force-majeure or planned.", valueName: "CAUSE"))
        var classification: String?
        @Option(help: ArgumentHelp("What happened.", valueName: "TEXT")) var note: String?
        @Option(help: ArgumentHelp("When the first customer called about it.", valueName: "TIME")) var firstCall: String?
        @Option(help: ArgumentHelp("The ticket that exists for it already (none is opened).", valueName: "ID"))
        var ticket: String?
        @OptionGroup var zone: ZoneOption
        @Option(help: ArgumentHelp("Who enters it (default: $USER).", valueName: "NAME")) var by: String?

        func run() async throws {
            let access = try StoreAccess(options, storeOption, needConfiguration: true)
            let rules = ManualEntryRules(configuration: access.configuration!, now: Date(), timeZone: try zone.timeZone(),
                                         by: by ?? StoreAccess.operatorName)
            var draft = ManualIncidentDraft(location: "forewarn incident add", source: "command line")
            func value(_ text: String?, _ option: String) -> ManualIncidentDraft.Value? {
                text.map { ManualIncidentDraft.Value($0, at: option) }
            }
            draft.lines = value(lines, "--lines")
            draft.element = value(element, "--element")
            draft.customer = value(customer, "--customer")
            draft.start = value(start, "--start")
            draft.end = value(end, "--end")
            draft.classification = value(classification, "--classification")
            draft.note = value(note, "--note")
            draft.firstCall = value(firstCall, "--first-call")
            draft.ticket = value(ticket, "--ticket")
            var incident: ManualIncident
            switch draft.check(rules) {
            case .success(let checked): incident = checked
            case .failure(let error): throw CommandFailure(error.description)
            }
            let store = try access.open()
            let stored = try await store.manualIncidents(startingFrom: incident.start, to: incident.start)
            if let problem = ManualEntry.alreadyEntered([(incident, "forewarn incident add")], stored: stored).first {
                throw CommandFailure(problem.description)
            }
            incident.id = IncidentID(try await store.reserveIncidentIDs(1).lowerBound)
            let span = "from \(RFC3339.format(incident.start))" + (incident.end.map { " to \(RFC3339.format($0))" } ?? "")
            try await access.submit(.addIncidents([incident]),
                                    what: "incident \(incident.id) (\(incident.lines.count) line"
                                        + "\(incident.lines.count == 1 ? "" : "s") \(span))")
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct an incident: a line's interval, or the classification.",
            discussion: """
                --start corrects the start of the line's first interval in the incident, --end the end of \
                its last. The old and new values and the reason go to the timeline; credits of a closed \
                period are corrected by an adjustment on the next bill.
                """)

        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Argument(help: ArgumentHelp("The incident's id.", valueName: "ID")) var id: Int64
        @Option(help: ArgumentHelp("The line whose interval is corrected.", valueName: "LINE")) var line: String?
        @Option(help: ArgumentHelp("Its corrected start (RFC 3339, or YYYY-MM-DD HH:MM in --tz).", valueName: "TIME"))
        var start: String?
        @Option(help: ArgumentHelp("Its corrected end.", valueName: "TIME")) var end: String?
        @Option(help: ArgumentHelp("network, customer-caused, force-majeure or planned.", valueName: "CAUSE"))
        var classification: String?
        @Option(help: ArgumentHelp("Why (required).", valueName: "TEXT")) var reason: String
        @OptionGroup var zone: ZoneOption
        @Option(help: ArgumentHelp("Who corrects it (default: $USER).", valueName: "NAME")) var by: String?

        func validate() throws {
            if let classification, Classification(rawValue: classification) == nil {
                throw ValidationError("--classification must be network, customer-caused, force-majeure or planned, "
                                      + "not '\(classification)'")
            }
        }

        func run() async throws {
            let access = try StoreAccess(options, storeOption)
            let timeZone = try zone.timeZone()
            guard let found = try await access.read().incident(IncidentID(id)) else {
                throw CommandFailure("no incident #\(id)")
            }
            let request = IncidentCorrection.Request(
                line: line.map { LineID($0) },
                start: try start.map { try StoreAccess.operatorTime($0, option: "--start", zone: timeZone) },
                end: try end.map { try StoreAccess.operatorTime($0, option: "--end", zone: timeZone) },
                classification: classification.flatMap(Classification.init(rawValue:)), reason: reason,
                by: by ?? StoreAccess.operatorName)
            switch IncidentCorrection.edit(found.record, request, now: Date()) {
            case .failure(let error): throw CommandFailure(error.description)
            case .success(let edit): try await access.submit(.editIncident(edit), what: "correct incident #\(id)")
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enter many incidents from a CSV file: all of them, or none.",
            discussion: """
                A header row names the columns: lines (or element, or customer), start, end, \
                classification, note, first_call, ticket. One bad row refuses the whole file, each \
                problem named FILE:ROW:COLUMN (the header is row 1); the rest is recorded in one \
                transaction. --dry-run checks without writing.
                """)

        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Argument(help: ArgumentHelp("The CSV file.", valueName: "FILE.csv")) var file: String
        @Flag(help: "Check the file and say what it would enter; write nothing.") var dryRun = false
        @OptionGroup var zone: ZoneOption
        @Option(help: ArgumentHelp("Who enters them (default: $USER).", valueName: "NAME")) var by: String?

        func run() async throws {
            let access = try StoreAccess(options, storeOption, needConfiguration: true)
            let rules = ManualEntryRules(configuration: access.configuration!, now: Date(), timeZone: try zone.timeZone(),
                                         by: by ?? StoreAccess.operatorName)
            var entries: [(incident: ManualIncident, location: String)]
            switch IncidentImport.read(path: file, shownAs: file, rules: rules) {
            case .success(let read): entries = read
            case .failure(let error): throw Self.refused(error)
            }
            let starts = entries.map(\.incident.start)
            let storeExists = access.storeMayExist
            if storeExists || !dryRun {
                let stored = try await access.read().manualIncidents(startingFrom: starts.min()!, to: starts.max()!)
                let repeated = ManualEntry.alreadyEntered(entries, stored: stored)
                if !repeated.isEmpty { throw Self.refused(ManualEntryError(repeated)) }
            }
            let intervals = entries.reduce(0) { $0 + $1.incident.lines.count }
            let summary = "\(entries.count) incident\(entries.count == 1 ? "" : "s"), \(intervals) line interval"
                + "\(intervals == 1 ? "" : "s")"
            if dryRun {
                print("\(file): \(summary): valid; nothing written (--dry-run)")
                return
            }
            let store = try access.open()
            let ids = try await store.reserveIncidentIDs(entries.count)
            for (offset, id) in ids.enumerated() { entries[offset].incident.id = IncidentID(id) }
            // A daemon applying a large file is busy for a while: it is given a minute or two.
            try await access.submit(.addIncidents(entries.map(\.incident)),
                                    what: "\(file): \(summary) as #\(ids.lowerBound)–#\(ids.upperBound - 1)",
                                    wait: .seconds(15 + entries.count / 100))
        }

        static func refused(_ error: ManualEntryError) -> CommandFailure {
            let count = error.problems.count
            return CommandFailure("nothing imported: \(count) problem\(count == 1 ? "" : "s")\n\(error)")
        }
    }
}
