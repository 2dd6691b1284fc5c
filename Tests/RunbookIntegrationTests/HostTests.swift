import Foundation
import Glibc
import Testing
@testable import RunbookKit

/// `runbook serve` end to end: the real binary, real time, polled with deadlines.
@Suite("Host", .serialized)
struct HostTests {
    /// A running `runbook serve` whose stderr is collected.
    final class Serve: @unchecked Sendable {
        let started: RunbookProcess.Started
        private let collected = Collected()

        /// Text appended by the reader thread.
        final class Collected: @unchecked Sendable {
            // Invariant: `text` is only touched under `lock`.
            private let lock = NSLock()
            private var text = ""
            func append(_ more: String) { lock.lock(); text += more; lock.unlock() }
            var value: String { lock.lock(); defer { lock.unlock() }; return text }
        }

        init(_ root: RunbookProcess.Root, _ arguments: [String] = [], environment: [String: String] = [:]) {
            started = root.start(["serve"] + arguments, environment: environment)
            let handle = started.stderr.fileHandleForReading
            let collected = self.collected
            Thread {
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    collected.append(String(decoding: data, as: UTF8.self))
                }
            }.start()
        }

        var log: String { collected.value }
        var pid: pid_t { started.process.processIdentifier }

        /// SIGTERM, then waits for the exit; returns how long that took.
        @discardableResult
        func stop() -> TimeInterval {
            let start = Date()
            kill(pid, SIGTERM)
            started.process.waitUntilExit()
            _ = eventually(within: 5) { log.contains("stopped") || !started.process.isRunning }
            return Date().timeIntervalSince(start)
        }
    }

    static func jobs(_ root: RunbookProcess.Root) throws -> [[String: Any]] { try root.jobs().reversed() }

    static func slots(_ jobs: [[String: Any]]) -> [Date] {
        jobs.compactMap { ($0["slot"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) } }
    }

    static func root(runbook: String, script: String, schedule: String) throws -> RunbookProcess.Root {
        let root = try RunbookProcess.Root()
        try root.write("runbooks/\(runbook).sh", script)
        try root.write("schedules/\(runbook).schedule", schedule)
        #expect(try root.run("publish", runbook).status == 0)
        return root
    }

    /// Marks every slot of `schedule` up to `date` as claimed, as if a host
    /// had run until then: the next start sees the time since as downtime.
    static func pretendRanUntil(_ date: Date, schedule: String, root: RunbookProcess.Root) throws {
        let store = try SQLiteStore(path: root.url.appendingPathComponent(".runbook/runbook.db").path)
        _ = try store.claimSlot(schedule: schedule, slot: date, host: "earlier-host", at: date)
    }

    @Test func everySecondForTenSeconds() throws {
        let root = try Self.root(runbook: "tick", script: "echo tick\n", schedule: "every = 1 seconds\n")
        let serve = Serve(root)
        #expect(eventually { serve.log.contains("started") })
        let start = Date()
        usleep(10_000_000)
        serve.stop()
        let jobs = try Self.jobs(root)
        let slots = Self.slots(jobs)
        #expect(slots.first.map { $0 >= start.addingTimeInterval(-1) } ?? false)
        #expect(Set(slots).count == slots.count, "a slot fired twice")
        for (a, b) in zip(slots, slots.dropFirst()) { #expect(b.timeIntervalSince(a) == 1, "slots not consecutive: \(a) \(b)") }
        #expect((9...11).contains(jobs.count), "\(jobs.count) jobs in ~10 s")
        #expect(try Self.jobs(root).allSatisfy { $0["status"] as? String == "succeeded" })
    }

    @Test func twoHostsFireEachSlotOnce() throws {
        let root = try Self.root(runbook: "tick", script: "echo tick\n", schedule: "every = 1 seconds\n")
        let first = Serve(root), second = Serve(root)
        #expect(eventually { first.log.contains("started") && second.log.contains("started") })
        usleep(20_000_000)
        first.stop()
        second.stop()
        let slots = Self.slots(try Self.jobs(root))
        #expect(slots.count >= 18)
        #expect(Set(slots).count == slots.count, "a slot fired twice: \(slots)")
        let store = try SQLiteStore(path: root.url.appendingPathComponent(".runbook/runbook.db").path)
        #expect(try store.claimedSlots(schedule: "tick").count == slots.count)
        #expect(first.log.contains("already claimed") || second.log.contains("already claimed"))
    }

    @Test func killedHostLeavesInterruptedJobAndCatchesUp() throws {
        // The job has its own PID namespace: it is found on the host by its
        // command line, not by the $$ it sees.
        let marker = "sleep 300.\(getpid() % 10000)1"
        let root = try Self.root(runbook: "slow", script: "echo $$ > \"$RUNBOOK_DATA/pid\"; \(marker)\n",
                                 schedule: "every = 1 seconds\noverlap = skip\ncatch-up = latest\n")
        let serve = Serve(root)
        let pidFile = root.url.appendingPathComponent(".runbook/data/slow/pid")
        #expect(eventually { FileManager.default.fileExists(atPath: pidFile.path) })
        #expect(eventually { processes(containing: marker).count == 1 })
        kill(serve.pid, SIGKILL)
        serve.started.process.waitUntilExit()
        // The job dies with its host (the parent-death signal of its init).
        #expect(eventually(within: 3) { processes(containing: marker).isEmpty })
        usleep(7_000_000) // downtime longer than the catch-up tolerance
        let again = Serve(root, ["--grace", "1s"])
        #expect(try eventually { try Self.jobs(root).contains { $0["status"] as? String == "missed" } })
        #expect(try eventually { try Self.jobs(root).filter { $0["status"] as? String == "running" }.count == 1 })
        again.stop()
        let jobs = try Self.jobs(root)
        let interrupted = try #require(jobs.first)
        #expect(interrupted["status"] as? String == "interrupted")
        #expect((interrupted["reason"] as? String)?.contains("pid \(serve.pid)") == true)
        let missed = try #require(jobs.first { $0["status"] as? String == "missed" })
        #expect((missed["reason"] as? String)?.contains("catch-up = latest") == true)
        let slots = Self.slots(jobs)
        #expect(Set(slots).count == slots.count, "a slot was recorded twice: \(slots)")
        let store = try SQLiteStore(path: root.url.appendingPathComponent(".runbook/runbook.db").path)
        let claimed = try store.claimedSlots(schedule: "slow")
        #expect(Set(claimed).count == claimed.count)
    }

    @Test(arguments: [("none", 0, 10), ("latest", 1, 9), ("all", 10, 0)])
    func catchUpPolicies(policy: String, runs: Int, missed: Int) throws {
        let root = try Self.root(runbook: "report", script: "echo $RUNBOOK_SCHEDULED_TIME\n",
                                 schedule: "cron = * * * * *\ncatch-up = \(policy)\noverlap = allow\n")
        let now = Date()
        let minute = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 60).rounded(.down) * 60)
        try Self.pretendRanUntil(minute.addingTimeInterval(-600), schedule: "report", root: root)
        let serve = Serve(root)
        #expect(try eventually {
            let jobs = try Self.jobs(root)
            return jobs.filter { $0["status"] as? String == "succeeded" }.count == runs
                && jobs.allSatisfy { ($0["status"] as? String).map { ["succeeded", "missed"].contains($0) } ?? false }
        })
        usleep(300_000)
        serve.stop()
        let jobs = try Self.jobs(root).filter { ($0["slot"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) }.map { $0 < minute.addingTimeInterval(1) } ?? false }
        let ran = jobs.filter { $0["status"] as? String == "succeeded" }
        #expect(ran.count == runs)
        let missedJobs = jobs.filter { $0["status"] as? String == "missed" }
        if missed > 0 {
            #expect(missedJobs.count == 1)
            #expect((missedJobs.first?["reason"] as? String)?.contains(missed == 1 ? "the slot at" : "\(missed) slots") == true)
        } else {
            #expect(missedJobs.isEmpty)
        }
        if policy == "latest" {
            let slot = try #require(ran.first?["slot"] as? String)
            #expect(ISO8601DateFormatter().date(from: slot) == minute)
            // The caught-up job saw its own slot time.
            let out = try root.run("logs", "\(ran.first?["id"] as? Int ?? 0)").out
            #expect(out.hasPrefix(Timestamp.utc(minute).prefix(19)))
        }
    }

    @Test(arguments: ["skip", "queue", "allow", "replace"])
    func overlap(policy: String) throws {
        let root = try Self.root(runbook: "long", script: "sleep 2.5\n",
                                 schedule: "every = 1 seconds\noverlap = \(policy)\n")
        let serve = Serve(root)
        #expect(try eventually(within: 30) { try Self.jobs(root).count >= 6 })
        serve.stop()
        let jobs = try Self.jobs(root)
        func count(_ status: String) -> Int { jobs.filter { $0["status"] as? String == status }.count }
        let intervals = jobs.compactMap { job -> (Date, Date)? in
            guard let start = (job["started_at"] as? String).flatMap({ ISO8601DateFormatter().date(from: $0) }),
                  let end = (job["ended_at"] as? String).flatMap({ ISO8601DateFormatter().date(from: $0) }),
                  job["status"] as? String != "skipped" else { return nil }
            return (start, end)
        }
        let overlapping = zip(intervals, intervals.dropFirst()).contains { $0.1.0 < $0.0.1.addingTimeInterval(-0.05) }
        switch policy {
        case "skip":
            #expect(count("skipped") >= 2)
            #expect(!overlapping)
            #expect(jobs.contains { ($0["reason"] as? String)?.contains("overlap = skip") == true })
        case "queue":
            #expect(!overlapping)
            #expect(count("skipped") >= 1, "a second waiting slot is skipped: queue keeps one")
            #expect(jobs.filter { $0["status"] as? String == "queued" }.count <= 1)
        case "allow":
            #expect(count("skipped") == 0)
            #expect(overlapping)
        default:
            #expect(count("cancelled") >= 2)
            #expect(jobs.contains { ($0["reason"] as? String)?.contains("replaced by the job for slot") == true })
        }
    }

    @Test func retriesThenOnFailure() throws {
        let root = try RunbookProcess.Root()
        try root.write("runbooks/flaky.sh", "echo attempt $RUNBOOK_ATTEMPT; exit 3\n")
        try root.write("runbooks/alert.sh", "echo \"$RUNBOOK_FAILED_RUNBOOK #$RUNBOOK_FAILED_JOB_ID $RUNBOOK_FAILED_STATUS\"\n")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let at = formatter.string(from: Date().addingTimeInterval(2))
        try root.write("schedules/flaky.schedule", "at = \(at)\ntimezone = UTC\nretries = 2\nretry-delay = 1s\non-failure = alert\n")
        #expect(try root.run("publish", "--all").status == 0)
        let serve = Serve(root)
        #expect(try eventually(within: 30) { try Self.jobs(root).contains { $0["runbook"] as? String == "alert" && $0["status"] as? String == "succeeded" } })
        serve.stop()
        let jobs = try Self.jobs(root)
        let attempts = jobs.filter { $0["runbook"] as? String == "flaky" }
        #expect(attempts.map { $0["attempt"] as? Int } == [1, 2, 3])
        #expect(attempts.map { $0["status"] as? String } == ["failed", "failed", "failed"])
        #expect(attempts.map { $0["trigger"] as? String } == ["schedule", "retry", "retry"])
        let first = try #require(attempts.first?["id"] as? Int)
        #expect(attempts.dropFirst().allSatisfy { $0["parent"] as? Int == first })
        let alert = try #require(jobs.first { $0["runbook"] as? String == "alert" })
        #expect(alert["trigger"] as? String == "on-failure")
        let last = try #require(attempts.last?["id"] as? Int)
        #expect(try root.run("logs", "\(alert["id"] as? Int ?? 0)").out == "flaky #\(last) failed\n")
    }

    @Test func brokenEditKeepsTheLastGoodSchedule() throws {
        let root = try Self.root(runbook: "tick", script: "echo tick\n", schedule: "every = 1 seconds\n")
        let serve = Serve(root)
        #expect(try eventually { try Self.jobs(root).count >= 2 })
        try root.write("schedules/tick.schedule", "every = 1 fortnights\n")
        #expect(eventually { serve.log.contains("schedules/tick.schedule:1") && serve.log.contains("last good version keeps firing") })
        let before = try Self.jobs(root).count
        #expect(try eventually { try Self.jobs(root).count >= before + 2 }, "the old schedule stopped firing")
        let reports = serve.log.components(separatedBy: "last good version keeps firing").count - 1
        #expect(reports == 1, "the error was reported \(reports) times")
        try root.write("schedules/tick.schedule", "every = 1 hours\n")
        #expect(eventually { serve.log.contains("schedule tick changed: 1 hours") })
        let settled = try Self.jobs(root).count
        usleep(2_500_000)
        #expect(try Self.jobs(root).count == settled, "the fixed schedule did not take effect")
        try FileManager.default.removeItem(at: root.url.appendingPathComponent("schedules/tick.schedule"))
        #expect(eventually { serve.log.contains("schedule tick was removed") })
        serve.stop()
    }

    @Test func sigtermWaitsForTheRunningJobWithinGrace() throws {
        let marker = "sleep 300.\(getpid() % 10000)2"
        let root = try Self.root(runbook: "slow", script: "trap '' TERM; echo $$ > \"$RUNBOOK_DATA/pid\"; \(marker)\n",
                                 schedule: "every = 1 hours\n")
        try Self.pretendRanUntil(Date().addingTimeInterval(-3600 * 1.5), schedule: "slow", root: root)
        let serve = Serve(root, ["--grace", "2s"])
        #expect(try eventually { try Self.jobs(root).contains { $0["status"] as? String == "running" } })
        let pidFile = root.url.appendingPathComponent(".runbook/data/slow/pid")
        #expect(eventually { FileManager.default.fileExists(atPath: pidFile.path) })
        #expect(eventually { processes(containing: marker).count == 1 })
        let took = serve.stop()
        #expect(took < 2 + 10 + 1.5, "the host took \(took) s to stop")
        let job = try #require(try Self.jobs(root).last { $0["status"] as? String != "missed" })
        #expect(job["status"] as? String == "cancelled")
        #expect((job["reason"] as? String)?.contains("grace period") == true)
        #expect(eventually(within: 2) { processes(containing: marker).isEmpty })
    }

    /// The probe of the readied-job tests: the job's id and the instant its
    /// program ran its first command (bash's own clock, no second process).
    static let probe = "echo \"$RUNBOOK_JOB_ID $EPOCHREALTIME\" >> \"$RUNBOOK_DATA/starts\"\n"

    static func starts(_ root: RunbookProcess.Root, runbook: String) -> [JobID: Double] {
        let text = (try? root.read(".runbook/data/\(runbook)/starts")) ?? ""
        var starts: [JobID: Double] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, let id = Int64(words[0]), let at = Double(words[1]) { starts[JobID(rawValue: id)] = at }
        }
        return starts
    }

    static func store(_ root: RunbookProcess.Root) throws -> SQLiteStore {
        try SQLiteStore(path: root.url.appendingPathComponent(".runbook/runbook.db").path)
    }

    @Test func scheduledJobsAreReadiedAheadAndStartAtTheirInstant() throws {
        let root = try Self.root(runbook: "probe", script: Self.probe, schedule: "every = 1 seconds\n")
        let serve = Serve(root, ["--ready-ahead", "600"])
        #expect(eventually { Self.starts(root, runbook: "probe").count >= 5 })
        serve.stop()
        let store = try Self.store(root)
        let starts = Self.starts(root, runbook: "probe")
        for (id, at) in starts.sorted(by: { $0.key < $1.key }).dropFirst() {
            let job = try #require(try store.job(id))
            let slot = try #require(job.slot).timeIntervalSince1970
            let started = try #require(job.startedAt).timeIntervalSince1970
            // Recorded and readied ahead; the program never starts before its instant.
            #expect(job.queuedAt.timeIntervalSince1970 < slot, "job #\(id) was not readied ahead of its slot")
            #expect(at >= slot, "job #\(id) ran \(slot - at) s before its slot")
            #expect(at < slot + 1, "job #\(id) ran \(at - slot) s after its slot")
            #expect(started >= slot && started <= at, "job #\(id): started_at \(started), slot \(slot), ran at \(at)")
        }
    }

    /// A job readied ahead is running by its record (its slot is claimed):
    /// when the host is stopped before its instant, it still starts at the
    /// instant, within the grace period; cancelled with `runbook cancel`
    /// before its instant, it never runs, and keeps no start time.
    @Test(arguments: ["sigterm", "cancel"])
    func aReadiedJobStoppedBeforeItsInstant(how: String) throws {
        let root = try Self.root(runbook: "probe", script: Self.probe, schedule: "every = 5 seconds\n")
        let serve = Serve(root, ["--ready-ahead", "4500"])
        let store = try Self.store(root)
        // A job that is recorded running (readied) but whose program has not run.
        var held: JobRecord?
        #expect(try eventually {
            let starts = Self.starts(root, runbook: "probe")
            held = try store.jobs(JobFilter(runbook: "probe", status: .running, limit: 1)).first { job in
                starts[job.id] == nil && (job.startedAt.map { $0.timeIntervalSinceNow > 1 } ?? false)
            }
            return held != nil
        })
        let job = try #require(held)
        let instant = try #require(job.startedAt).timeIntervalSince1970
        if how == "sigterm" {
            serve.stop()
            let ended = try #require(try store.job(job.id))
            #expect(ended.status == .succeeded)
            let ran = try #require(Self.starts(root, runbook: "probe")[job.id])
            #expect(ran >= instant, "job #\(job.id) ran \(instant - ran) s before its instant")
            #expect(try store.jobs(JobFilter(runbook: "probe")).allSatisfy { $0.id <= job.id }, "a slot fired after SIGTERM")
            return
        }
        #expect(try root.run("cancel", String(job.id.rawValue)).status == 0)
        let ended = try #require(try store.job(job.id))
        #expect(ended.status == .cancelled)
        #expect(ended.startedAt == nil)
        #expect(ended.reason?.contains("runbook cancel") == true, "\(ended.reason ?? "")")
        // The host goes on: the next slot runs.
        #expect(eventually { !Self.starts(root, runbook: "probe").isEmpty })
        serve.stop()
        #expect(Self.starts(root, runbook: "probe")[job.id] == nil, "job #\(job.id) ran after all")
    }

    /// A readied job that finds no place free at its instant is shown
    /// queued while it waits, and its start time is when it really started.
    @Test func aReadiedJobWaitingForAPlaceIsQueuedUntilItStarts() throws {
        let root = try Self.root(runbook: "nap", script: Self.probe + "sleep 2\n", schedule: "every = 10 seconds\nrunbook = nap\n")
        try root.write("schedules/nap2.schedule", "every = 10 seconds\nrunbook = nap\n")
        let serve = Serve(root, ["--max-concurrent", "1"])
        let store = try Self.store(root)
        var sawQueued = false
        #expect(try eventually(within: 25) {
            let jobs = try store.jobs(JobFilter(runbook: "nap", limit: 10))
            if jobs.contains(where: { $0.status == .running }), jobs.contains(where: { $0.status == .queued && $0.startedAt == nil }) {
                sawQueued = true
            }
            return sawQueued && Self.starts(root, runbook: "nap").count >= 2
        })
        #expect(eventually { (try? store.jobs(JobFilter(runbook: "nap", status: .succeeded, limit: 10)).count) ?? 0 >= 2 })
        serve.stop()
        let starts = Self.starts(root, runbook: "nap")
        // In the order they ran (which of the two took the place first is the threads' race).
        let done = try store.jobs(JobFilter(runbook: "nap", status: .succeeded, limit: 10))
            .sorted { (starts[$0.id] ?? .infinity) < (starts[$1.id] ?? .infinity) }
        let (first, second) = (done[0], done[1])
        #expect(first.slot == second.slot)
        // One place: the second started when the first had ended, and its record says so.
        let secondStart = try #require(second.startedAt).timeIntervalSince1970
        // The first slept 2 s after its probe.
        let firstEnd = try #require(starts[first.id]) + 2
        let secondRan = try #require(starts[second.id])
        #expect(secondStart >= firstEnd)
        #expect(secondRan >= secondStart && secondRan - secondStart < 0.5)
    }
}
