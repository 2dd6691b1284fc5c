import Dispatch
import Foundation
import Glibc

struct ServeCommand: Command {
    static let name = "serve"
    static let summary = "the host: fire schedules until stopped"
    static let usage = "runbook serve [--max-concurrent N] [--grace DURATION]"
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

        SIGTERM or SIGINT: no more slots fire; running jobs get the grace
        period, then are stopped and recorded cancelled. Events are written to
        stderr, one line each. Under systemd (NOTIFY_SOCKET) it sends READY,
        STOPPING and WATCHDOG notifications; see contrib/runbook.service.

        Options:
          --max-concurrent N   jobs running at once (default: cores x 4)
          --grace DURATION     time running jobs get after SIGTERM (default 30s)

        Examples:
          runbook serve
          runbook serve --max-concurrent 4 --grace 2m
        """

    var options = HostOptions()

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        if let count = try scanner.integer("--max-concurrent", minimum: 1) { options.maxConcurrent = count }
        if let grace = try scanner.value("--grace") {
            do { options.grace = try DurationText.seconds(grace) } catch { throw UsageError("--grace: \(error.message)") }
        }
        try scanner.noPositionals(command: "serve")
    }

    func run(_ context: Context) throws -> Int32 {
        let console = context.console
        let log: @Sendable (String) -> Void = { console.writeErr("\(Timestamp.utc(Date())) runbook[\(getpid())]: \($0)\n") }
        let host = Host(workspace: try context.workspace(), store: try context.store(), runner: try context.runner(),
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
