import Foundation
import Testing
@testable import RunbookKit

/// What only the SQLite store does; what every store does is in `StoreContractTests`.
@Suite("SQLite store")
struct SQLiteStoreTests {
    func openStore() throws -> (TemporaryRoot, SQLiteStore) {
        let root = try TemporaryRoot()
        try root.workspace.prepareState()
        return (root, try SQLiteStore(path: root.workspace.database.path))
    }

    @Test func migratesOnceAndReopens() throws {
        let (root, store) = try openStore()
        #expect(try store.connection.query("PRAGMA user_version").first?[0].int == Migrations.steps.count)
        #expect(try store.connection.query("PRAGMA journal_mode").first?[0].string == "wal")
        _ = try store.startJob(NewJob(runbook: "a", revision: nil, snapshot: "h", trigger: .test), host: "h", ownerPID: 1, at: Date())
        let again = try SQLiteStore(path: root.workspace.database.path)
        #expect(try again.jobCount() == 1)
    }

    @Test func refusesANewerSchema() throws {
        let (root, store) = try openStore()
        try store.connection.execute("PRAGMA user_version = 99")
        #expect { try SQLiteStore(path: root.workspace.database.path) } throws: { error in
            (error as? StoreError)?.code == .schema
        }
    }

    /// `runbook run` after `runbook run`: each process is the first to open
    /// the store and reads the whole WAL to rebuild its index, so commands
    /// keep it to about a checkpoint's worth of frames.
    @Test func commandsKeepTheLogShort() throws {
        let root = try TemporaryRoot()
        try root.workspace.prepareState()
        let path = root.workspace.database.path
        var longest = 0
        for _ in 0..<100 {
            try Self.runJob(in: try SQLiteStore(path: path, lifetime: .command))
            longest = max(longest, try Self.walFrames(path + "-wal"))
        }
        let limit = try #require(SQLiteConnection.checkpointFrames(for: .command))
        // A checkpoint by a process's last commit is redone by the next
        // process's first commit; only the commit after that restarts the log.
        #expect(longest > limit / 2)
        #expect(longest <= limit + 2 * Self.framesPerJob)
    }

    /// The host's connection stays open, so nobody recovers its WAL while it
    /// runs: it keeps SQLite's default and checkpoints rarely.
    @Test func theHostCheckpointsAtSQLitesDefault() throws {
        let root = try TemporaryRoot()
        try root.workspace.prepareState()
        let path = root.workspace.database.path
        let store = try SQLiteStore(path: path, lifetime: .service)
        for _ in 0..<30 { try Self.runJob(in: store) }
        #expect(SQLiteConnection.checkpointFrames(for: .service) == nil)
        #expect(try Self.walFrames(path + "-wal") > SQLiteConnection.checkpointFrames(for: .command) ?? 0)
    }

    /// About what one job writes: its record and the indexes it is in, twice.
    static let framesPerJob = 32

    static func runJob(in store: SQLiteStore) throws {
        let record = try store.startJob(NewJob(runbook: "noop", revision: 1, snapshot: "h", trigger: .manual),
                                        host: "h", ownerPID: 1, at: Date())
        try store.completeJob(record.id, JobCompletion(status: .succeeded, reason: "exit code 0", exitCode: 0, signal: nil,
                                                       endedAt: Date(), peakMemoryKB: nil, cpuMicroseconds: nil,
                                                       outputBytes: 0, truncated: false))
    }

    /// The frames of the WAL at `path` since the log last restarted: those
    /// after the 32-byte header that carry the header's salt (a restarted
    /// log keeps older frames behind it, with the old salt).
    static func walFrames(_ path: String) throws -> Int {
        let bytes = try #require(FileManager.default.contents(atPath: path)).map { $0 }
        guard bytes.count >= 32 else { return 0 }
        let pageSize = bytes[8..<12].reduce(0) { $0 << 8 | Int($1) }
        let salt = bytes[16..<24]
        var frames = 0, offset = 32
        while offset + 24 + pageSize <= bytes.count, bytes[(offset + 8)..<(offset + 16)].elementsEqual(salt) {
            frames += 1
            offset += 24 + pageSize
        }
        return frames
    }
}
