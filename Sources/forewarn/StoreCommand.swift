import ArgumentParser
import Foundation
import Persistence
import Stores

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "The store itself: move an installation from SQLite to PostgreSQL.",
        subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a SQLite store into an empty PostgreSQL database, verified row by row.",
            discussion: """
                Stop the daemon first: the SQLite file is held with its lock for the whole copy. \
                The database gets Forewarn's schema by its own migrations; every table is copied in \
                one transaction (a failure leaves the database empty), then both stores are read \
                back in key order and compared value by value. Then set daemon.store to the URL \
                and start the daemon.
                """)

        @Option(help: ArgumentHelp("The SQLite store to copy.", valueName: "FILE")) var from: String
        @Option(help: ArgumentHelp("""
            The PostgreSQL database: postgresql://USER@HOST[:PORT]/DATABASE[?password_file=FILE&sslmode=MODE&sslrootcert=FILE].
            """, valueName: "URL"))
        var to: String

        func validate() throws {
            guard StoreFactory.isPostgres(to) else { throw ValidationError("--to must be a postgresql:// URL, not '\(to)'") }
            guard !StoreFactory.isPostgres(from) else { throw ValidationError("--from is a SQLite file, not a URL") }
        }

        func run() async throws {
            let clock = ContinuousClock()
            let started = clock.now
            let report = try await StoreCopy.copy(from: from, to: to) { line in
                FileHandle.standardError.write(Data("forewarn: \(line)\n".utf8))
            }
            let rows = report.tables.reduce(0) { $0 + $1.rows }
            let seconds = (clock.now - started).components
            print("copied \(rows) rows in \(report.tables.count) tables, verified row by row "
                  + "(\(seconds.seconds).\(String(format: "%01d", seconds.attoseconds / 100_000_000_000_000_000)) s)")
            for table in report.tables.filter({ $0.rows > 0 }) {
                print("  \(table.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(table.rows)")
            }
        }
    }
}
