import Foundation
import Persistence

/// Where a PostgreSQL store is and how to reach it, from a URL in libpq's form:
///
///     postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?OPTION=VALUE&…]
///
/// Options: `password_file` (the password, one line; preferred to a password in the URL),
/// `sslmode` (`disable`, `prefer` (default), `require`, `verify-full`), `sslrootcert` (the CA
/// bundle `verify-full` trusts; the system's roots when absent), `host` (a Unix socket folder,
/// in place of the URL's host), `operation_timeout` (seconds an operation may wait for the
/// server before it fails; 30 by default, at least 600 for a report's or a batch's reads and
/// writes). The password never appears in `display`.
public struct PostgresLocation: Sendable, Equatable {
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without checking its certificate (libpq's default).
        case prefer
        /// TLS or no connection, without checking the certificate.
        case require
        /// TLS, the certificate checked against `sslrootcert` (or the system's roots) and the host name.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    /// A Unix socket folder (`host=/run/postgresql`): the socket is `FOLDER/.s.PGSQL.PORT`.
    public var socketFolder: String?
    public var database: String
    public var passwordFile: String?
    public var tls: TLSMode
    public var caFile: String?
    /// How long an ordinary operation may wait for the server; nil for the default.
    public var operationTimeout: Duration?

    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgresql://") || location.hasPrefix("postgres://")
    }

    /// The URL parsed; an error names what is wrong with it (never echoing a password).
    public init(url text: String) throws(StoreError) {
        func bad(_ reason: String) -> StoreError {
            StoreError(location: Self.redacted(text), operation: "open", reason: reason)
        }
        guard Self.isPostgres(text), let components = URLComponents(string: text) else {
            throw bad("not a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw bad("the URL names no user (postgresql://USER@HOST/DATABASE)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw bad("the URL names no database (postgresql://USER@HOST/DATABASE)")
        }
        self.user = user
        password = components.password
        host = components.host ?? ""
        port = components.port ?? 5432
        self.database = database.removingPercentEncoding ?? database
        tls = .prefer
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "password_file", "passfile":
                passwordFile = value
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw bad("sslmode '\(value)' is not one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tls = mode
            case "sslrootcert":
                caFile = value
            case "operation_timeout":
                guard let seconds = Int(value), (1...86_400).contains(seconds) else {
                    throw bad("operation_timeout is a number of seconds from 1 to 86400, not '\(value)'")
                }
                operationTimeout = .seconds(seconds)
            case "host":
                guard value.hasPrefix("/") else { throw bad("host= names a Unix socket folder (an absolute path)") }
                socketFolder = value
            default:
                throw bad("unknown option '\(item.name)' (known: password_file, sslmode, sslrootcert, host, operation_timeout)")
            }
        }
        if host.isEmpty && socketFolder == nil { throw bad("the URL names no host (postgresql://USER@HOST/DATABASE)") }
        if password != nil && passwordFile != nil { throw bad("a password in the URL and a password_file: give one") }
        if caFile != nil && tls != .verifyFull { throw bad("sslrootcert is used with sslmode=verify-full only") }
    }

    /// How the store is named in messages and `status`: no password, no options.
    public var display: String {
        let place = socketFolder.map { "\($0)/.s.PGSQL.\(port)" } ?? "\(host):\(port)"
        return "postgresql://\(user)@\(place)/\(database)"
    }

    /// `text` with any password replaced, for an error about a URL that did not parse.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@") else { return text }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":…" + String(text[at...])
    }

    /// The password: from the URL, or the first line of `password_file`; nil when neither
    /// (trust, peer or certificate authentication).
    func resolvedPassword() throws(StoreError) -> String? {
        if let password { return password }
        guard let passwordFile else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: passwordFile, encoding: .utf8)
        } catch {
            throw StoreError(location: display, operation: "open",
                             reason: "cannot read password_file \(passwordFile): \(Self.reason(error))")
        }
        guard let line = text.split(separator: "\n", omittingEmptySubsequences: false).first, !line.isEmpty else {
            throw StoreError(location: display, operation: "open", reason: "password_file \(passwordFile) is empty")
        }
        return String(line.hasSuffix("\r") ? line.dropLast() : line)
    }

    static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code))).lowercased()
        }
        return nsError.localizedDescription
    }
}
