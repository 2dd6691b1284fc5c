import Foundation
import Testing
@testable import RunbookKit

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

    @Test func jobLifecycle() throws {
        let (_, store) = try openStore()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var job = NewJob(runbook: "backup", revision: 3, snapshot: "abc", trigger: .manual, parameters: ["DAYS": "7"])
        job.attempt = 2
        let record = try store.startJob(job, host: "box", ownerPID: 42, at: start)
        #expect(record.status == .running)
        #expect(record.startedAt == start)
        #expect(record.parameters == ["DAYS": "7"])
        #expect(record.attempt == 2)

        let completion = JobCompletion(status: .failed, reason: "exit code 3", exitCode: 3, signal: nil,
                                       endedAt: start.addingTimeInterval(2), peakMemoryKB: 1000, cpuMicroseconds: 500,
                                       outputBytes: 12, truncated: false)
        #expect(try store.completeJob(record.id, completion))
        let done = try #require(try store.job(record.id))
        #expect(done.status == .failed && done.exitCode == 3 && done.reason == "exit code 3")
        #expect(done.duration(now: Date()) == 2)
        // A final record never changes again.
        #expect(try store.completeJob(record.id, completion) == false)
        #expect(try store.interruptJob(record.id, reason: "x", at: Date()) == false)
    }

    @Test func interruptedJobsStayInterrupted() throws {
        let (_, store) = try openStore()
        let record = try store.startJob(NewJob(runbook: "a", revision: 1, snapshot: "h", trigger: .manual), host: "h", ownerPID: 1, at: Date())
        #expect(try store.interruptJob(record.id, reason: "host died", at: Date()))
        let late = JobCompletion(status: .succeeded, reason: "exit code 0", exitCode: 0, signal: nil, endedAt: Date(),
                                 peakMemoryKB: nil, cpuMicroseconds: nil, outputBytes: 0, truncated: false)
        #expect(try store.completeJob(record.id, late) == false)
        #expect(try store.job(record.id)?.status == .interrupted)
    }

    @Test func filters() throws {
        let (_, store) = try openStore()
        let now = Date()
        for (runbook, status) in [("a", JobStatus.succeeded), ("b", .failed), ("a", .failed), ("a", .skipped)] {
            _ = try store.recordEndedJob(NewJob(runbook: runbook, revision: 1, snapshot: nil, trigger: .manual),
                                         status: status, reason: "r", host: "h", at: now)
        }
        #expect(try store.jobs(JobFilter()).map(\.id.rawValue) == [4, 3, 2, 1])
        #expect(try store.jobs(JobFilter(runbook: "a")).count == 3)
        #expect(try store.jobs(JobFilter(runbook: "a", status: .failed)).map(\.id.rawValue) == [3])
        #expect(try store.jobs(JobFilter(limit: 2)).count == 2)
        #expect(try store.jobs(JobFilter(since: now.addingTimeInterval(60))).isEmpty)
        #expect(try store.latestJob(of: "b")?.status == .failed)
    }

    @Test func revisionsNumberPerRunbook() throws {
        let (_, store) = try openStore()
        let numbers = try store.transaction {
            try ["a", "a", "b", "a"].map {
                try store.addRevision(runbook: $0, hash: "h", filename: "\($0).sh", origin: .published, at: Date(),
                                      user: "u", message: nil, gitCommit: nil, gitDirty: nil)
            }
        }
        #expect(numbers == [1, 2, 1, 3])
        try store.addPublication(Publication(runbook: "a", revision: 2, action: .publish, at: Date(), user: "u", message: nil))
        #expect(try store.publishedRevision(of: "a")?.number == 2)
        try store.addPublication(Publication(runbook: "a", revision: nil, action: .retire, at: Date(), user: "u", message: nil))
        #expect(try store.publishedRevision(of: "a") == nil)
        #expect(try store.livePublications()["a"]?.action == .retire)
    }
}
