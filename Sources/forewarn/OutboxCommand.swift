import ArgumentParser
import ForewarnModel
import Foundation
import Persistence
import Reports

struct Outbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The ticket outbox: what hooks still have to be told, and dead letters.",
        discussion: """
            Without a subcommand lists entries waiting (--pending, the default) or given up on \
            (--dead). `retry` makes entries due now (a dead letter after its cause is fixed); `drop` \
            gives entries up for good (the updates behind a dropped open are then skipped).
            """,
        subcommands: [List.self, Retry.self, Drop.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List outbox entries.")
        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Flag(help: "Entries waiting to be delivered (the default).") var pending = false
        @Flag(help: "Dead letters: entries given up on.") var dead = false
        @Option(help: ArgumentHelp("At most this many.", valueName: "N")) var limit = 1_000
        @Flag(help: "Print JSON instead of text.") var json = false

        func validate() throws {
            if pending && dead { throw ValidationError("give --pending or --dead, not both") }
        }

        func run() async throws {
            let access = try StoreAccess(options, storeOption)
            let items = try await access.read().outbox(dead ? .dead : .pending, limit: limit)
            print(json ? OutboxList.json(items) : OutboxList.text(items, dead: dead))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make outbox entries due now.")
        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Argument(help: ArgumentHelp("Outbox entry ids (`forewarn outbox --dead`).", valueName: "ID")) var ids: [Int64]

        func run() async throws {
            let changed = try await StoreAccess(options, storeOption).open().scheduleOutbox(ids, at: Date())
            print("\(changed) of \(ids.count) entr\(ids.count == 1 ? "y" : "ies") due now")
            if changed < ids.count { throw CommandFailure("some ids are not undelivered outbox entries") }
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give outbox entries up for good.")
        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Argument(help: ArgumentHelp("Outbox entry ids.", valueName: "ID")) var ids: [Int64]
        @Option(help: ArgumentHelp("Why (kept with each entry).", valueName: "TEXT")) var reason: String

        func run() async throws {
            let changed = try await StoreAccess(options, storeOption).open().dropOutbox(ids, at: Date(),
                                                                                       reason: "\(reason) (by \(StoreAccess.operatorName))")
            print("\(changed) of \(ids.count) entr\(ids.count == 1 ? "y" : "ies") dropped")
            if changed < ids.count { throw CommandFailure("some ids are not undelivered outbox entries") }
        }
    }
}
