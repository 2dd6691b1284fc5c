import FoundationEssentials

struct PruneCommand: Command {
    static let name = "prune"
    static let summary = "delete old jobs and their logs by the history setting"
    static let usage = "runbook prune [--dry-run] [--json]"
    static let help = """
        Applies the retention: for each runbook, keeps the jobs its `history`
        setting keeps (its published header's, else runbook.conf's; default
        the newest 1000 jobs per runbook) and deletes the others, records and
        logs together. Never deleted: a queued or running job, and each
        runbook's latest failure. Logs without a record are removed too, and
        slot claims older than 30 days (each schedule's newest stays).
        `runbook serve` does the same at start and every 10 minutes.

        history = 1000          the newest 1000 jobs of each runbook
        history = 30d           jobs queued in the last 30 days
        history = 1000, 30d     both bounds: a job goes when outside either
        history = unlimited     keep everything

        Options:
          --dry-run   count what would go, delete nothing
          --json      print the counts as JSON

        Examples:
          runbook prune --dry-run
          runbook prune
        """

    var dryRun: Bool
    var output: OutputOptions

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        output = try OutputOptions(&scanner)
        dryRun = try scanner.flag("--dry-run")
        try scanner.noPositionals(command: "prune")
    }

    func run(_ context: Context) throws -> Int32 {
        let workspace = try context.workspace(), store = try context.store()
        let retention = Retention.resolver(workspace: workspace, store: store, host: try HostConfig.load(workspace))
        let result = try Pruner(store: store, logs: workspace.logs).prune(retention: retention, now: context.now(), dryRun: dryRun)
        if output.json {
            context.console.out(try renderJSON(result))
            return 0
        }
        if result.jobs == 0 && result.strayLogs == 0 {
            context.console.out("Nothing to prune: every runbook's history is within its retention.")
            return 0
        }
        for (runbook, count) in result.byRunbook.sorted(by: { $0.key < $1.key }) {
            context.console.out("\(runbook): \(dryRun ? "would delete" : "deleted") \(count) job\(count == 1 ? "" : "s") (history = \(retention(runbook)))")
        }
        if dryRun {
            context.console.out("\(result.jobs) job(s) would be deleted; run `runbook prune` to delete them.")
        } else {
            context.console.out("Deleted \(result.jobs) job record(s) and \(result.logs) log(s); \(result.strayLogs) log(s) without a record; \(result.slots) old slot claim(s).")
        }
        return 0
    }
}
