import Foundation
import GRDB
import Logging
import Persistence
import PostgresNIO
import StorePostgres
import StoreSQLite

/// `forewarn store copy`: an installation's SQLite store moved into an empty PostgreSQL
/// database, table by table in one transaction, then read back from both, row by row in key
/// order, and compared. The SQLite file is held with the daemon's lock throughout (no daemon
/// writes it meanwhile) and brought to the current schema first; the PostgreSQL database gets
/// the same schema by its own migrations. Identity sequences continue after the copied ids.
public enum StoreCopy {
    /// What was copied: rows per table, in the order copied.
    public struct Report: Sendable {
        public var tables: [(name: String, rows: Int)]
    }

    /// Rows read and written per statement.
    static let page = 2_000

    public static func copy(from sqlitePath: String, to url: String,
                            progress: @Sendable (String) -> Void = { _ in }) async throws(StoreError) -> Report {
        // The daemon's lock on the file for the whole copy, and its schema brought up to date.
        guard let source = try SQLiteStore.openUnlessDaemonRuns(path: sqlitePath) else {
            throw StoreError(location: sqlitePath, operation: "copy",
                             reason: "a daemon runs on this store: stop it first (the copy must see every write)")
        }
        let target = try PostgresLocation(url: url)
        // The target's schema, by its own migrations.
        let store = try PostgresStore(target, access: .create)
        _ = try await store.heartbeats()
        var configuration = Configuration()
        configuration.readonly = true
        let reader: DatabaseQueue
        do {
            reader = try DatabaseQueue(path: sqlitePath, configuration: configuration)
        } catch {
            throw StoreError(location: sqlitePath, operation: "copy", reason: "\(error)")
        }
        let client = try Copier.client(target)
        let running = Task { await client.run() }
        defer { running.cancel() }
        let copier = Copier(source: reader, target: client, sourceName: sqlitePath, targetName: target.display)
        do {
            let report = try await copier.run(progress: progress)
            withExtendedLifetime(source) {}
            return report
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(location: target.display, operation: "copy", reason: Copier.describe(error))
        }
    }
}

/// One value as both stores hold it, typed by the PostgreSQL column it goes into.
enum CopiedValue: Equatable, CustomStringConvertible {
    case null, integer(Int64), boolean(Bool), text(String), real(Double), bytes([UInt8])

    var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let value): "\(value)"
        case .boolean(let value): "\(value)"
        case .text(let value): "'\(value.count > 60 ? value.prefix(60) + "…" : value)'"
        case .real(let value): "\(value)"
        case .bytes(let value): "\(value.count) bytes"
        }
    }
}

struct CopyFailure: Error {
    var text: String
}

struct Copier {
    let source: DatabaseQueue
    let target: PostgresClient
    let sourceName: String
    let targetName: String
    let logger = Logger(label: "forewarn.store.copy") { _ in SwiftLogNoOpLogHandler() }

    /// A table of the schema: its columns with their PostgreSQL types, its primary key.
    struct Table {
        var name: String
        var columns: [(name: String, type: String)]
        var key: [String]
        var identity: String?
    }

    static func client(_ target: PostgresLocation) throws(StoreError) -> PostgresClient {
        // The same connection settings as the store's own.
        try PostgresClientFactory.client(target, maximumConnections: 2)
    }

    static func describe(_ error: any Error) -> String {
        if let failure = error as? CopyFailure { return failure.text }
        if let transaction = error as? PostgresTransactionError, let cause = transaction.closureError {
            return describe(cause)
        }
        return PostgresStore.describe(error)
    }

    func run(progress: @Sendable (String) -> Void) async throws -> StoreCopy.Report {
        let tables = try await schema()
        let sourceTables = try await source.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        }
        let missing = tables.map(\.name).filter { !sourceTables.contains($0) }
        guard missing.isEmpty else {
            throw CopyFailure(text: "\(sourceName) has no table \(missing.joined(separator: ", ")): not a Forewarn store")
        }
        var report = StoreCopy.Report(tables: [])
        try await target.withTransaction(logger: logger) { connection in
            // The id allocator's row is the migrations' own: it is copied over.
            for table in tables where table.name != "id_allocation" {
                let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table.name)"),
                                                      logger: logger).collect()
                if try rows.first?.decode(Int64.self) ?? 0 > 0 {
                    throw CopyFailure(text: "\(targetName) already holds data (table \(table.name)): copy into an empty database")
                }
            }
            try await connection.query("DELETE FROM id_allocation", logger: logger)
            for table in tables {
                let count = try await copy(table, connection)
                report.tables.append((table.name, count))
                progress("copied \(table.name): \(count) rows")
            }
        }
        for table in tables {
            try await verify(table)
            progress("verified \(table.name)")
        }
        return report
    }

    /// The target's tables (all but the migrations' own) with columns, types and keys, parents
    /// first (every foreign key is deferred to the commit anyway).
    func schema() async throws -> [Table] {
        let rows = try await target.query("""
            SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.is_identity::text
            FROM information_schema.columns c JOIN information_schema.tables t
              ON t.table_name = c.table_name AND t.table_schema = c.table_schema
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name <> 'forewarn_migration'
            ORDER BY c.table_name, c.ordinal_position
            """, logger: logger).collect()
        var tables: [String: Table] = [:]
        var order: [String] = []
        for row in rows {
            let (name, column, type, identity) = try row.decode((String, String, String, String).self)
            if tables[name] == nil {
                tables[name] = Table(name: name, columns: [], key: [])
                order.append(name)
            }
            tables[name]!.columns.append((column, type))
            if identity == "YES" { tables[name]!.identity = column }
        }
        let keys = try await target.query("""
            SELECT tc.table_name::text, k.column_name::text FROM information_schema.table_constraints tc
            JOIN information_schema.key_column_usage k
              ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema
            WHERE tc.table_schema = current_schema() AND tc.constraint_type = 'PRIMARY KEY'
            ORDER BY tc.table_name, k.ordinal_position
            """, logger: logger).collect()
        for row in keys {
            let (name, column) = try row.decode((String, String).self)
            tables[name]?.key.append(column)
        }
        for name in order where tables[name]!.key.isEmpty {
            throw CopyFailure(text: "table \(name) of \(targetName) has no primary key")
        }
        // Parents first, so that reading the target in this order finds what rows refer to.
        let first = ["incident"]
        return (first + order.filter { !first.contains($0) }).compactMap { tables[$0] }
    }

    /// One page of the source table after `after` (a key), in key order.
    func sourcePage(_ table: Table, after: [DatabaseValue]?) async throws -> [[DatabaseValue]] {
        let columns = table.columns.map(\.name).joined(separator: ", ")
        let keys = table.key.joined(separator: ", ")
        var sql = "SELECT \(columns) FROM \(table.name)"
        var arguments: [DatabaseValue] = []
        if let after {
            sql += " WHERE (\(keys)) > (\(Array(repeating: "?", count: after.count).joined(separator: ", ")))"
            arguments = after
        }
        sql += " ORDER BY \(keys) LIMIT \(StoreCopy.page)"
        let query = sql
        let bound = arguments
        return try await source.read { db in
            try Row.fetchAll(db, sql: query, arguments: StatementArguments(bound)).map { row in
                (0..<row.count).map { row[$0] as DatabaseValue }
            }
        }
    }

    /// A source value as the target column's type; anything else is an error naming the row.
    func value(_ stored: DatabaseValue, _ table: Table, column: Int, row: [DatabaseValue]) throws -> CopiedValue {
        let (name, type) = table.columns[column]
        let converted: CopiedValue?
        switch (stored.storage, type) {
        case (.null, _): converted = .null
        case (.int64(let value), "bigint"): converted = .integer(value)
        case (.int64(let value), "boolean"): converted = value == 0 || value == 1 ? .boolean(value == 1) : nil
        case (.int64(let value), "double precision"): converted = .real(Double(value))
        case (.double(let value), "double precision"): converted = .real(value)
        case (.string(let value), "text"): converted = .text(value)
        case (.blob(let data), "bytea"): converted = .bytes([UInt8](data))
        case (.string(let value), "bytea"): converted = .bytes(Array(value.utf8))
        default: converted = nil
        }
        guard let converted else {
            let key = table.key.compactMap { key in table.columns.firstIndex { $0.name == key }.map { "\(key) \(row[$0])" } }
            throw CopyFailure(text: "\(sourceName): table \(table.name), \(key.joined(separator: ", ")): column \(name) "
                              + "holds \(stored), which is not a \(type)")
        }
        return converted
    }

    func copy(_ table: Table, _ connection: PostgresConnection) async throws -> Int {
        var count = 0
        var after: [DatabaseValue]?
        let keyIndexes = table.key.map { key in table.columns.firstIndex { $0.name == key }! }
        let columns = table.columns.map(\.name).joined(separator: ", ")
        while true {
            let page = try await sourcePage(table, after: after)
            if page.isEmpty { break }
            var bindings = PostgresBindings(capacity: page.count * table.columns.count)
            var tuples: [String] = []
            tuples.reserveCapacity(page.count)
            for row in page {
                var marks: [String] = []
                for index in row.indices {
                    switch try value(row[index], table, column: index, row: row) {
                    case .null: bindings.appendNull()
                    case .integer(let value): bindings.append(value)
                    case .boolean(let value): bindings.append(value)
                    case .text(let value): bindings.append(value)
                    case .real(let value): bindings.append(value)
                    case .bytes(let value): bindings.append(ByteBuffer(bytes: value))
                    }
                    marks.append("$\(bindings.count)::\(table.columns[index].type)")
                }
                tuples.append("(" + marks.joined(separator: ", ") + ")")
            }
            try await connection.query(PostgresQuery(
                unsafeSQL: "INSERT INTO \(table.name) (\(columns)) OVERRIDING SYSTEM VALUE VALUES \(tuples.joined(separator: ", "))",
                binds: bindings), logger: logger)
            count += page.count
            after = keyIndexes.map { page.last![$0] }
        }
        if let identity = table.identity {
            try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT setval(pg_get_serial_sequence('\(table.name)', '\(identity)'),
                              COALESCE((SELECT MAX(\(identity)) FROM \(table.name)), 0) + 1, false)
                """), logger: logger)
        }
        return count
    }

    /// Both stores read in key order, page by page, and compared value by value.
    func verify(_ table: Table) async throws {
        var after: [DatabaseValue]?
        var targetAfter: [CopiedValue]?
        let keyIndexes = table.key.map { key in table.columns.firstIndex { $0.name == key }! }
        while true {
            let page = try await sourcePage(table, after: after)
            let copied = try await targetPage(table, after: targetAfter)
            for (position, row) in page.enumerated() {
                let expected = try row.indices.map { try value(row[$0], table, column: $0, row: row) }
                guard position < copied.count else {
                    throw CopyFailure(text: "verification: table \(table.name) has fewer rows in \(targetName)")
                }
                if copied[position] != expected {
                    let column = expected.indices.first { expected[$0] != copied[position][$0] } ?? 0
                    let key = keyIndexes.map { "\(table.columns[$0].name) \(expected[$0])" }.joined(separator: ", ")
                    throw CopyFailure(text: "verification: table \(table.name), \(key): column \(table.columns[column].name) "
                                      + "differs (\(expected[column]) copied as \(copied[position][column]))")
                }
            }
            if copied.count > page.count {
                throw CopyFailure(text: "verification: table \(table.name) has more rows in \(targetName)")
            }
            if page.isEmpty { break }
            after = keyIndexes.map { page.last![$0] }
            targetAfter = keyIndexes.map { copied.last![$0] }
        }
    }

    func targetPage(_ table: Table, after: [CopiedValue]?) async throws -> [[CopiedValue]] {
        let columns = table.columns.map(\.name).joined(separator: ", ")
        let keys = table.key.joined(separator: ", ")
        var sql = "SELECT \(columns) FROM \(table.name)"
        var bindings = PostgresBindings()
        if let after {
            var marks: [String] = []
            for (index, value) in after.enumerated() {
                switch value {
                case .integer(let value): bindings.append(value)
                case .text(let value): bindings.append(value)
                case .boolean(let value): bindings.append(value)
                case .real(let value): bindings.append(value)
                case .bytes(let value): bindings.append(ByteBuffer(bytes: value))
                case .null: bindings.appendNull()
                }
                marks.append("$\(index + 1)::\(table.columns[table.columns.firstIndex { $0.name == table.key[index] }!].type)")
            }
            sql += " WHERE (\(keys)) > (\(marks.joined(separator: ", ")))"
        }
        sql += " ORDER BY \(keys) LIMIT \(StoreCopy.page)"
        let rows = try await target.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).collect()
        return try rows.map { row in
            let cells = row.makeRandomAccess()
            return try table.columns.indices.map { index -> CopiedValue in
                let cell = cells[index]
                guard cell.bytes != nil else { return .null }
                switch table.columns[index].type {
                case "bigint": return .integer(try cell.decode(Int64.self))
                case "boolean": return .boolean(try cell.decode(Bool.self))
                case "text": return .text(try cell.decode(String.self))
                case "double precision": return .real(try cell.decode(Double.self))
                case "bytea":
                    let buffer = try cell.decode(ByteBuffer.self)
                    return .bytes(Array(buffer.readableBytesView))
                default:
                    throw CopyFailure(text: "table \(table.name): column \(table.columns[index].name) has type "
                                      + "\(table.columns[index].type), which the copy does not know")
                }
            }
        }
    }
}
