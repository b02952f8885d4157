#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Persistence
import PostgresNIO
import StorePostgres

/// A PostgreSQL server of the benchmark's own (`scripts/postgres-server`), in a temporary folder
/// that holds whatever else the run writes. `stop()` stops the server and removes the folder; so
/// does a keeper process when this one ends any other way (an error, a crash, a signal): the
/// keeper waits for its input to close, which the kernel does when this process goes.
final class BenchPostgresServer {
    let folder: String
    /// `postgresql://forewarn@127.0.0.1:PORT/forewarn?sslmode=disable`
    let url: String
    private let keeper: Process
    private let keeperInput: Pipe

    init() throws {
        let script = try Self.script()
        var template = Array("/tmp/forewarn-bench-pg.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw BenchError("cannot make a temporary folder: errno \(errno)") }
        folder = String(cString: made)
        chmod(folder, 0o755)  // the server runs as the postgres user when this runs as root
        keeperInput = Pipe()
        // This process's alone: the server started below must not hold the keeper's input open.
        _ = fcntl(keeperInput.fileHandleForWriting.fileDescriptor, F_SETFD, FD_CLOEXEC)
        keeper = Process()
        keeper.executableURL = URL(fileURLWithPath: "/bin/bash")
        // Deaf to the terminal's signals: Ctrl-C stops the benchmark, the keeper then cleans up.
        keeper.arguments = ["-c", #"trap "" INT TERM HUP; cat >/dev/null; "$0" stop "$1/server"; rm -rf "$1""#,
                            script, folder]
        keeper.standardInput = keeperInput
        keeper.standardOutput = FileHandle.nullDevice
        try keeper.run()
        do {
            url = try Self.start(script, in: folder + "/server")
        } catch {
            try? keeperInput.fileHandleForWriting.close()
            keeper.waitUntilExit()
            throw error
        }
    }

    /// `scripts/postgres-server start FOLDER`; the URL it prints. Not through Foundation's
    /// `Process`, which learns of a child's end when a descriptor the child inherits is closed:
    /// the server it leaves running would keep that one open.
    private static func start(_ script: String, in folder: String) throws -> String {
        let printed = folder + ".url"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, printed, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let arguments: [UnsafeMutablePointer<CChar>?] = [script, "start", folder].map { (text: String) in strdup(text) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, script, &actions, nil, arguments, environ)
        guard spawned == 0 else { throw BenchError("cannot run \(script): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let url = ((try? String(contentsOfFile: printed, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard status == 0, url.hasPrefix("postgresql://") else {
            throw BenchError("\(script) start did not start a server (wait status \(status), printed '\(url)')")
        }
        return url
    }

    /// A new, empty database on the server (beside `url`'s); its URL.
    func freshDatabase(_ name: String) throws -> String {
        let client = try PostgresClientFactory.client(PostgresLocation(url: url), maximumConnections: 1)
        let outcome = Result<Void, any Error>.Box()
        let done = DispatchSemaphore(value: 0)
        Task {
            let running = Task { await client.run() }
            do {
                try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
                outcome.value = .success(())
            } catch {
                outcome.value = .failure(error)
            }
            running.cancel()
            done.signal()
        }
        done.wait()
        try outcome.value!.get()
        return url.replacingOccurrences(of: "/forewarn?", with: "/\(name)?")
    }

    /// The server stopped, the folder removed.
    func stop() {
        try? keeperInput.fileHandleForWriting.close()
        keeper.waitUntilExit()
    }

    /// `scripts/postgres-server` of the checkout this runs in (`make bench` runs from its root).
    static func script() throws -> String {
        var folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<4 {
            let script = folder.appendingPathComponent("scripts/postgres-server").path
            if FileManager.default.isExecutableFile(atPath: script) { return script }
            folder.deleteLastPathComponent()
        }
        throw BenchError("scripts/postgres-server not found: run from the repository's root (make bench)")
    }
}
