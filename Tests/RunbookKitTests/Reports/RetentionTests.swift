import Foundation
import Testing
@testable import RunbookKit

@Suite("Retention")
struct RetentionTests {
    @Test(arguments: [
        ("1000", Retention(keep: 1000, maxAge: nil)),
        ("30d", Retention(keep: nil, maxAge: 30 * 86_400)),
        ("1000, 30d", Retention(keep: 1000, maxAge: 30 * 86_400)),
        ("7d,50", Retention(keep: 50, maxAge: 7 * 86_400)),
        ("500 jobs, 12h", Retention(keep: 500, maxAge: 12 * 3600)),
        ("unlimited", Retention.unlimited),
        ("OFF", Retention.unlimited),
    ])
    func parses(text: String, expected: Retention) throws {
        #expect(try Retention.parse(text) == expected)
    }

    @Test(arguments: ["", "0", "-5", "ten", "10, 20", "1d, 2d", "1000, 30d, 5", "30x", "0s"])
    func rejects(text: String) {
        #expect(throws: Retention.ParseError.self) { try Retention.parse(text) }
    }

    @Test func describesItself() {
        #expect(Retention.standard.description == "1000 jobs")
        #expect(Retention(keep: 10, maxAge: 86_400).description == "10 jobs, 1d")
        #expect(Retention.unlimited.description == "unlimited")
    }

    @Test func runbookConfAndHeaderTakeIt() throws {
        let config = try HostConfig.parse("history = 200, 14d\n", path: "runbook.conf").get()
        #expect(config.history == Retention(keep: 200, maxAge: 14 * 86_400))
        #expect(HostConfig().history == .standard)
        guard case .failure(let errors) = HostConfig.parse("\nhistory = lots\n", path: "runbook.conf") else {
            Issue.record("a bad history was accepted")
            return
        }
        #expect(errors.errors.first?.description.hasPrefix("runbook.conf:2:") == true)
        let header = HeaderParser(commentPrefix: "#").parse("# runbook: history = 5\necho\n", path: "runbooks/a.sh")
        #expect(try header.get().history == Retention(keep: 5, maxAge: nil))
    }
}

@Suite("Pruner")
struct PrunerTests {
    let root: TemporaryRoot
    let store: SQLiteStore
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        root = try TemporaryRoot()
        try root.workspace.prepareState()
        store = try SQLiteStore(path: root.workspace.database.path)
    }

    /// Records an ended job of `runbook` queued `index` minutes after `start`, with a log.
    @discardableResult
    func job(_ runbook: String, _ status: JobStatus, minute index: Int) throws -> JobID {
        let at = start.addingTimeInterval(Double(index * 60))
        let record: JobRecord
        if status.isFinal {
            record = try store.recordEndedJob(NewJob(runbook: runbook, revision: 1, snapshot: "h", trigger: .manual),
                                              status: status, reason: status.rawValue, host: "box", at: at)
        } else {
            record = try store.startJob(NewJob(runbook: runbook, revision: 1, snapshot: "h", trigger: .manual), host: "box", ownerPID: 1, at: at)
        }
        try root.write(".runbook/logs/\(record.id.rawValue).log", Data("\(Timestamp.utc(at)) out line\n".utf8))
        return record.id
    }

    func logExists(_ id: JobID) -> Bool {
        FileManager.default.fileExists(atPath: root.workspace.logs.appendingPathComponent("\(id.rawValue).log").path)
    }

    @Test func keepsTheNewestAndTheLatestFailureAndWhatRuns() throws {
        let oldFailure = try job("a", .failed, minute: 0)
        let running = try job("a", .running, minute: 1)
        var succeeded: [JobID] = []
        for minute in 2..<12 { succeeded.append(try job("a", .succeeded, minute: minute)) }
        let other = try job("b", .succeeded, minute: 0)

        let pruner = Pruner(store: store, logs: root.workspace.logs)
        let dry = try pruner.prune(retention: { $0 == "a" ? Retention(keep: 3, maxAge: nil) : .standard }, now: start, dryRun: true)
        #expect(dry.jobs == 7 && dry.byRunbook == ["a": 7])
        #expect(try store.jobCount() == 13, "a dry run deletes nothing")

        let result = try pruner.prune(retention: { $0 == "a" ? Retention(keep: 3, maxAge: nil) : .standard }, now: start)
        #expect(result.jobs == 7 && result.logs == 7)
        let left = Set(try store.jobs(JobFilter()).map(\.id))
        #expect(left == Set([oldFailure, running, other] + succeeded.suffix(3)))
        for id in succeeded.prefix(7) { #expect(!logExists(id)) }
        for id in left { #expect(logExists(id)) }
    }

    @Test func dropsJobsOlderThanTheAge() throws {
        for minute in 0..<10 { try job("a", .succeeded, minute: minute) }
        let now = start.addingTimeInterval(10 * 60)
        let result = try Pruner(store: store, logs: root.workspace.logs)
            .prune(retention: { _ in Retention(keep: nil, maxAge: 5 * 60) }, now: now)
        #expect(result.jobs == 5)
        #expect(try store.jobs(JobFilter()).allSatisfy { $0.queuedAt >= now.addingTimeInterval(-300) })
    }

    @Test func removesLogsWithoutARecord() throws {
        let kept = try job("a", .succeeded, minute: 0)
        try root.write(".runbook/logs/999.log", Data("stray\n".utf8))
        let result = try Pruner(store: store, logs: root.workspace.logs).prune(retention: { _ in .standard }, now: start)
        #expect(result.strayLogs == 1 && result.jobs == 0)
        #expect(logExists(kept))
        #expect(!logExists(JobID(rawValue: 999)))
    }

    @Test func keepsEachSchedulesNewestSlotClaim() throws {
        let now = start.addingTimeInterval(100 * 86_400)
        for day in 0..<3 {
            #expect(try store.claimSlot(schedule: "s", slot: start.addingTimeInterval(Double(day) * 86_400), host: "h", at: start))
        }
        let result = try Pruner(store: store, logs: root.workspace.logs).prune(retention: { _ in .standard }, now: now)
        #expect(result.slots == 2)
        #expect(try store.claimedSlots(schedule: "s") == [start.addingTimeInterval(2 * 86_400)])
    }

    @Test func cancelRequestsEndQueuedJobsAndMarkRunningOnes() throws {
        let queued = try store.enqueueJob(NewJob(runbook: "a", revision: 1, snapshot: "h", trigger: .schedule), host: "box", ownerPID: 7, ownerStart: nil, lease: nil, at: start)
        let running = try store.startJob(NewJob(runbook: "a", revision: 1, snapshot: "h", trigger: .manual), host: "box", ownerPID: 7, at: start)
        #expect(try store.requestCancel(queued.id, reason: "no", at: start)?.status == .cancelled)
        #expect(try store.requestCancel(running.id, reason: "stop it", at: start)?.status == .running)
        #expect(try store.cancelRequests(host: "box", ownerPID: 7).map(\.1) == ["stop it"])
        #expect(try store.cancelRequests(host: "box", ownerPID: 8).isEmpty)
        #expect(try store.cancelRequest(running.id) == "stop it")
    }
}
