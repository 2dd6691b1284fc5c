import FoundationEssentials
import Glibc

struct CancelCommand: Command {
    static let name = "cancel"
    static let summary = "stop a queued or running job"
    static let usage = "runbook cancel JOB [--wait DURATION]"
    static let help = """
        Stops job JOB (its number in `runbook jobs`). A queued job is recorded
        cancelled at once and never starts. A running job is stopped by the
        process that runs it (the host, or a `runbook run`): SIGTERM to the
        job, then SIGKILL to everything it started after the grace period;
        it is recorded cancelled, with who asked.

        On this machine the owner is told at once; a host on another machine
        sharing the database sees the request at its next heartbeat (5s).
        Waits until the job's record is final, at most --wait (default 1m).
        Exits 0 once the job is cancelled, 1 if it had already ended, 3 if it
        was still running when the wait ran out.

        Options:
          --wait DURATION   how long to wait for the job to stop (default 1m; 0 to not wait)

        Examples:
          runbook cancel 42
          runbook cancel 42 --wait 0
        """

    var target: String
    var wait = 60

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        if let text = try scanner.value("--wait") {
            do { wait = text == "0" ? 0 : try DurationText.seconds(text) } catch { throw UsageError("--wait: \(error.message)") }
        }
        target = try scanner.positionals().single("job id")
    }

    func run(_ context: Context) throws -> Int32 {
        guard let number = Int64(target.hasPrefix("#") ? String(target.dropFirst()) : target) else {
            throw UsageError("'\(target)' is not a job id: `runbook jobs` lists them")
        }
        let store = try context.store()
        let id = JobID(rawValue: number)
        guard let before = try store.job(id) else { throw RunError("no job #\(number): `runbook jobs` lists them") }
        guard !before.status.isFinal else {
            context.console.err("job #\(id) already ended: \(before.status.rawValue) (\(before.reason ?? ""))")
            return 1
        }
        let user = Provenance.currentUser(environment: context.environment)
        let reason = "cancelled by \(user) with runbook cancel"
        guard var job = try store.requestCancel(id, reason: reason, at: context.now()) else {
            throw RunError("job #\(id) vanished while it was cancelled")
        }
        if job.status == .running, job.host == context.hostName, let pid = job.ownerPID,
           ProcessIdentity.isAlive(pid: pid, identity: job.ownerStart) {
            kill(pid_t(pid), JobCancellation.requestSignal)
        } else if job.status == .running {
            context.console.err("runbook: job #\(id) runs on \(job.host); its host stops it at its next heartbeat")
        }
        let deadline = Date().addingTimeInterval(Double(wait))
        while !job.status.isFinal && Date() < deadline {
            usleep(50_000)
            job = try store.job(id) ?? job
        }
        guard job.status.isFinal else {
            context.console.err("job #\(id) is still stopping after \(DurationText.format(seconds: wait)); `runbook jobs` shows when it ends")
            return 3
        }
        context.console.out("job #\(id) \(job.status.rawValue): \(job.reason ?? "")")
        return job.status == .cancelled ? 0 : 1
    }
}
