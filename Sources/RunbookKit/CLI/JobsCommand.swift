import FoundationEssentials

struct JobsCommand: Command {
    static let name = "jobs"
    static let summary = "list jobs, newest first"
    static let usage = "runbook jobs [--runbook NAME] [--status STATUS] [--schedule NAME] [--since DURATION] [--limit N] [--json]"
    static let help = """
        Lists recorded jobs, newest first: id, runbook, revision (or draft),
        trigger, status, exit code or signal, start time, duration, and why
        it ended as it did. Statuses are coloured on a terminal (never when
        NO_COLOR is set or output is piped).

        Options:
          --runbook NAME     only jobs of this runbook
          --status STATUS    only jobs with this status: queued, running,
                             succeeded, failed, timed-out, limit-exceeded,
                             cancelled, skipped, missed, interrupted
                             (repeat it or separate with commas for several)
          --schedule NAME    only jobs fired by this schedule
          --since DURATION   only jobs queued in the last DURATION (30m, 24h, 7d)
          --limit N          at most N jobs (default 50; 0 for all)
          --json             print the jobs as JSON

        Examples:
          runbook jobs
          runbook jobs --runbook backup --status failed --since 7d
          runbook jobs --status failed,timed-out --limit 10
        """

    var filter = JobFilter()
    var since: Int?
    var output: OutputOptions

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        output = try OutputOptions(&scanner)
        filter.runbook = try scanner.value("--runbook")
        filter.schedule = try scanner.value("--schedule")
        for text in try scanner.values("--status") {
            for status in text.split(separator: ",").map({ $0.trimmingWhitespace() }) {
                guard let parsed = JobStatus(rawValue: status) else {
                    let hint = Spelling.nearest(to: status, in: JobStatus.allCases.map(\.rawValue)).map { " (did you mean '\($0)'?)" } ?? ""
                    throw UsageError("--status: unknown status '\(status)'\(hint); use one or more of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if !filter.statuses.contains(parsed) { filter.statuses.append(parsed) }
            }
        }
        if let text = try scanner.value("--since") {
            do { since = try DurationText.seconds(text) } catch { throw UsageError("--since: \(error.message)") }
        }
        let limit = try scanner.integer("--limit") ?? 50
        filter.limit = limit == 0 ? nil : limit
        let rest = try scanner.positionals()
        guard rest.isEmpty else { throw UsageError("jobs takes no positional arguments, got '\(rest[0])' (did you mean --runbook \(rest[0])?)") }
    }

    func run(_ context: Context) throws -> Int32 {
        var filter = self.filter
        if let since { filter.since = context.now().addingTimeInterval(-Double(since)) }
        let jobs = try context.store().jobs(filter)
        if output.json {
            context.console.out(try renderJSON(jobs))
            return 0
        }
        if jobs.isEmpty {
            context.console.out("No jobs match.")
            return 0
        }
        let now = context.now()
        let palette = Palette(console: context.console, environment: context.environment)
        var table = Table("ID", "RUNBOOK", "REV", "TRIGGER", "SLOT", "STATUS", "EXIT", "STARTED", "DURATION", "REASON")
        for job in jobs {
            let exit = job.signal.map { signalName(Int32($0)) } ?? job.exitCode.map(String.init) ?? "-"
            let trigger = job.schedule.map { job.trigger == .schedule ? "schedule:\($0)" : "\(job.trigger.rawValue):\($0)" }
                ?? job.trigger.rawValue
            let attempt = job.attempt > 1 ? " (attempt \(job.attempt))" : ""
            table.add(String(job.id.rawValue), job.runbook, job.revision.map { "r\($0)" } ?? (job.trigger == .test ? "draft" : "-"),
                      trigger + attempt, job.slot.map(formatLocal) ?? "-", palette.status(job.status), exit,
                      job.startedAt.map(formatLocal) ?? "-", job.duration(now: now).map(formatElapsed) ?? "-",
                      job.reason ?? "")
        }
        context.console.out(table.render())
        return 0
    }
}
