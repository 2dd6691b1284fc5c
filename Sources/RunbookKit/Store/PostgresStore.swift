import FoundationEssentials
import Glibc

/// The store that several machines share: one PostgreSQL database holding
/// everything `SQLiteStore` holds, plus what SQLite keeps in files (the
/// content of every revision, and a copy of each job's output), so a host
/// on any machine runs the same published content and `runbook logs`
/// works from anywhere.
///
/// Exactly-once comes from the database: a slot is claimed by a row with a
/// unique key (`INSERT ... ON CONFLICT DO NOTHING`), and hosts take over a
/// dead host's jobs with `SELECT ... FOR UPDATE SKIP LOCKED`.
public final class PostgresStore: SQLStore {
    let postgres: PostgresConnection
    var connection: any SQLDatabase { postgres }
    var skipLockedClause: String { " FOR UPDATE SKIP LOCKED" }
    var queuedAtIndexHint: String { "" }
    var outputTable: String? { "job_output" }
    public var isShared: Bool { true }

    /// The largest piece of a job's output written as one row.
    public static let outputChunkSize = 256 * 1024

    /// Connects to `url` and applies any pending migrations.
    /// - Throws: `StoreError` `.unavailable` (cannot connect), `.schema`
    ///   (the database is newer than this binary), `.query`.
    public init(url: DatabaseURL) throws {
        postgres = try PostgresConnection(url: url)
        try migrate()
    }

    /// Applies the missing steps in one transaction, holding an advisory
    /// lock so that hosts starting at once wait for the first to finish.
    private func migrate() throws {
        let latest = PostgresMigrations.steps.count
        try postgres.query("SELECT pg_advisory_lock(?1)", [.integer(PostgresMigrations.lockKey)])
        defer { _ = try? postgres.query("SELECT pg_advisory_unlock(?1)", [.integer(PostgresMigrations.lockKey)]) }
        try postgres.execute("CREATE TABLE IF NOT EXISTS runbook_schema (version INTEGER NOT NULL)")
        let current = try postgres.query("SELECT COALESCE(MAX(version), 0) FROM runbook_schema").first?[0].int ?? 0
        if current == latest { return }
        if current > latest {
            throw StoreError(.schema, "the database \(location) has schema version \(current), newer than this runbook understands (\(latest)); upgrade runbook on this machine")
        }
        try postgres.transaction {
            for step in PostgresMigrations.steps.dropFirst(current) {
                try postgres.execute(step)
            }
            try postgres.execute("DELETE FROM runbook_schema")
            try postgres.query("INSERT INTO runbook_schema (version) VALUES (?1)", [.integer(Int64(latest))])
        }
    }

    // MARK: Content

    public func saveSnapshot(_ data: Data, hash: String) throws {
        try postgres.query("INSERT INTO snapshots (hash, content) VALUES (?1, ?2) ON CONFLICT DO NOTHING", [.text(hash), .blob(data)])
    }

    public func snapshot(hash: String) throws -> Data? {
        guard let data = try postgres.query("SELECT content FROM snapshots WHERE hash = ?1", [.text(hash)]).first?[0].data else {
            return nil
        }
        guard SHA256.hex(of: data) == hash else {
            throw StoreError(.corrupt, "snapshot \(hash.prefix(12)) in the database \(location) no longer matches its hash; restore the database from a backup")
        }
        return data
    }

    /// Copies the log in pieces of at most `outputChunkSize` (its size is
    /// bounded by the job's `output` limit), replacing an earlier copy.
    public func shipOutput(of id: JobID, from file: URL) throws {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: Self.outputChunkSize)
        /// The next piece of the log, nil at its end.
        func nextChunk() throws -> Data? {
            var filled = 0
            while filled < buffer.count {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { throw Errno.current }
                if count == 0 { break }
                filled += count
            }
            return filled == 0 ? nil : Data(buffer[0..<filled])
        }
        try postgres.transaction {
            try postgres.query("DELETE FROM job_output WHERE job = ?1", [.integer(id.rawValue)])
            var sequence: Int64 = 0
            while let chunk = try nextChunk() {
                try postgres.query("INSERT INTO job_output (job, seq, data) VALUES (?1, ?2, ?3)",
                                   [.integer(id.rawValue), .integer(sequence), .blob(chunk)])
                sequence += 1
            }
        }
    }

    public func output(of id: JobID) throws -> Data? {
        let rows = try postgres.query("SELECT data FROM job_output WHERE job = ?1 ORDER BY seq", [.integer(id.rawValue)])
        guard !rows.isEmpty else { return nil }
        return rows.reduce(into: Data()) { $0.append($1[0].data ?? Data()) }
    }
}
