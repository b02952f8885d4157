import ArgumentParser
import ForewarnConfig
import Foundation
import Store

/// The store a command works on (`--store`, else the configuration's `daemon.store`) and the
/// configuration, when it can be read, for checking ids.
struct StoreAccess {
    var path: String
    var configuration: Configuration?

    init(_ options: ConfigOptions, _ storeOption: StoreOption, needConfiguration: Bool = false) throws {
        var configuration: Configuration?
        var problem: ConfigError?
        do {
            configuration = try ConfigLoader.load(path: options.config)
        } catch {
            problem = error
        }
        if let problem, storeOption.store == nil || needConfiguration {
            Self.fail("cannot read configuration:\n\(problem)")
        }
        self.configuration = configuration
        path = storeOption.store ?? configuration!.daemon.storePath
    }

    func open() throws -> SQLiteStore {
        do { return try SQLiteStore(path: path) } catch { Self.fail("\(error)") }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("forewarn: \(message)\n".utf8))
        Foundation.exit(1)
    }

    static func parseTime(_ text: String, option: String) throws -> Date {
        guard let date = Timestamps.parse(text) else {
            throw ValidationError("\(option) must be an RFC 3339 time such as 2026-12-01T08:30:00Z, not '\(text)'")
        }
        return date
    }

    static var operatorName: String { ProcessInfo.processInfo.environment["USER"] ?? "" }
}
