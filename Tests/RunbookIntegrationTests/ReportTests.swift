import Foundation
import Glibc
import Testing
@testable import RunbookKit

/// A root whose store holds a job of every kind the reports show: made by
/// running real runbooks (succeeded, failed, timed-out, and interrupted by
/// `kill -9` of the runbook process), plus what only a host or time makes
/// (a skipped slot, a job from three days ago) written through the store.
final class ReportFixture: Sendable {
    let root: RunbookProcess.Root
    /// Job id by what it is: ok, boom, slow, hang, skipped, old.
    let ids: [String: Int64]

    static let shared: ReportFixture = {
        do { return try ReportFixture() } catch { fatalError("cannot build the report fixture: \(error)") }
    }()

    init() throws {
        let root = try RunbookProcess.Root()
        self.root = root
        try root.write("runbooks/ok.sh", "echo all good\necho 'a note' >&2\n")
        try root.write("runbooks/boom.sh", "echo starting\necho 'ERROR: disk full on /var' >&2\nexit 3\n")
        try root.write("runbooks/slow.sh", "# runbook: timeout = 1s\necho tick\nsleep 31\n")
        try root.write("runbooks/hang.sh", "echo waiting\nsleep 32\n")
        try root.run("publish", "--all", "-m", "fixture")
        var ids: [String: Int64] = [:]
        for name in ["ok", "boom", "slow"] {
            try root.run("run", name)
            ids[name] = try Self.latest(root, name)
        }
        let started = root.start(["run", "hang"])
        _ = try eventually { try root.jobs().contains { $0["runbook"] as? String == "hang" && $0["status"] as? String == "running" } }
        kill(started.process.processIdentifier, SIGKILL)
        started.process.waitUntilExit()
        ids["hang"] = try Self.latest(root, "hang")

        let store = try SQLiteStore(path: Workspace(root: root.url).database.path)
        var skipped = NewJob(runbook: "ok", revision: 1, snapshot: nil, trigger: .schedule)
        skipped.schedule = "nightly"
        skipped.slot = Date()
        ids["skipped"] = try store.recordEndedJob(skipped, status: .skipped, reason: "skipped: job still running (overlap = skip)",
                                                  host: "box", at: Date()).id.rawValue
        ids["old"] = try store.recordEndedJob(NewJob(runbook: "ok", revision: 1, snapshot: nil, trigger: .manual), status: .succeeded,
                                              reason: "exit code 0", host: "box", at: Date().addingTimeInterval(-3 * 86_400)).id.rawValue
        self.ids = ids
    }

    private static func latest(_ root: RunbookProcess.Root, _ runbook: String) throws -> Int64 {
        let result = try root.run("jobs", "--json", "--runbook", runbook, "--limit", "1")
        let jobs = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [[String: Any]]
        return (jobs?.first?["id"] as? NSNumber)?.int64Value ?? -1
    }
}

@Suite("Reports", .serialized)
struct ReportTests {
    var fixture: ReportFixture { .shared }
    var root: RunbookProcess.Root { fixture.root }

    func jobIDs(_ arguments: [String]) throws -> [Int64] {
        let result = try root.run(["jobs", "--json", "--limit", "0"] + arguments)
        #expect(result.status == 0, "\(result.err)")
        let jobs = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [[String: Any]] ?? []
        return jobs.compactMap { ($0["id"] as? NSNumber)?.int64Value }
    }

    @Test func theFixtureHoldsEveryKindOfJob() throws {
        let statuses = Dictionary(uniqueKeysWithValues: try root.jobs().map { (($0["id"] as? NSNumber)?.int64Value ?? 0, $0["status"] as? String ?? "") })
        #expect(statuses[fixture.ids["ok"]!] == "succeeded")
        #expect(statuses[fixture.ids["boom"]!] == "failed")
        #expect(statuses[fixture.ids["slow"]!] == "timed-out")
        #expect(statuses[fixture.ids["hang"]!] == "interrupted")
        #expect(statuses[fixture.ids["skipped"]!] == "skipped")
    }

    @Test(arguments: [
        (["--runbook", "boom"], ["boom"]),
        (["--status", "failed"], ["boom"]),
        (["--status", "timed-out,interrupted"], ["hang", "slow"]),
        (["--status", "timed-out", "--status", "failed"], ["boom", "slow"]),
        (["--schedule", "nightly"], ["skipped"]),
        (["--runbook", "ok", "--since", "24h"], ["ok", "skipped"]),
        (["--runbook", "ok"], ["ok", "skipped", "old"]),
        (["--runbook", "ok", "--status", "succeeded", "--since", "7d"], ["ok", "old"]),
    ])
    func jobsFilters(arguments: [String], expected: [String]) throws {
        let ids = try jobIDs(arguments)
        #expect(Set(ids) == Set(expected.map { fixture.ids[$0]! }))
        #expect(ids == ids.sorted(by: >), "newest first")
    }

    @Test func jobsLimitsAndPrintsPlainColumnsToAPipe() throws {
        let limited = try root.run("jobs", "--json", "--limit", "2")
        #expect((try JSONSerialization.jsonObject(with: Data(limited.out.utf8)) as? [Any])?.count == 2)
        let text = try root.run("jobs", "--limit", "3")
        #expect(text.status == 0)
        #expect(text.out.hasPrefix("ID  RUNBOOK"))
        #expect(text.out.split(separator: "\n").count == 4)
        #expect(!text.out.contains("\u{1B}["), "no colour when the output is not a terminal")
        let bad = try root.run("jobs", "--status", "faild")
        #expect(bad.status == 2 && bad.err.contains("did you mean 'failed'?"))
        let since = try root.run("jobs", "--since", "yesterday")
        #expect(since.status == 2 && since.err.contains("--since"))
    }

    @Test func logsByStreamWithTimestampsAndLast() throws {
        let boom = String(fixture.ids["boom"]!)
        let errors = try root.run("logs", boom, "--stderr")
        #expect(errors.out == "ERROR: disk full on /var\n")
        let output = try root.run("logs", boom, "--stdout")
        #expect(output.out == "starting\n")
        let stamped = try root.run("logs", boom, "--timestamps")
        let lines = stamped.out.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (out|err) "#, options: .regularExpression) != nil })
        let last = try root.run("logs", "slow", "--last")
        #expect(last.out.contains("tick") && last.out.contains("runbook: timed out after 1s"))
        let skipped = try root.run("logs", String(fixture.ids["skipped"]!))
        #expect(skipped.status == 0 && skipped.err.contains("recorded no output"))
        #expect(try root.run("logs", "nosuch", "--last").status == 1)
    }

    @Test func overviewCountsByRunbookAndStatus() throws {
        let result = try root.run("overview", "--json", "--since", "7d")
        #expect(result.status == 0, "\(result.err)")
        let overview = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        let runbooks = try #require(overview["runbooks"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: runbooks.map { ($0["runbook"] as? String ?? "", $0) })
        #expect(Set(byName.keys) == ["boom", "hang", "ok", "slow"])
        let ok = try #require(byName["ok"])
        #expect(ok["runs"] as? Int == 2 && ok["succeeded"] as? Int == 2 && ok["skipped"] as? Int == 1 && ok["success_rate"] as? Double == 1)
        let boom = try #require(byName["boom"])
        #expect(boom["failures"] as? [String: Int] == ["failed": 1])
        let failure = try #require(boom["last_failure"] as? [String: Any])
        #expect(failure["first_error"] as? String == "ERROR: disk full on /var")
        #expect(failure["reason"] as? String == "exit code 3")
        #expect(byName["slow"]?["failures"] as? [String: Int] == ["timed-out": 1])
        #expect(byName["hang"]?["failures"] as? [String: Int] == ["interrupted": 1])
        #expect(byName["hang"]?["success_rate"] as? Double == 0)
        #expect((byName["ok"]?["median_seconds"] as? Double).map { $0 >= 0 } == true)

        // The three-day-old job falls outside a 24h window.
        let day = try root.run("overview", "--json")
        let dayRunbooks = (try JSONSerialization.jsonObject(with: Data(day.out.utf8)) as? [String: Any])?["runbooks"] as? [[String: Any]]
        #expect(dayRunbooks?.first { $0["runbook"] as? String == "ok" }?["runs"] as? Int == 1)

        let text = try root.run("overview", "--since", "7d")
        #expect(text.out.contains("RUNBOOK") && text.out.contains("1 (failed 1)") && text.out.contains("ERROR: disk full on /var"))
        #expect(text.out.contains("Host: none has run on this state"))
    }

    @Test func htmlReportShowsTheTableTheChartsAndTheFailures() throws {
        let result = try root.run("report", "--html", "report.html", "--since", "7d")
        #expect(result.status == 0, "\(result.err)")
        let html = try root.read("report.html")
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("<table>") && html.components(separatedBy: "<svg").count == 3)
        for name in ["ok", "boom", "slow", "hang"] { #expect(html.contains("<th scope=\"row\">\(name)</th>")) }
        #expect(html.contains("ERROR: disk full on /var"))
        #expect(html.contains("id=\"job-\(fixture.ids["boom"]!)\""))
        #expect(!html.lowercased().contains("<script"))
        let missing = try root.run("report")
        #expect(missing.status == 2 && missing.err.contains("--html"))
    }
}

@Suite("Cancel and follow", .serialized)
struct CancelAndFollowTests {
    func runningJob(_ root: RunbookProcess.Root, _ runbook: String) throws -> Int64? {
        var id: Int64?
        _ = try eventually {
            id = try root.jobs().first { $0["runbook"] as? String == runbook && $0["status"] as? String == "running" }
                .flatMap { ($0["id"] as? NSNumber)?.int64Value }
            return id != nil
        }
        return id
    }

    @Test func followTailsARunningJobAndExitsWithItsCode() throws {
        let root = try RunbookProcess.Root()
        try root.write("runbooks/ticker.sh", "for i in 1 2 3 4 5; do echo line$i; sleep 0.2; done\necho done >&2\nexit 4\n")
        try root.run("publish", "ticker")
        let run = root.start(["run", "ticker"])
        let id = try #require(try runningJob(root, "ticker"))
        let follow = try root.run("logs", String(id), "--follow")
        run.process.waitUntilExit()
        #expect(follow.status == 4)
        #expect(follow.out == "line1\nline2\nline3\nline4\nline5\ndone\n")
        #expect(follow.err.contains("job #\(id) failed"))
    }

    @Test func cancelStopsAManualRunAndEverythingItStarted() throws {
        let root = try RunbookProcess.Root()
        try root.write("runbooks/hang.sh", "sleep 1717 &\nsleep 1717\n")
        try root.run("publish", "hang")
        let run = root.start(["run", "hang"])
        let id = try #require(try runningJob(root, "hang"))
        let cancel = try root.run("cancel", String(id))
        #expect(cancel.status == 0, "\(cancel.err)")
        #expect(cancel.out.contains("job #\(id) cancelled"))
        run.process.waitUntilExit()
        #expect(run.process.terminationStatus == 143)
        let job = try #require(try root.jobs().first { ($0["id"] as? NSNumber)?.int64Value == id })
        #expect(job["status"] as? String == "cancelled")
        #expect((job["reason"] as? String)?.contains("with runbook cancel") == true)
        #expect(eventually(within: 5) { processes(containing: "sleep 1717").isEmpty })

        let again = try root.run("cancel", String(id))
        #expect(again.status == 1 && again.err.contains("already ended"))
        #expect(try root.run("cancel", "424242").status == 1)
        #expect(try root.run("cancel", "abc").status == 2)
    }

    @Test func cancelReachesAJobTheHostRuns() throws {
        let root = try RunbookProcess.Root()
        try root.write("runbooks/long.sh", "sleep 1718\n")
        try root.write("schedules/long.schedule", "runbook = long\nevery = 1 seconds\noverlap = skip\n")
        try root.run("publish", "long")
        let serve = root.start(["serve"])
        defer { kill(serve.process.processIdentifier, SIGKILL); serve.process.waitUntilExit() }
        let id = try #require(try runningJob(root, "long"))
        let cancel = try root.run("cancel", String(id), "--wait", "20s")
        #expect(cancel.status == 0, "\(cancel.out)\(cancel.err)")
        let job = try #require(try root.jobs().first { ($0["id"] as? NSNumber)?.int64Value == id })
        #expect(job["status"] as? String == "cancelled")
        #expect((job["reason"] as? String)?.contains("with runbook cancel") == true)
        #expect(serve.process.isRunning, "the host keeps running")
        // The next slot fires again: cancelling a job does not stop its schedule.
        #expect(try eventually { try root.jobs().contains { ($0["id"] as? NSNumber)?.int64Value ?? 0 > id && $0["status"] as? String == "running" } })
    }
}

@Suite("Metrics, retention and the host's report", .serialized)
struct HostReportingTests {
    @Test func theMetricsFileIsStrictPrometheusText() throws {
        var metrics = HostMetrics()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        for (runbook, status, seconds) in [("a", JobStatus.succeeded, 0.05), ("a", .failed, 2.0), ("we\"ird\\name\nx", .timedOut, 4000.0)] {
            let job = JobRecord(id: JobID(rawValue: 1), runbook: runbook, revision: 1, snapshot: nil, trigger: .schedule, schedule: "s",
                                slot: now, attempt: 1, parent: nil, status: status, reason: nil, exitCode: nil, signal: nil,
                                queuedAt: now, startedAt: now, endedAt: now.addingTimeInterval(seconds), peakMemoryKB: nil,
                                cpuMicroseconds: nil, host: "h", ownerPID: nil, outputBytes: 0, truncated: false, parameters: [:])
            metrics.record(job, now: now)
        }
        let text = metrics.render(.init(up: true, startedAt: now, heartbeatAt: now, queued: 3, running: 1, lastSuccess: ["s": now]))
        #expect(PrometheusLint.problems(in: text) == [])
        #expect(text.contains("runbook_jobs_total{runbook=\"we\\\"ird\\\\name\\nx\",status=\"timed-out\"} 1\n"))
        #expect(text.contains("runbook_job_duration_seconds_bucket{runbook=\"a\",le=\"0.1\"} 1\n"))
        #expect(text.contains("runbook_job_duration_seconds_bucket{runbook=\"a\",le=\"+Inf\"} 2\n"))
        #expect(text.contains("runbook_queue_depth 3\n"))
        if let promtool = try PrometheusLint.promtool(text) { #expect(promtool.status == 0, "\(promtool.output)") }
        // The reader is strict: it finds what a broken file gets wrong.
        #expect(!PrometheusLint.problems(in: "x_total 1\n").isEmpty)
        #expect(!PrometheusLint.problems(in: "# TYPE x counter\nx 1\n").isEmpty)
        #expect(!PrometheusLint.problems(in: "# TYPE x_total counter\nx_total{a=\"1\\q\"} 1\n").isEmpty)
    }

    @Test func theHostWritesMetricsAndTheReportAndPrunesHistory() throws {
        let root = try RunbookProcess.Root()
        try root.write("runbooks/hello.sh", "echo hello\n")
        try root.write("schedules/hello.schedule", "runbook = hello\nevery = 1 seconds\n")
        try root.write("runbook.conf", "history = 5, 30m\n")
        try root.run("publish", "hello")
        // Twenty old jobs, with logs, that the host's retention must prune.
        let workspace = Workspace(root: root.url)
        let store = try SQLiteStore(path: workspace.database.path)
        var old: [JobID] = []
        for minute in 0..<20 {
            let job = try store.recordEndedJob(NewJob(runbook: "hello", revision: 1, snapshot: nil, trigger: .manual), status: .succeeded,
                                               reason: "exit code 0", host: "box", at: Date().addingTimeInterval(Double(-3600 + minute)))
            try Data("x out old\n".utf8).write(to: workspace.logs.appendingPathComponent("\(job.id.rawValue).log"))
            old.append(job.id)
        }
        try FileManager.default.createDirectory(at: root.url.appendingPathComponent("metrics"), withIntermediateDirectories: true)
        let serve = root.start(["serve", "--metrics", "metrics/runbook.prom", "--report", "report.html"])
        let succeeded = "runbook_jobs_total{runbook=\"hello\",status=\"succeeded\"} "
        #expect(eventually {
            let text = (try? root.read("metrics/runbook.prom")) ?? ""
            let line = text.split(separator: "\n").first { $0.hasPrefix(succeeded) }
            return line.flatMap { Int($0.dropFirst(succeeded.count)) }.map { $0 >= 2 } ?? false
        })
        #expect(eventually { root.exists("report.html") && ((try? root.read("report.html"))?.contains("<th scope=\"row\">hello</th>") == true) })
        #expect(try store.existingJobs(old).isEmpty, "retention pruned the old jobs")
        #expect(old.allSatisfy { !FileManager.default.fileExists(atPath: workspace.logs.appendingPathComponent("\($0.rawValue).log").path) })
        let running = try PrometheusLint.problems(in: root.read("metrics/runbook.prom"))
        #expect(running == [])
        kill(serve.process.processIdentifier, SIGTERM)
        serve.process.waitUntilExit()
        let err = String(decoding: try serve.stderr.fileHandleForReading.readToEnd() ?? Data(), as: UTF8.self)
        #expect(err.contains("pruned 20 job(s)"))
        let final = try root.read("metrics/runbook.prom")
        #expect(final.contains("runbook_host_up 0\n"))
        #expect(final.contains("runbook_schedule_last_success_timestamp_seconds{schedule=\"hello\"}"))
        #expect(PrometheusLint.problems(in: final) == [])
        if let promtool = try PrometheusLint.promtool(final) { #expect(promtool.status == 0, "\(promtool.output)") }
    }

    @Test func pruning100000JobsLeavesNoLogWithoutARecordNorARecordWithoutALog() throws {
        let root = try RunbookProcess.Root()
        let workspace = Workspace(root: root.url)
        try workspace.prepareState()
        let store = try SQLiteStore(path: workspace.database.path)
        // One SQL statement writes the records (a job in ten failed), then a
        // log per record: the library's one-row inserts would take minutes.
        let start = Date().addingTimeInterval(-86_400).timeIntervalSince1970
        try store.connection.execute("""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
            INSERT INTO jobs (runbook, revision, trigger, status, reason, queued_at, started_at, ended_at, host)
            SELECT 'r' || (i % 4), 1, 'manual', CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'succeeded' END, 'x',
                   \(start) + i, \(start) + i, \(start) + i + 1, 'box' FROM n
            """)
        for id in 1...100_000 {
            let descriptor = open(workspace.logs.appendingPathComponent("\(id).log").path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            try #require(descriptor >= 0)
            close(descriptor)
        }
        try root.write("runbook.conf", "history = 1000\n")
        let result = try root.run("prune", "--json")
        #expect(result.status == 0, "\(result.err)")
        let counts = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
        #expect(counts?["jobs"] as? Int == 96_000)
        let records = Set(try store.jobs(JobFilter()).map(\.id.rawValue))
        let logs = Set(try FileManager.default.contentsOfDirectory(atPath: workspace.logs.path).compactMap { Int64($0.dropLast(4)) })
        #expect(records.count == 4000)
        #expect(records == logs, "every record has its log and every log its record")
        #expect(try root.run("prune", "--json").out.contains("\"jobs\" : 0"))
    }
}
