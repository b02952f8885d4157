import ArgumentParser
import Billing
import ForewarnConfig
import ForewarnDaemon
import ForewarnModel
import Foundation
import Persistence

/// `forewarn credits`: the billing feed of a period, closing it, the list of periods, the audit.
struct Credits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Outage credits per line and billing period: the feed billing imports.",
        discussion: """
            Prints one row per line with an outage (or an excluded one) in the period: CSV (RFC 4180, \
            the columns of docs/credits.md), JSON or text. A closed period is exported exactly as it was \
            closed; later changes to it appear as adjustment rows in the next open period.
            """,
        subcommands: [Export.self, Close.self, Periods.self, Explain.self],
        defaultSubcommand: Export.self)

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", abstract: "Print a period's credits.")

        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Option(help: ArgumentHelp("Billing period, a calendar month: 2026-11.", valueName: "YYYY-MM")) var period: String
        @Option(help: "csv, json or text.") var format: String = "csv"
        @Option(help: ArgumentHelp("Only this customer's lines.", valueName: "ID")) var customer: String?
        @Option(help: ArgumentHelp("Write to FILE instead of standard output.", valueName: "FILE")) var output: String?

        func validate() throws {
            _ = try CreditsAccess.period(period)
            guard CreditFeed.Format(rawValue: format) != nil else {
                throw ValidationError("--format must be csv, json or text, not '\(format)'")
            }
        }

        func run() async throws {
            let ledger = try CreditsAccess.ledger(options, storeOption)
            // Written as it is computed (CSV and JSON of an open period) or read (a closed one).
            let file = try PiecewiseOutput(output)
            do {
                try await ledger.export(try CreditsAccess.period(period), now: Date(),
                                        format: CreditFeed.Format(rawValue: format)!, customer: customer) {
                    try file.write($0)
                }
                try file.finish()
            } catch {
                file.abandon()
                throw error
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Freeze a period in the credit ledger.",
            discussion: """
                Refused before the period has ended. An incident still open is counted up to the \
                period's end (the rest counts in the next period). Prints the period's totals.
                """)

        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Option(help: ArgumentHelp("Billing period: 2026-11.", valueName: "YYYY-MM")) var period: String

        func validate() throws { _ = try CreditsAccess.period(period) }

        func run() async throws {
            let ledger = try CreditsAccess.ledger(options, storeOption, write: true)
            let feed = try await ledger.close(try CreditsAccess.period(period), now: Date())
            let totals = feed.totals.keys.sorted().map { "\(Money(minorUnits: feed.totals[$0]!, currency: $0).decimalText) \($0)" }
            print("closed \(period): \(feed.rows.count) rows" + (totals.isEmpty ? "" : ", credits \(totals.joined(separator: ", "))"))
        }
    }

    struct Periods: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List billing periods with state and totals per currency.")

        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption

        func run() async throws {
            let ledger = try CreditsAccess.ledger(options, storeOption)
            print(CreditLedger.periodsText(try await ledger.periods(now: Date())), terminator: "")
        }
    }

    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a line's credit arithmetic step by step, from each interval to the amount.")

        @OptionGroup var options: ConfigOptions
        @OptionGroup var storeOption: StoreOption
        @Option(help: ArgumentHelp("Line id.", valueName: "LINE")) var line: String
        @Option(help: ArgumentHelp("Billing period: 2026-11.", valueName: "YYYY-MM")) var period: String

        func validate() throws { _ = try CreditsAccess.period(period) }

        func run() async throws {
            let ledger = try CreditsAccess.ledger(options, storeOption)
            print(try await ledger.explain(line: LineID(line), period: try CreditsAccess.period(period), now: Date()),
                  terminator: "")
        }
    }
}

enum CreditsAccess {
    static func period(_ text: String) throws -> BillingPeriod {
        guard let period = BillingPeriod(text) else {
            throw ValidationError("--period must be a calendar month such as 2026-11, not '\(text)'")
        }
        return period
    }

    /// Credits need the configuration (contracts, policies), always.
    static func ledger(_ options: ConfigOptions, _ storeOption: StoreOption, write: Bool = false) throws -> CreditLedger {
        let access = try StoreAccess(options, storeOption, needConfiguration: true)
        return try ledger(access, store: write ? try access.open() : try access.read())
    }

    /// The ledger over `store`, with `access`'s configuration (which must have been read).
    static func ledger(_ access: StoreAccess, store: any Store) throws -> CreditLedger {
        try LiveStatus.ledger(access.configuration!, store: store)
    }

    static func write(_ text: String, to path: String?) throws {
        try write(Array(text.utf8), to: path)
    }

    static func write(_ bytes: [UInt8], to path: String?) throws {
        guard let path else {
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CommandFailure("cannot write \(path): \(error.localizedDescription)")
        }
    }
}

/// Standard output, or a file written in pieces and put in place only when whole: the pieces go
/// to a temporary file beside it, renamed over the file at the end, so a run that fails halfway
/// never leaves a truncated feed where billing picks it up.
final class PiecewiseOutput {
    let path: String?
    private let partial: String?
    private let handle: FileHandle

    init(_ path: String?) throws {
        self.path = path
        guard let path else {
            (partial, handle) = (nil, FileHandle.standardOutput)
            return
        }
        let partial = path + ".partial-\(getpid())"
        guard FileManager.default.createFile(atPath: partial, contents: nil),
              let handle = FileHandle(forWritingAtPath: partial) else {
            throw CommandFailure("cannot write \(path): cannot create \(partial)")
        }
        (self.partial, self.handle) = (partial, handle)
    }

    func write(_ bytes: [UInt8]) throws {
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw CommandFailure("cannot write \(path ?? "standard output"): \(error.localizedDescription)")
        }
    }

    func finish() throws {
        guard let path, let partial else { return }
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            throw CommandFailure("cannot write \(path): \(error.localizedDescription)")
        }
        guard rename(partial, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: partial)
            throw CommandFailure("cannot write \(path): \(reason)")
        }
    }

    func abandon() {
        guard let partial else { return }
        try? handle.close()
        try? FileManager.default.removeItem(atPath: partial)
    }
}
