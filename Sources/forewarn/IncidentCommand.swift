import ArgumentParser
import ForewarnModel
import Foundation
import Persistence
import Reports

struct IncidentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "Show an incident, or act on it: acknowledge, add a note, classify the cause, resolve.",
        discussion: "Actions are queued in the store; the running daemon applies them within a second.",
        subcommands: [Show.self, Acknowledge.self, Note.self, Classify.self, Resolve.self])

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

        func queue(_ kind: OperatorAction.Kind, what: String) async throws {
            let action = OperatorAction(incident: IncidentID(id), kind: kind, by: by ?? StoreAccess.operatorName,
                                        at: Date())
            let access = try StoreAccess(options, storeOption)
            let command = try await access.open().enqueue(.action(action), at: Date())
            print("\(what) incident #\(id): queued as command \(command)")
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
            discussion: "Its faults that are still down open no new incident until they have recovered.")
        @OptionGroup var common: Common
        @Option(help: ArgumentHelp("Why.", valueName: "TEXT")) var note: String = ""
        func run() async throws { try await common.queue(.resolve(note: note), what: "resolve") }
    }
}
