import Foundation
import Testing
@testable import RunbookKit

/// What every store promises, run against SQLite and PostgreSQL alike.
@Suite("Store contract", .serialized)
struct StoreContractTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func job(_ runbook: String = "a", trigger: JobTrigger = .manual, schedule: String? = nil, slot: Date? = nil) -> NewJob {
        var job = NewJob(runbook: runbook, revision: 1, snapshot: "h", trigger: trigger)
        job.schedule = schedule
        job.slot = slot
        return job
    }

    static let succeeded = JobCompletion(status: .succeeded, reason: "exit code 0", exitCode: 0, signal: nil, endedAt: start,
                                         peakMemoryKB: nil, cpuMicroseconds: nil, outputBytes: 0, truncated: false)

    @Test(arguments: StoreKind.allCases)
    func jobLifecycle(_ kind: StoreKind) throws {
        let test = try TestStore(kind), store = test.store!
        defer { test.finish() }
        var job = NewJob(runbook: "backup", revision: 3, snapshot: "abc", trigger: .manual, parameters: ["DAYS": "7"])
        job.attempt = 2
        let record = try store.startJob(job, host: "box", ownerPID: 42, at: Self.start)
        #expect(record.status == .running)
        #expect(record.startedAt == Self.start)
        #expect(record.parameters == ["DAYS": "7"])
        #expect(record.attempt == 2 && record.revision == 3 && record.snapshot == "abc" && record.ownerPID == 42)

        let completion = JobCompletion(status: .failed, reason: "exit code 3", exitCode: 3, signal: nil,
                                       endedAt: Self.start.addingTimeInterval(2.5), peakMemoryKB: 1000, cpuMicroseconds: 500,
                                       outputBytes: 12, truncated: true, userCPUMicroseconds: 300, systemCPUMicroseconds: 200)
        #expect(try store.completeJob(record.id, completion))
        let done = try #require(try store.job(record.id))
        #expect(done.status == .failed && done.exitCode == 3 && done.reason == "exit code 3")
        #expect(done.duration(now: Date()) == 2.5)
        #expect(done.peakMemoryKB == 1000 && done.outputBytes == 12 && done.truncated)
        #expect(done.userCPUMicroseconds == 300 && done.systemCPUMicroseconds == 200)
        // A final record never changes again.
        #expect(try store.completeJob(record.id, completion) == false)
        #expect(try store.interruptJob(record.id, reason: "x", at: Date()) == false)
        #expect(try store.jobCount() == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func interruptedJobsStayInterrupted(_ kind: StoreKind) throws {
        let test = try TestStore(kind), store = test.store!
        defer { test.finish() }
        let record = try store.startJob(Self.job(), host: "h", ownerPID: 1, at: Date())
        #expect(try store.unfinishedJobs(host: "h").map(\.id) == [record.id])
        #expect(try store.interruptJob(record.id, reason: "host died", at: Date()))
        #expect(try store.completeJob(record.id, Self.succeeded) == false)
        #expect(try store.job(record.id)?.status == .interrupted)
        #expect(try store.unfinishedJobs(host: "h").isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func filters(_ kind: StoreKind) throws {
        let test = try TestStore(kind), store = test.store!
        defer { test.finish() }
        let now = Date()
        for (runbook, status) in [("a", JobStatus.succeeded), ("b", .failed), ("a", .failed), ("a", .skipped)] {
            _ = try store.recordEndedJob(Self.job(runbook), status: status, reason: "r", host: "h", at: now)
        }
        #expect(try store.jobs(JobFilter()).map(\.id.rawValue) == [4, 3, 2, 1])
        #expect(try store.jobs(JobFilter(runbook: "a")).count == 3)
        #expect(try store.jobs(JobFilter(runbook: "a", status: .failed)).map(\.id.rawValue) == [3])
        #expect(try store.jobs(JobFilter(trigger: .manual, limit: 2)).count == 2)
        #expect(try store.jobs(JobFilter(since: now.addingTimeInterval(60))).isEmpty)
        #expect(try store.latestJob(of: "b")?.status == .failed)
    }

    @Test(arguments: StoreKind.allCases)
    func revisionsAndPublications(_ kind: StoreKind) throws {
        let test = try TestStore(kind), store = test.store!
        defer { test.finish() }
        let numbers = try store.transaction {
            try ["a", "a", "b", "a"].map {
                try store.addRevision(runbook: $0, hash: "h\($0)", filename: "\($0).sh", origin: .published, at: Self.start,
                                      user: "u", message: "m", gitCommit: "c0ffee", gitDirty: true)
            }
        }
        #expect(numbers == [1, 2, 1, 3])
        let second = try #require(try store.revision(of: "a", number: 2))
        #expect(second.user == "u" && second.gitCommit == "c0ffee" && second.gitDirty == true && second.createdAt == Self.start)
        try store.addPublication(Publication(runbook: "a", revision: 2, action: .publish, at: Date(), user: "u", message: nil))
        #expect(try store.publishedRevision(of: "a")?.number == 2)
        try store.addPublication(Publication(runbook: "a", revision: nil, action: .retire, at: Date(), user: "u", message: nil))
        #expect(try store.publishedRevision(of: "a") == nil)
        #expect(try store.livePublications()["a"]?.action == .retire)
        #expect(try store.publications(of: "a").map(\.action) == [.publish, .retire])
        #expect(try store.revisions(of: "a").map(\.number) == [1, 2, 3])
    }

    @Test(arguments: StoreKind.allCases)
    func failedTransactionLeavesNothing(_ kind: StoreKind) throws {
        let test = try TestStore(kind), store = test.store!
        defer { test.finish() }
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try store.transaction {
                _ = try store.claimSlot(schedule: "s", slot: Self.start, host: "h", at: Self.start)
                // A transaction begun inside joins the outer one (and its fate).
                try store.transaction { _ = try store.recordEndedJob(Self.job(), status: .skipped, reason: "r", host: "h", at: Self.start) }
                throw Abort()
            }
        }
        #expect(try store.claimedSlots(schedule: "s").isEmpty)
        #expect(try store.jobCount() == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func snapshotsKeepContent(_ kind: StoreKind) throws {
        let test = try TestStore(kind), store = test.store!
        defer { test.finish() }
        let content = Data("#!/bin/bash\necho \u{00e9}t\u{00e9}\n".utf8) + Data([0, 255, 10])
        let hash = SHA256.hex(of: content)
        #expect(try store.snapshot(hash: hash) == nil)
        try store.saveSnapshot(content, hash: hash)
        try store.saveSnapshot(content, hash: hash)
        #expect(try store.snapshot(hash: hash) == content)
    }

    @Test(arguments: StoreKind.allCases)
    func outputIsReadableThroughTheStore(_ kind: StoreKind) throws {
        let test = try TestStore(kind), store = test.store!
        defer { test.finish() }
        let record = try store.startJob(Self.job(), host: "h", ownerPID: 1, at: Self.start)
        #expect(try store.output(of: record.id) == nil)
        // Larger than one chunk, with bytes that are not UTF-8.
        var log = Data()
        for line in 0..<40_000 { log.append(Data("2026-01-01T00:00:00.000Z stdout line \(line)\n".utf8)) }
        log.append(Data([0xff, 0xfe, 0x0a]))
        #expect(log.count > PostgresStore.outputChunkSize)
        let file = test.root.workspace.logs.appendingPathComponent("\(record.id.rawValue).log")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try log.write(to: file)
        try store.shipOutput(of: record.id, from: file)
        try store.shipOutput(of: record.id, from: file)
        try FileManager.default.removeItem(at: file)
        if store.isShared {
            #expect(try store.output(of: record.id) == log)
        } else {
            // The machine's own store reads the log where it was written.
            #expect(try store.output(of: record.id) == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func slotIsClaimedOnceAcrossConnections(_ kind: StoreKind) throws {
        let test = try TestStore(kind)
        defer { test.finish() }
        let stores = [test.store!, try test.reopen(), try test.reopen()]
        let slots = (0..<40).map { Self.start.addingTimeInterval(Double($0)) }
        let wins = Wins()
        DispatchQueue.concurrentPerform(iterations: stores.count) { index in
            for slot in slots {
                let claimed = (try? stores[index].transaction {
                    try stores[index].claimSlot(schedule: "tick", slot: slot, host: "host\(index)", at: slot)
                }) ?? false
                if claimed { wins.add(slot) }
            }
        }
        #expect(wins.sorted == slots, "every slot won exactly once")
        #expect(try test.store.claimedSlots(schedule: "tick") == slots)
        #expect(try test.store.lastClaimedSlot(schedule: "tick") == slots.last)
        // A range of missed slots is one claim that covers them.
        #expect(try test.store.claimSlot(schedule: "tick", slot: Self.start.addingTimeInterval(100), until: Self.start.addingTimeInterval(200), host: "h", at: Self.start))
        #expect(try test.store.lastClaimedSlot(schedule: "tick") == Self.start.addingTimeInterval(200))
    }

    @Test(arguments: StoreKind.allCases)
    func queuedJobsOfAHost(_ kind: StoreKind) throws {
        let test = try TestStore(kind), store = test.store!
        defer { test.finish() }
        let queued = try store.enqueueJob(Self.job(trigger: .schedule, schedule: "s", slot: Self.start), host: "m", ownerPID: 5,
                                          ownerStart: nil, lease: "m:5:a", at: Self.start)
        #expect(queued.status == .queued && queued.slot == Self.start && queued.schedule == "s")
        #expect(try store.queuedJobs(lease: "m:5:a").map(\.id) == [queued.id])
        #expect(try store.activeJobs(schedule: "s").map(\.id) == [queued.id])
        let running = try #require(try store.markRunning(queued.id, revision: 4, snapshot: "x", ownerPID: 5, ownerStart: nil, at: Self.start))
        #expect(running.status == .running && running.revision == 4)
        #expect(try store.markRunning(queued.id, revision: 4, snapshot: "x", ownerPID: 5, ownerStart: nil, at: Self.start) == nil)
        #expect(try store.queuedJobs(lease: "m:5:a").isEmpty)
        #expect(try store.endQueuedJob(running.id, status: .cancelled, reason: "r", at: Self.start) == false)
        #expect(try store.latestScheduledJobs()["s"]?.id == queued.id)
        let other = try store.enqueueJob(Self.job(), host: "m", ownerPID: 5, ownerStart: nil, lease: nil, at: Self.start)
        #expect(try store.endQueuedJob(other.id, status: .cancelled, reason: "host stopped", at: Self.start))
        #expect(try store.job(other.id)?.status == .cancelled)
    }

    @Test(arguments: StoreKind.allCases)
    func expiredLeasesHandTheJobsOver(_ kind: StoreKind) throws {
        let test = try TestStore(kind), store = test.store!
        defer { test.finish() }
        let t0 = Self.start
        try store.registerHost(id: "dead:1:a", hostname: "dead", pid: 1, at: t0)
        try store.registerHost(id: "live:2:b", hostname: "live", pid: 2, at: t0)
        let running = try store.enqueueJob(Self.job(trigger: .schedule, schedule: "s", slot: t0), host: "dead", ownerPID: 1,
                                           ownerStart: nil, lease: "dead:1:a", at: t0)
        _ = try store.markRunning(running.id, revision: 1, snapshot: "h", ownerPID: 1, ownerStart: nil, at: t0)
        let waiting = try store.enqueueJob(Self.job(trigger: .schedule, schedule: "s", slot: t0.addingTimeInterval(1)), host: "dead",
                                           ownerPID: 1, ownerStart: nil, lease: "dead:1:a", at: t0)
        let manual = try store.startJob(Self.job(), host: "dead", ownerPID: 1, at: t0)
        #expect(try store.heartbeat(hostID: "live:2:b", at: t0.addingTimeInterval(40)))

        // Within the lease nothing happens.
        #expect(try store.expireHosts(heartbeatBefore: t0.addingTimeInterval(-1), by: "live:2:b", hostname: "live", pid: 2, at: t0) == LeaseTakeover())
        let takeover = try store.expireHosts(heartbeatBefore: t0.addingTimeInterval(10), by: "live:2:b", hostname: "live", pid: 2,
                                             at: t0.addingTimeInterval(40))
        #expect(takeover.expiredHosts == ["dead:1:a"])
        #expect(takeover.interrupted.map(\.id) == [running.id])
        #expect(takeover.interrupted.first?.status == .interrupted)
        #expect(takeover.interrupted.first?.reason?.contains("lease") == true)
        #expect(takeover.adopted.map(\.id) == [waiting.id])
        #expect(takeover.adopted.first?.host == "live" && takeover.adopted.first?.ownerPID == 2)
        #expect(try store.queuedJobs(lease: "live:2:b").map(\.id) == [waiting.id])
        // A job no host leases (a manual run) is the machine's orphan sweep's business.
        #expect(try store.job(manual.id)?.status == .running)
        // Once is enough: a second sweep finds nothing.
        #expect(try store.expireHosts(heartbeatBefore: t0.addingTimeInterval(10), by: "live:2:b", hostname: "live", pid: 2, at: t0) == LeaseTakeover())
        // It did not stop: it went silent (`runbook status` says so).
        #expect(try store.hosts().first { $0.id == "dead:1:a" }?.stoppedAt == nil)
        // The dead host, back after all, learns it lost its lease, and holds a new one.
        #expect(try store.heartbeat(hostID: "dead:1:a", at: t0.addingTimeInterval(50)) == false)
        #expect(try store.heartbeat(hostID: "dead:1:a", at: t0.addingTimeInterval(51)))
        // A host that stopped without finishing a job leaves it to the others too.
        let left = try store.enqueueJob(Self.job(), host: "live", ownerPID: 3, ownerStart: nil, lease: "gone:3:c", at: t0)
        try store.registerHost(id: "gone:3:c", hostname: "gone", pid: 3, at: t0)
        try store.stopHost(id: "gone:3:c", at: t0)
        #expect(try store.expireHosts(heartbeatBefore: t0, by: "live:2:b", hostname: "live", pid: 2, at: t0).adopted.map(\.id) == [left.id])
    }

    @Test(arguments: StoreKind.allCases)
    func hostsBeatAndStop(_ kind: StoreKind) throws {
        let test = try TestStore(kind), store = test.store!
        defer { test.finish() }
        try store.registerHost(id: "a:1:x", hostname: "a", pid: 1, at: Self.start)
        try store.registerHost(id: "b:2:y", hostname: "b", pid: 2, at: Self.start)
        try store.sync(hostID: "b:2:y", at: Self.start.addingTimeInterval(5))
        try store.stopHost(id: "a:1:x", at: Self.start.addingTimeInterval(3))
        let hosts = try store.hosts()
        #expect(hosts.map(\.id) == ["b:2:y", "a:1:x"])
        #expect(hosts[1].stoppedAt == Self.start.addingTimeInterval(3) && hosts[0].stoppedAt == nil)
        #expect(hosts[0].heartbeatAt == Self.start.addingTimeInterval(5) && hosts[0].pid == 2)
    }

    @Test(arguments: StoreKind.allCases)
    func cancelRequests(_ kind: StoreKind) throws {
        let test = try TestStore(kind), store = test.store!
        defer { test.finish() }
        let queued = try store.enqueueJob(Self.job(), host: "box", ownerPID: 7, ownerStart: nil, lease: nil, at: Self.start)
        let running = try store.startJob(Self.job(), host: "box", ownerPID: 7, at: Self.start)
        #expect(try store.requestCancel(queued.id, reason: "cancelled by ops", at: Self.start)?.status == .cancelled)
        #expect(try store.requestCancel(running.id, reason: "cancelled by ops", at: Self.start)?.status == .running)
        #expect(try store.cancelRequest(running.id) == "cancelled by ops")
        let requests = try store.cancelRequests(host: "box", ownerPID: 7)
        #expect(requests.map(\.0) == [running.id] && requests.map(\.1) == ["cancelled by ops"])
        #expect(try store.cancelRequests(host: "other", ownerPID: 7).isEmpty)
        #expect(try store.unfinishedCounts() == [.running: 1])
    }

    @Test(arguments: StoreKind.allCases)
    func figuresAndRetention(_ kind: StoreKind) throws {
        let test = try TestStore(kind), store = test.store!
        defer { test.finish() }
        var ids: [JobID] = []
        for (index, status) in [JobStatus.succeeded, .failed, .succeeded, .succeeded, .succeeded].enumerated() {
            let at = Self.start.addingTimeInterval(Double(index) * 60)
            ids.append(try store.recordEndedJob(Self.job("a", trigger: .schedule, schedule: "s", slot: at), status: status, reason: "r",
                                                host: "h", at: at).id)
        }
        _ = try store.recordEndedJob(Self.job("b"), status: .succeeded, reason: "r", host: "h", at: Self.start)
        #expect(try store.runbooksWithJobs() == ["a", "b"])
        #expect(try store.jobSamples(since: Self.start.addingTimeInterval(100)).map(\.runbook) == ["a", "a", "a"])
        #expect(try store.latestJob(of: "a", statuses: [.failed, .timedOut])?.id == ids[1])
        #expect(try store.lastSuccessfulSlot(schedule: "s") == Self.start.addingTimeInterval(240))
        // Keep the newest two; the latest failure stays whatever the setting.
        let expired = try store.expiredJobs(of: "a", keep: 2, after: nil)
        #expect(expired == [ids[0], ids[2]])
        #expect(try store.expiredJobs(of: "a", keep: nil, after: Self.start.addingTimeInterval(90)) == [ids[0]])
        try store.deleteJobs(expired)
        #expect(try store.existingJobs(ids) == Set([ids[1], ids[3], ids[4]]))
        for second in 0..<3 { _ = try store.claimSlot(schedule: "s", slot: Self.start.addingTimeInterval(Double(second)), host: "h", at: Self.start) }
        #expect(try store.pruneSlots(before: Self.start.addingTimeInterval(10)) == 2)
        #expect(try store.claimedSlots(schedule: "s") == [Self.start.addingTimeInterval(2)])
    }
}

/// Slots won by concurrent claimers.
final class Wins: @unchecked Sendable {
    // Invariant: `slots` is only touched under `lock`.
    private let lock = NSLock()
    private var slots: [Date] = []
    func add(_ slot: Date) { lock.lock(); slots.append(slot); lock.unlock() }
    var sorted: [Date] { lock.lock(); defer { lock.unlock() }; return slots.sorted() }
}
