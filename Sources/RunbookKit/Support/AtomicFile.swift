import FoundationEssentials
import Glibc

/// Replaces a file so that a reader sees the old content or the new, never
/// half of either: the data goes to a temporary file beside it, under a
/// name no other writer (thread or process) uses, which is then renamed
/// over it. On failure the temporary file is removed and the old file stays.
enum AtomicFile {
    /// - Parameter mode: the new file's permissions; nil keeps the old file's
    ///   (a new file gets the umask's).
    /// - Throws: the cause as it is (a Foundation error, or `Errno` of the
    ///   chmod or rename); callers say what they were writing.
    static func write(_ data: Data, to url: URL, mode: Int16? = nil) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp")
        var old = stat()
        let permissions = mode.map { mode_t($0) } ?? (stat(url.path, &old) == 0 ? old.st_mode & 0o7777 : nil)
        do {
            try data.write(to: temporary)
            if let permissions, chmod(temporary.path, permissions) != 0 { throw Errno.current }
            guard rename(temporary.path, url.path) == 0 else { throw Errno.current }
        } catch {
            unlink(temporary.path)
            throw error
        }
    }
}
