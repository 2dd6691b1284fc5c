import FoundationEssentials
import Glibc
import Synchronization

/// The write-ahead log of a connection, for syncing it to disk without
/// holding the connection.
///
/// Commits made with `synchronous = NORMAL` (`SQLiteConnection.relaxed`) are
/// written to the WAL without waiting for the disk; one `fdatasync` of the
/// WAL later makes all of them durable, which is what SQLite's own `FULL`
/// commit does. Done by SQLite, that sync happens inside a commit, under
/// the connection's lock, so every job thread of the host waited for the
/// disk (3-4 ms here) at each group commit. Done here, only the caller waits.
///
/// The WAL keeps its inode while a connection has the database open
/// (runbook keeps it, `SQLITE_FCNTL_PERSIST_WAL`); should it be replaced
/// all the same (another program deleting it), the new file is opened.
final class WALFile: Sendable {
    private let path: String
    private let descriptor = Mutex<Int32>(-1)

    init(path: String) {
        self.path = path
    }

    deinit {
        descriptor.withLock { if $0 >= 0 { close($0) } }
    }

    /// Waits until everything written to the WAL so far is on the disk.
    /// - Throws: `StoreError` `.query` when the WAL cannot be opened or synced.
    func sync() throws(StoreError) {
        try descriptor.withLock { (fd: inout Int32) throws(StoreError) in
            var own = stat(), current = stat()
            if fd >= 0, fstat(fd, &own) != 0 || own.st_nlink == 0 || stat(path, &current) != 0
                || current.st_ino != own.st_ino || current.st_dev != own.st_dev {
                close(fd)
                fd = -1
            }
            if fd < 0 {
                fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw StoreError(.query, "cannot open the job store's log \(path) to sync it: \(Errno.current)") }
            }
            guard fdatasync(fd) == 0 else { throw StoreError(.query, "cannot sync the job store's log \(path): \(Errno.current)") }
        }
    }
}
