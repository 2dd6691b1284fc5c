import Dispatch
import FoundationEssentials
import Glibc

struct ServeCommand: Command {
    static let name = "serve"
    static let summary = "the host: fire schedules until stopped"
    static let usage = "runbook serve [--max-concurrent N] [--ready-ahead MS] [--grace DURATION] [--lease DURATION] [--metrics FILE] [--report FILE [--report-since DURATION]]"
    static let help = """
        Runs the job service in the foreground: fires every enabled schedule of
        a published runbook at its instants, exactly once per slot (each slot
        is claimed in the store before its job starts, so a restart or a
        second host on the same state never fires it again), with the
        schedule's overlap, catch-up, jitter, retries and on-failure applied.

        Changes to schedules/ are picked up within 2 seconds; a schedule file
        that no longer parses is reported once and its last good version keeps
        firing; a deleted one stops. Published revisions are read when each
        job starts. Jobs left running by a host that died are marked
        interrupted at start, and catch-up covers the slots it missed.

        A scheduled job is readied a moment before its instant (250 ms by
        default): its slot is claimed and recorded, its sandbox and first
        process made, and held; at the instant only the runbook's own program
        starts. A job of a schedule that still has one running is readied at
        its instant instead, so its overlap policy and RUNBOOK_LAST_SUCCESS
        see the earlier one's end. `runbook jobs` shows a readied job as
        running, started at its instant; one cancelled before its instant
        never starts and has no start time. On SIGTERM, a readied job still
        starts at its instant and has the grace period.

        SIGTERM or SIGINT: no more slots fire; running jobs get the grace
        period, then are stopped and recorded cancelled. Events are written to
        stderr, one line each. Under systemd (NOTIFY_SOCKET) it sends READY,
        STOPPING and WATCHDOG notifications; see contrib/runbook.service.

        Job history is pruned by the `history` setting (runbook.conf or a
        runbook's header; default the newest 1000 jobs per runbook) at start
        and every 10 minutes, as `runbook prune` does. `runbook cancel` on
        this machine reaches the host at once (SIGUSR2), from elsewhere at
        its next heartbeat.

        Several hosts may share one PostgreSQL database (runbook --database URL
        serve, or RUNBOOK_DATABASE): every host fires every schedule and the
        database gives each slot to one of them. A host heartbeats; when one
        sends none for its lease, the others mark its running jobs interrupted
        (retrying them as their schedule says) and run its queued ones. If the
        database goes away, hosts stop claiming slots, keep their running jobs,
        and resume by themselves when it is back.

        Options:
          --max-concurrent N        jobs running at once (default: cores x 4)
          --ready-ahead MS          ready scheduled jobs this many milliseconds before
                                    their instant (default 250; 0: at the instant)
          --grace DURATION          time running jobs get after SIGTERM (default 30s)
          --lease DURATION          how long this host's jobs stay its own without a
                                    heartbeat (default 30s; it beats every third of it)
          --metrics FILE            keep a Prometheus textfile up to date (for
                                    node_exporter's textfile collector): at most
                                    once a second while jobs end
          --report FILE             keep an HTML report up to date (see `runbook
                                    report`): at most every 10 seconds while jobs end
          --report-since DURATION   the report's window (default 7d)

        Examples:
          runbook serve
          runbook serve --max-concurrent 4 --grace 2m
          runbook serve --metrics /var/lib/node_exporter/textfile/runbook.prom --report /var/www/runbook.html
        """

    var options = HostOptions()

    /// The host keeps its connection for as long as it runs.
    static let storeLifetime = StoreLifetime.service

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        if let count = try scanner.integer("--max-concurrent", minimum: 1) { options.maxConcurrent = count }
        if let milliseconds = try scanner.integer("--ready-ahead", minimum: 0) {
            guard milliseconds <= 60_000 else { throw UsageError("--ready-ahead: at most 60000 ms (a minute)") }
            options.readyAhead = Double(milliseconds) / 1000
        }
        if let grace = try scanner.value("--grace") {
            do { options.grace = try DurationText.seconds(grace) } catch { throw UsageError("--grace: \(error.message)") }
        }
        if let lease = try scanner.value("--lease") {
            do { options.lease = Double(try DurationText.seconds(lease)) } catch { throw UsageError("--lease: \(error.message)") }
            guard options.lease >= 3 else { throw UsageError("--lease: at least 3s (the host beats every third of it)") }
        }
        if let file = try scanner.value("--metrics") { options.metricsFile = URL(fileURLWithPath: file) }
        if let file = try scanner.value("--report") { options.reportFile = URL(fileURLWithPath: file) }
        if let window = try scanner.value("--report-since") {
            guard options.reportFile != nil else { throw UsageError("--report-since needs --report FILE") }
            do { options.reportWindow = try DurationText.seconds(window) } catch { throw UsageError("--report-since: \(error.message)") }
        }
        try scanner.noPositionals(command: "serve")
    }

    func run(_ context: Context) throws -> Int32 {
        let console = context.console
        let log: @Sendable (String) -> Void = { console.writeErr("\(Timestamp.utc(Date())) runbook[\(getpid())]: \($0)\n") }
        let runner = try context.runner()
        var options = self.options
        options.retention = Retention.resolver(workspace: try context.workspace(), store: try context.store(), host: runner.hostConfig)
        // Relative paths are taken from where `runbook serve` was started.
        options.metricsFile = options.metricsFile.map { URL(fileURLWithPath: $0.relativePath, relativeTo: context.currentDirectory).standardizedFileURL }
        options.reportFile = options.reportFile.map { URL(fileURLWithPath: $0.relativePath, relativeTo: context.currentDirectory).standardizedFileURL }
        let host = Host(workspace: try context.workspace(), store: try context.store(), runner: runner,
                        options: options, environment: context.environment, log: log, now: context.now)
        // Signals become calls to stop(); the sources live until the host ends.
        var sources: [any DispatchSourceSignal] = []
        for signal in [SIGTERM, SIGINT] {
            Glibc.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler { Task { await host.stop(signal: signal) } }
            source.resume()
            sources.append(source)
        }
        // `runbook cancel` on this machine says so at once.
        Glibc.signal(JobCancellation.requestSignal, SIG_IGN)
        let cancels = DispatchSource.makeSignalSource(signal: JobCancellation.requestSignal, queue: .global())
        cancels.setEventHandler { Task { await host.checkCancelRequests() } }
        cancels.resume()
        sources.append(cancels)
        defer { sources.forEach { $0.cancel() } }
        let outcome = BlockingOutcome()
        let task = Task {
            do { try await host.run(); outcome.set(nil) } catch { outcome.set(error) }
        }
        if let error = outcome.wait() { throw error }
        _ = task
        return 0
    }
}

/// Waits on the calling (main) thread for an async entry point that runs on
/// Swift's cooperative pool: the bridge from the synchronous CLI.
final class BlockingOutcome: @unchecked Sendable {
    // Invariant: `error` is written once, before `done` is signalled, and
    // read only after waiting on it.
    private let done = DispatchSemaphore(value: 0)
    private var error: (any Error)?

    func set(_ error: (any Error)?) {
        self.error = error
        done.signal()
    }

    func wait() -> (any Error)? {
        done.wait()
        return error
    }
}
