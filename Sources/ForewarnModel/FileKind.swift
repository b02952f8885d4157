#if canImport(Glibc)
import Glibc
#endif

/// What a path names, in words, for messages about the files Forewarn is given.
public enum FileKind {
    /// `kind`: `st_mode & S_IFMT`.
    public static func describe(_ kind: mode_t) -> String {
        switch kind {
        case S_IFREG: return "a file"
        case S_IFDIR: return "a folder"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a named pipe"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }
}
