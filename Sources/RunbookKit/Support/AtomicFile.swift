import Foundation
import Glibc

/// Replaces a file so that a reader sees the old content or the new, never
/// half of either: the data goes to a temporary file beside it, under a
/// name no other writer (thread or process) uses, which is then renamed
/// over it. On failure the temporary file is removed and the old file stays.
enum AtomicFile {
    /// - Parameter mode: the new file's permissions; nil keeps the old file's
    ///   (a new file gets the umask's).
    /// - Throws: the cause as it is (a Foundation error, or `Errno` of the
    ///   rename); callers say what they were writing.
    static func write(_ data: Data, to url: URL, mode: Int16? = nil) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp")
        let permissions = mode ?? (try? FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber)?.int16Value
        do {
            try data.write(to: temporary)
            if let permissions { try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: temporary.path) }
            guard rename(temporary.path, url.path) == 0 else { throw Errno.current }
        } catch {
            unlink(temporary.path)
            throw error
        }
    }
}
