import ArgumentParser
import ForewarnConfig
import ForewarnDaemon
import ForewarnModel
import Foundation
import Persistence
import Stores

/// A command's failure, printed as `forewarn: MESSAGE` with exit status `code` by `Forewarn.main`.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var code: Int32 = 1

    init(_ message: String, code: Int32 = 1) {
        self.message = message
        self.code = code
    }

    var description: String { message }
}

/// The store a command works on (`--store`, else the configuration's `daemon.store`) and the
/// configuration, when it can be read, for checking ids.
struct StoreAccess {
    var location: String
    var configuration: Configuration?
    /// The store was named with `--store` (not the configuration's `daemon.store`).
    var named: Bool

    init(_ options: ConfigOptions, _ storeOption: StoreOption, needConfiguration: Bool = false) throws(CommandFailure) {
        var configuration: Configuration?
        var problem: ConfigError?
        do {
            configuration = try ConfigLoader.load(path: options.config)
        } catch {
            problem = error
        }
        if let problem, storeOption.store == nil || needConfiguration {
            throw CommandFailure("cannot read configuration:\n\(problem)")
        }
        self.configuration = configuration
        named = storeOption.store != nil
        location = storeOption.store ?? configuration!.daemon.storePath
    }

    /// Whether the store may be there to read: a SQLite file that exists, or a PostgreSQL
    /// database (asked when opened).
    var storeMayExist: Bool { StoreFactory.isPostgres(location) || FileManager.default.fileExists(atPath: location) }

    /// The store, to queue work for the daemon. A missing store is an error (a mistyped
    /// `--store` must not queue work where no daemon will ever look).
    func open() throws(StoreError) -> any Store { try StoreFactory.open(location, access: .existing) }

    /// As `open`, but a missing store is created, so that maintenance can be planned before the
    /// daemon's first start; saying so on stderr, so that a mistyped path does not go unnoticed.
    func openCreatingStore() throws(StoreError) -> any Store {
        let missing = !StoreFactory.isPostgres(location) && !FileManager.default.fileExists(atPath: location)
        let store = try StoreFactory.open(location, access: .create)
        if missing {
            FileHandle.standardError.write(Data("""
                forewarn: note: store \(location) did not exist and was created: a daemon started on it \
                (daemon.store\(named ? " or --store" : "")) will apply what is queued there

                """.utf8))
        }
        return store
    }

    /// The store, read only, beside a running daemon.
    func read() throws(StoreError) -> any Store { try StoreFactory.open(location, access: .readOnly) }

    /// `text` as an instant within `bounds` (by default as far ahead as any configuration allows:
    /// before the configuration is read, in `validate()`).
    static func parseTime(_ text: String, option: String,
                          bounds: TimeBounds = TimeBounds(maxFutureSkew: ConfigLimits.maxFutureSkew.upperBound)) throws -> Date {
        guard let date = RFC3339.parse(text) else {
            throw ValidationError("\(option) must be an RFC 3339 time such as 2026-12-01T08:30:00Z, not '\(text)'")
        }
        if let problem = bounds.problem(with: date) {
            throw ValidationError("\(option) \(text) \(problem)")
        }
        return date
    }

    /// The instants this configuration accepts from a caller (`daemon.max_future_skew`).
    var timeBounds: TimeBounds { configuration?.daemon.timeBounds ?? TimeBounds() }

    /// Maintenance is planned ahead: up to `TimeBounds.planningHorizon`.
    static let planning = TimeBounds(maxFutureSkew: TimeBounds.planningHorizon)

    /// The OS user: `$USER`, else the account the process runs as (cron, systemd units, `sudo -E`).
    static var operatorName: String {
        if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
        return NSUserName()
    }

    /// An instant as operators type it (RFC 3339, or `YYYY-MM-DD HH:MM` in `zone`).
    static func operatorTime(_ text: String, option: String, zone: TimeZone) throws(CommandFailure) -> Date {
        switch OperatorTime.parse(text, in: zone) {
        case .success(let date): return date
        case .failure(let reason): throw CommandFailure("\(option): \(reason)")
        }
    }

    /// Queues an incident command and prints what came of it: applied by the running daemon, or
    /// here when none runs (`CommandSubmission`); a refusal is the command's failure.
    @discardableResult
    func submit(_ command: OperatorCommand, what: String, wait: Duration = .seconds(15)) async throws -> Int64 {
        let (id, outcome) = try await CommandSubmission.submit(command, location: location, configuration: configuration,
                                                               wait: wait)
        switch outcome {
        case .applied(let result, let byDaemon):
            guard !result.refused else { throw CommandFailure("\(what): \(result.result)") }
            print("\(what): done (" + (byDaemon ? "applied by the running daemon" : "no daemon running: applied here")
                  + ", command \(id))")
        case .waiting:
            print("\(what): queued as command \(id); the daemon has not applied it yet (it takes commands within a "
                  + "second: see `forewarn status`)")
        }
        return id
    }
}

/// The zone `YYYY-MM-DD HH:MM` times are read in.
struct ZoneOption: ParsableArguments {
    @Option(name: .customLong("tz"), help: ArgumentHelp(
        "Time zone (IANA) of times written YYYY-MM-DD HH:MM (default: the local zone).", valueName: "ZONE"))
    var zone: String?

    func timeZone() throws(CommandFailure) -> TimeZone {
        guard let zone else { return .current }
        guard let timeZone = TimeZone(identifier: zone) else {
            throw CommandFailure("--tz: unknown time zone '\(zone)' (an IANA name such as Europe/Prague)")
        }
        return timeZone
    }
}
