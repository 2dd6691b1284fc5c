import FoundationEssentials

/// The store of one machine: a SQLite file in the state directory, in WAL
/// mode, shared safely by every CLI process and the hosts on that state.
/// Snapshot content and job output stay in files beside it
/// (`snapshots/`, `logs/`), where the rest of runbook reads them.
public final class SQLiteStore: SQLStore {
    let sqlite: SQLiteConnection
    var connection: any SQLDatabase { sqlite }
    var skipLockedClause: String { "" }
    var queuedAtIndexHint: String { " INDEXED BY jobs_by_queued_at" }
    var outputTable: String? { nil }
    public var isShared: Bool { false }
    private let stateDirectory: URL

    /// The store's file inside a state directory.
    public static func path(in stateDirectory: URL) -> String {
        stateDirectory.appendingPathComponent("runbook.db").path
    }

    /// Opens the store at `path`, applying any pending migrations.
    /// - Parameter lifetime: how long the caller keeps it open (see `SQLiteConnection`).
    /// - Throws: `StoreError` `.open`, `.schema` (the file is newer than this binary), `.busy`.
    public init(path: String, lifetime: StoreLifetime = .command) throws {
        sqlite = try SQLiteConnection(path: path, lifetime: lifetime)
        stateDirectory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try migrate()
    }

    /// Makes every record written so far durable: the host's heartbeat is
    /// written without waiting for the disk, then one sync of the WAL makes
    /// it and every earlier commit written that way durable (what a `FULL`
    /// commit does). The sync does not hold the connection (`WALFile`), so
    /// other threads' statements go on meanwhile.
    public func sync(hostID: String, at: Date) throws {
        try sqlite.relaxed {
            try sqlite.query("UPDATE hosts SET heartbeat_at = ?2 WHERE id = ?1", [.text(hostID), SQLValue(at)])
        }
        try sqlite.wal.sync()
    }

    /// Applies the missing steps inside one write transaction, so two
    /// processes opening at once cannot both migrate.
    private func migrate() throws {
        let latest = Migrations.steps.count
        let current = try sqlite.query("PRAGMA user_version").first?[0].int ?? 0
        if current == latest { return }
        if current > latest {
            throw StoreError(.schema, "the job store \(sqlite.path) has schema version \(current), newer than this runbook understands (\(latest)); upgrade runbook")
        }
        try sqlite.transaction {
            let version = try sqlite.query("PRAGMA user_version").first?[0].int ?? 0
            if version > latest {
                throw StoreError(.schema, "the job store \(sqlite.path) has schema version \(version), newer than this runbook understands (\(latest)); upgrade runbook")
            }
            for step in Migrations.steps.dropFirst(version) {
                try sqlite.execute(step)
            }
            try sqlite.execute("PRAGMA user_version = \(latest)")
        }
    }

    private var snapshots: SnapshotStore { SnapshotStore(directory: stateDirectory.appendingPathComponent("snapshots")) }

    public func saveSnapshot(_ data: Data, hash: String) throws {
        guard !snapshots.contains(hash) else { return }
        let stored = try snapshots.store(data)
        guard stored == hash else { throw StoreError(.conflict, "snapshot content does not match its hash \(hash.prefix(12))") }
    }

    public func snapshot(hash: String) throws -> Data? {
        snapshots.contains(hash) ? try snapshots.content(of: hash) : nil
    }

    /// The log is already where every command on this machine reads it.
    public func shipOutput(of id: JobID, from file: URL) throws {}

    public func output(of id: JobID) throws -> Data? {
        FileManager.default.contents(atPath: stateDirectory.appendingPathComponent("logs/\(id.rawValue).log").path)
    }
}
