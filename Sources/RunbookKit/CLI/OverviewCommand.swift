import FoundationEssentials

struct OverviewCommand: Command {
    static let name = "overview"
    static let summary = "per runbook: runs, failures, durations, last failure, next run"
    static let usage = "runbook overview [--since DURATION] [--json]"
    static let help = """
        Sums up the jobs queued in the last DURATION (default 24h), one line
        per runbook: finished runs, succeeded, failed (by status: failed,
        timed-out, limit-exceeded, interrupted), success rate, median and
        95th-percentile duration, jobs not run (skipped and missed), the next
        scheduled run, and the latest failure ever recorded with the first
        line it wrote to stderr. Cancelled jobs count as runs, not failures.
        Then the hosts that run on this state and their last heartbeat.

        Options:
          --since DURATION   the window (30m, 24h, 7d; default 24h)
          --json             print the overview as JSON

        Examples:
          runbook overview
          runbook overview --since 7d --json
        """

    var since = 86_400
    var output: OutputOptions

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        output = try OutputOptions(&scanner)
        if let text = try scanner.value("--since") {
            do { since = try DurationText.seconds(text) } catch { throw UsageError("--since: \(error.message)") }
        }
        try scanner.noPositionals(command: "overview")
    }

    func run(_ context: Context) throws -> Int32 {
        let now = context.now()
        let overview = try Overview.build(store: try context.store(), workspace: try context.workspace(),
                                          since: now.addingTimeInterval(-Double(since)), now: now)
        if output.json {
            context.console.out(try renderJSON(overview))
            return 0
        }
        let palette = Palette(console: context.console, environment: context.environment)
        context.console.out("Jobs since \(formatLocal(overview.since)) (\(DurationText.format(seconds: since))):")
        if overview.runbooks.isEmpty {
            context.console.out("No runbooks and no jobs yet.")
        } else {
            var table = Table("RUNBOOK", "RUNS", "OK", "FAILED", "RATE", "P50", "P95", "NOT RUN", "NEXT RUN", "LAST FAILURE")
            for figures in overview.runbooks {
                let failed = figures.failed == 0 ? "0" : palette.red("\(figures.failed)") + " (\(figures.failureSummary))"
                let rate = figures.successRate.map { rate -> String in
                    let text = String(cFormat: "%.1f%%", rate * 100)
                    return rate >= 0.999 ? palette.green(text) : rate < 0.9 ? palette.red(text) : palette.yellow(text)
                } ?? "-"
                let notRun = figures.skipped + figures.missed == 0 ? "0" : "\(figures.skipped + figures.missed)"
                    + " (" + [("skipped", figures.skipped), ("missed", figures.missed)].filter { $0.1 > 0 }
                    .map { "\($0.0) \($0.1)" }.joined(separator: ", ") + ")"
                let failure = figures.lastFailure.map { last in
                    "#\(last.job) \(formatElapsed(now.timeIntervalSince(last.at))) ago, \(last.reason)"
                        + (last.firstError.map { ": " + $0.clipped(to: 80) } ?? "")
                } ?? "-"
                table.add(figures.runbook, "\(figures.runs)", "\(figures.succeeded)", failed, rate,
                          figures.medianSeconds.map(formatElapsed) ?? "-", figures.p95Seconds.map(formatElapsed) ?? "-",
                          notRun, figures.nextRun.map(formatLocal) ?? "-", failure)
            }
            context.console.out(table.render())
        }
        context.console.out("")
        if overview.hosts.isEmpty {
            context.console.out("Host: none has run on this state; start one with `runbook serve`.")
        }
        for state in overview.hosts.prefix(3) {
            let host = state.host
            let beat = formatElapsed(now.timeIntervalSince(host.heartbeatAt))
            let label = state.alive ? palette.green(state.state) : palette.yellow(state.state)
            if let stopped = host.stoppedAt {
                context.console.out("Host: \(host.hostname) pid \(host.pid) \(label) at \(formatLocal(stopped)) (started \(formatLocal(host.startedAt)))")
            } else {
                context.console.out("Host: \(host.hostname) pid \(host.pid) \(label) since \(formatLocal(host.startedAt)), last heartbeat \(beat) ago")
            }
        }
        return 0
    }
}

extension String {
    /// The text trimmed and cut to `limit` characters, with an ellipsis.
    func clipped(to limit: Int) -> String {
        let trimmed = trimmingWhitespace()
        return trimmed.count <= limit ? trimmed : String(trimmed.prefix(limit - 1)) + "…"
    }
}
