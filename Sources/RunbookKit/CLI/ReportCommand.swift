import FoundationEssentials

struct ReportCommand: Command {
    static let name = "report"
    static let summary = "write a self-contained HTML report of recent jobs"
    static let usage = "runbook report --html FILE [--since DURATION]"
    static let help = """
        Writes one HTML file about the jobs queued in the last DURATION
        (default 7d): totals, the overview table (`runbook overview`), a
        timeline per runbook coloured by status, median and p95 durations,
        and the last failures with the tail of their logs (credentials
        already masked). Inline CSS and SVG only: no script and nothing
        fetched, so it opens anywhere. `runbook serve --report FILE` keeps
        such a file up to date while the host runs.

        Options:
          --html FILE        where to write the page (replaced atomically)
          --since DURATION   the window (24h, 7d, 30d; default 7d)

        Examples:
          runbook report --html /var/www/runbook.html
          runbook report --html report.html --since 24h
        """

    var file: String
    var since = 7 * 86_400

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        guard let file = try scanner.value("--html") else { throw UsageError("missing --html FILE: where to write the report") }
        self.file = file
        if let text = try scanner.value("--since") {
            do { since = try DurationText.seconds(text) } catch { throw UsageError("--since: \(error.message)") }
        }
        try scanner.noPositionals(command: "report")
    }

    func run(_ context: Context) throws -> Int32 {
        let target = URL(fileURLWithPath: file, relativeTo: context.currentDirectory).standardizedFileURL
        let report = try HTMLReport.build(store: try context.store(), workspace: try context.workspace(), window: since, now: context.now())
        try report.write(to: target)
        context.console.out("Wrote \(target.path): \(report.overview.runbooks.count) runbook(s), \(report.samples.count) job(s) since \(formatLocal(report.overview.since)).")
        return 0
    }
}
