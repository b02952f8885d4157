#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ForewarnModel

/// Reads the files Forewarn is given: the configuration, the CSV, secret and preset files it
/// names, and target lists (`--file`). A regular file or a pipe is read; a folder or a device is
/// refused with what it is (Foundation reports `/dev/zero` as "permission denied" and reads a
/// pipe of endless bytes until memory runs out).
public enum InputFile {
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// At most this many bytes are read from one file.
    public static let limit = 1 << 30

    /// The whole file.
    public static func bytes(_ path: String) throws(Problem) -> [UInt8] {
        let descriptor = try open(path)
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try read(descriptor, into: &chunk, path: path)
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            if bytes.count > limit { throw Problem(path: path, reason: "larger than \(limit >> 20) MiB") }
        }
    }

    /// The whole file as UTF-8 text.
    public static func text(_ path: String) throws(Problem) -> String {
        let bytes = try bytes(path)
        if let bad = TextBytes.invalidUTF8(bytes[...]) {
            let line = bytes[..<bad].reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            throw Problem(path: path, reason: "not UTF-8 text (byte 0x\(String(bytes[bad], radix: 16, uppercase: true)) on line \(line))")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A file read line by line, a chunk at a time: memory stays bounded whatever its length.
    public final class Lines {
        public let path: String
        private let descriptor: Int32
        private var buffer: [UInt8] = []
        private var start = 0
        private var ended = false
        private var chunk = [UInt8](repeating: 0, count: 1 << 16)
        /// The number of the line `next()` returned last, from 1.
        public private(set) var number = 0
        /// Longer lines are an error, not an unbounded buffer.
        public static let maximumLength = 1 << 16

        public init(_ path: String) throws(Problem) {
            self.path = path
            descriptor = try InputFile.open(path)
        }

        deinit { close(descriptor) }

        /// The next line without its line break, or nil at the end.
        public func next() throws(Problem) -> String? {
            while true {
                if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    return try take(upTo: newline, skipping: 1)
                }
                if ended {
                    return start < buffer.count ? try take(upTo: buffer.count, skipping: 0) : nil
                }
                if buffer.count - start > Self.maximumLength {
                    throw Problem(path: path, reason: "line \(number + 1) is longer than \(Self.maximumLength) bytes")
                }
                buffer.removeFirst(start)
                start = 0
                let count = try InputFile.read(descriptor, into: &chunk, path: path)
                if count == 0 { ended = true } else { buffer += chunk[0..<count] }
            }
        }

        private func take(upTo end: Int, skipping: Int) throws(Problem) -> String {
            number += 1
            var last = end
            if last > start && buffer[last - 1] == UInt8(ascii: "\r") { last -= 1 }
            let line = buffer[start..<last]
            start = end + skipping
            if let problem = TextBytes.problem(line) {
                throw Problem(path: path, reason: "line \(number) \(problem.replacingOccurrences(of: "of the value", with: "of the line"))")
            }
            return String(decoding: line, as: UTF8.self)
        }
    }

    static func open(_ path: String) throws(Problem) -> Int32 {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Problem(path: path, reason: openFailure(path, errno)) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let reason = systemReason(errno)
            close(descriptor)
            throw Problem(path: path, reason: reason)
        }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFIFO else {
            close(descriptor)
            throw Problem(path: path, reason: "is \(FileKind.describe(kind)), not a file")
        }
        return descriptor
    }

    private static func read(_ descriptor: Int32, into chunk: inout [UInt8], path: String) throws(Problem) -> Int {
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count >= 0 { return count }
            if errno != EINTR { throw Problem(path: path, reason: systemReason(errno)) }
        }
    }

    private static func openFailure(_ path: String, _ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES: return "permission denied"
        case ENOTDIR:
            // Which part of the path stands where a folder should be: the outermost one.
            var ancestors: [String] = []
            var folder = (path as NSString).deletingLastPathComponent
            while !folder.isEmpty && folder != "/" {
                ancestors.insert(folder, at: 0)
                folder = (folder as NSString).deletingLastPathComponent
            }
            var info = stat()
            for ancestor in ancestors where stat(ancestor, &info) == 0 && info.st_mode & S_IFMT != S_IFDIR {
                return "\(ancestor) is \(FileKind.describe(info.st_mode & S_IFMT)), not a folder"
            }
            return "a part of the path is not a folder"
        default: return systemReason(code)
        }
    }

    static func systemReason(_ code: Int32) -> String { String(cString: strerror(code)).lowercased() }
}
