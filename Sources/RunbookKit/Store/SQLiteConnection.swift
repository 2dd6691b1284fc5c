import CSQLite
import FoundationEssentials

/// One SQLite database handle.
///
/// Invariant behind `@unchecked Sendable`: the `sqlite3` pointer is only
/// touched while `lock` is held, so calls from several threads are
/// serialised; a transaction holds the lock from BEGIN to COMMIT, so no
/// other thread's statement can slip into it (the lock is recursive for
/// the statements inside). SQLite itself coordinates with other processes
/// through its file locks (WAL mode, a busy timeout).
final class SQLiteConnection: SQLDatabase, @unchecked Sendable {
    private let handle: OpaquePointer
    private let lock = RecursiveLock()
    private let transactions = TransactionNesting()
    let path: String
    var displayName: String { path }
    /// The WAL, for syncing it outside `lock` (`WALFile`).
    let wal: WALFile

    /// Opens (creating if needed) the database at `path` in WAL mode with
    /// full durability and a busy timeout long enough for several CLI
    /// processes and a host to share it.
    /// - Parameter lifetime: how long the caller keeps it open, which
    ///   decides how long the WAL may grow (`checkpointFrames(for:)`).
    init(path: String, lifetime: StoreLifetime = .command) throws(StoreError) {
        self.path = path
        wal = WALFile(path: path + "-wal")
        var pointer: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path, &pointer, flags, nil)
        guard result == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let pointer { sqlite3_close_v2(pointer) }
            throw StoreError(.open, "cannot open the job store \(path): \(message); check that the state directory is writable", sqliteCode: result)
        }
        handle = pointer
        sqlite3_busy_timeout(handle, 15_000)
        sqlite3_extended_result_codes(handle, 1)
        // Every CLI command is a short-lived connection. By default the last
        // one to close checkpoints and deletes the WAL, and the next one
        // re-creates it (a directory sync): four disk syncs per command that
        // buy nothing. The WAL stays, and checkpoints happen as it grows
        // (SQLite's automatic checkpoint, at `checkpointFrames(for:)`).
        var persist: Int32 = 1
        sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
        rb_sqlite_no_checkpoint_on_close(handle)
        do {
            try execute("PRAGMA journal_mode = WAL")
            try execute("PRAGMA synchronous = FULL")
            try execute("PRAGMA foreign_keys = ON")
            if let frames = Self.checkpointFrames(for: lifetime) { try execute("PRAGMA wal_autocheckpoint = \(frames)") }
        } catch {
            sqlite3_close_v2(handle)
            throw error
        }
    }

    deinit { sqlite3_close_v2(handle) }

    /// How many frames the WAL may hold before a commit checkpoints it; nil
    /// for SQLite's default (1,000 frames, 4 MB).
    ///
    /// The WAL's length is what the first process to open the database
    /// pays: with no other connection open, SQLite rebuilds the -shm by
    /// reading every frame written since the log last restarted, about
    /// 1.5 µs a frame here, and a `runbook run` writes 15-20 frames. At the
    /// default that is 0.75 ms per command on average, more than half of
    /// opening the store. A command checkpoints at 128 frames instead: the
    /// checkpoint and the restart of the log by the commit after it cost a
    /// sync each, less than the reads they save (`runbook run` of a no-op
    /// runbook, 400 in a row, mean 10.27 ms against 10.81 ms; anywhere from
    /// 60 to 300 frames measured the same). Two alternatives cost more:
    /// - a checkpoint when the command closes the store: the next process's
    ///   recovery does not know the log was copied (it starts the copied
    ///   mark at 0), so it appends instead of restarting the log, and the
    ///   WAL keeps growing;
    /// - deleting or truncating the WAL: the next writer re-creates or
    ///   extends the file, a sync of the directory or of the file's size.
    /// The host keeps the default: its connection stays open, so nobody
    /// recovers while it runs, and a checkpoint's syncs happen under the
    /// connection's lock, where every job thread would wait for them. A
    /// command's commit that finds the host's WAL long checkpoints it
    /// (recovery was not its cost then, but the copy had to happen anyway).
    static func checkpointFrames(for lifetime: StoreLifetime) -> Int? {
        switch lifetime {
        case .command: return 128
        case .service: return nil
        }
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws(StoreError) {
        try lock.withLock { () throws(StoreError) in
            var errorMessage: UnsafeMutablePointer<CChar>?
            let result = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
            if result != SQLITE_OK {
                let message = errorMessage.map { String(cString: $0) } ?? "error \(result)"
                sqlite3_free(errorMessage)
                throw failure(result, message)
            }
        }
    }

    /// Runs `sql` with `parameters` bound to `?1`, `?2`, ... and returns every row.
    @discardableResult
    func query(_ sql: String, _ parameters: [SQLValue]) throws(StoreError) -> [SQLRow] {
        try lock.withLock { () throws(StoreError) in
            var statement: OpaquePointer?
            let prepared = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
            guard prepared == SQLITE_OK, let statement else {
                throw failure(prepared, String(cString: sqlite3_errmsg(handle)))
            }
            defer { sqlite3_finalize(statement) }
            for (index, value) in parameters.enumerated() {
                let position = Int32(index + 1)
                switch value {
                case .integer(let number): sqlite3_bind_int64(statement, position, number)
                case .real(let number): sqlite3_bind_double(statement, position, number)
                case .text(let text): sqlite3_bind_text(statement, position, text, -1, SQLiteConnection.transient)
                case .blob(let data):
                    data.withUnsafeBytes { bytes in
                        _ = sqlite3_bind_blob(statement, position, bytes.baseAddress, Int32(bytes.count), SQLiteConnection.transient)
                    }
                case .null: sqlite3_bind_null(statement, position)
                }
            }
            var rows: [SQLRow] = []
            while true {
                let stepped = sqlite3_step(statement)
                if stepped == SQLITE_DONE { break }
                guard stepped == SQLITE_ROW else { throw failure(stepped, String(cString: sqlite3_errmsg(handle))) }
                let count = sqlite3_column_count(statement)
                var values: [SQLValue] = []
                values.reserveCapacity(Int(count))
                for column in 0..<count {
                    switch sqlite3_column_type(statement, column) {
                    case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(statement, column)))
                    case SQLITE_FLOAT: values.append(.real(sqlite3_column_double(statement, column)))
                    case SQLITE_NULL: values.append(.null)
                    case SQLITE_BLOB:
                        let count = Int(sqlite3_column_bytes(statement, column))
                        values.append(.blob(sqlite3_column_blob(statement, column).map { Data(bytes: $0, count: count) } ?? Data()))
                    default:
                        if let text = sqlite3_column_text(statement, column) {
                            values.append(.text(String(cString: text)))
                        } else {
                            values.append(.null)
                        }
                    }
                }
                rows.append(SQLRow(values: values))
            }
            return rows
        }
    }


    /// Runs `body` with `synchronous = NORMAL`: its commits reach the WAL
    /// (safe from a crash of this process) without waiting for the disk;
    /// the next commit at the default `FULL` syncs them with it. For
    /// records whose loss in a power failure costs nothing a later record
    /// does not restore.
    @discardableResult
    func relaxed<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock { () throws -> T in
            try execute("PRAGMA synchronous = NORMAL")
            defer { try? execute("PRAGMA synchronous = FULL") }
            return try body()
        }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE ... COMMIT`: the write lock is
    /// taken up front, so two processes never deadlock upgrading a read. A
    /// transaction begun inside another joins it.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock { () throws -> T in
            try transactions.run(begin: { try execute("BEGIN IMMEDIATE") }, commit: { try execute("COMMIT") },
                                 rollback: { try? execute("ROLLBACK") }, body)
        }
    }

    private func failure(_ result: Int32, _ message: String) -> StoreError {
        let primary = result & 0xff
        switch primary {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return StoreError(.busy, "the job store \(path) stayed locked by another process for 15 s: \(message); is a stuck runbook process holding it?", sqliteCode: result)
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return StoreError(.corrupt, "the job store \(path) is damaged: \(message); move it aside and restore a backup", sqliteCode: result)
        case SQLITE_CONSTRAINT:
            return StoreError(.conflict, "the job store \(path) refused a write: \(message)", sqliteCode: result)
        default:
            return StoreError(.query, "the job store \(path) failed: \(message)", sqliteCode: result)
        }
    }

    /// SQLITE_TRANSIENT: SQLite copies bound text before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
