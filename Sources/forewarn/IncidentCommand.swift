import ArgumentParser
import ForewarnDaemon
import ForewarnModel
import Foundation
import Persistence
import Reports

struct IncidentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: """
            Show an incident, act on it (acknowledge, note, classify, resolve), enter incidents by hand \
            (add, import) or correct one (edit).
            """,
        discussion: """
            Actions are queued in the store; the running daemon applies them within a second and the \
            command prints the outcome. With no daemon running, the command applies them itself.
            """,
        subcommands: [Show.self, Acknowledge.self, Note.self, Classify.self, Resolve.self, Add.self, Edit.self,
                      Import.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an incident with its lines and timeline.")
        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Argument(help: ArgumentHelp("The incident's id.", valueName: "ID")) var id: Int64
        @Flag(help: "Print JSON (the incidents contract plus \"timeline\").") var json = false

        func run() async throws {
            let access = try StoreAccess(options, storeOption)
            guard let found = try await access.read().incident(IncidentID(id)) else {
                throw CommandFailure("no incident #\(id)")
            }
            print(json ? IncidentList.detailJSON(found) : IncidentList.detail(found))
        }
    }

    struct Common: ParsableArguments {
        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Argument(help: ArgumentHelp("The incident's id.", valueName: "ID")) var id: Int64
        @Option(help: ArgumentHelp("Who does it (default: $USER).", valueName: "NAME")) var by: String?

        func queue(_ kind: OperatorAction.Kind, what: String, at: Date = Date()) async throws {
            let action = OperatorAction(incident: IncidentID(id), kind: kind, by: by ?? StoreAccess.operatorName, at: at)
            let access = try StoreAccess(options, storeOption)
            try await access.submit(.action(action), what: "\(what) incident #\(id)")
        }
    }

    struct Acknowledge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ack", abstract: "Acknowledge an open incident.")
        @OptionGroup var common: Common
        func run() async throws { try await common.queue(.acknowledge, what: "acknowledge") }
    }

    struct Note: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a note to an incident's timeline.")
        @OptionGroup var common: Common
        @Argument(help: ArgumentHelp("The note.", valueName: "TEXT")) var text: String
        func run() async throws { try await common.queue(.note(text), what: "note on") }
    }

    struct Classify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Classify an incident's cause (credits depend on it).",
            discussion: "CAUSE: network, customer-caused, force-majeure or planned.")
        @OptionGroup var common: Common
        @Argument(help: ArgumentHelp("network, customer-caused, force-majeure or planned.", valueName: "CAUSE"))
        var cause: String

        func validate() throws {
            guard Classification(rawValue: cause) != nil else {
                throw ValidationError("CAUSE must be network, customer-caused, force-majeure or planned, not '\(cause)'")
            }
        }

        func run() async throws { try await common.queue(.classify(Classification(rawValue: cause)!), what: "classify") }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resolve an incident by hand.",
            discussion: """
                Its lines' outages end at --at (default now). Its faults that are still down open no new \
                incident until they have recovered.
                """)
        @OptionGroup var common: Common
        @Option(help: ArgumentHelp("Why.", valueName: "TEXT")) var note: String = ""
        @Option(help: ArgumentHelp("When it ended (RFC 3339, or YYYY-MM-DD HH:MM in --tz; default now).",
                                   valueName: "TIME"))
        var at: String?
        @OptionGroup var zone: ZoneOption

        func run() async throws {
            let now = Date()
            var end = now
            if let at {
                end = try StoreAccess.operatorTime(at, option: "--at", zone: try zone.timeZone())
                let access = try StoreAccess(common.options, common.storeOption)
                guard let found = try await access.read().incident(IncidentID(common.id)) else {
                    throw CommandFailure("no incident #\(common.id)")
                }
                if let problem = IncidentCorrection.resolveProblem(found.record, at: end, now: now) {
                    throw CommandFailure(problem.description)
                }
            }
            try await common.queue(.resolve(note: note), what: "resolve", at: end)
        }
    }
}
