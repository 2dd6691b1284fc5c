import FoundationEssentials
import Glibc

/// Finds jobs left `running` by a runbook process on this machine that no
/// longer exists (killed, crashed, machine rebooted) and marks them
/// `interrupted` with the reason, so the history never shows a dead job as
/// still running.
public enum OrphanSweep {
    /// - Returns: the jobs it marked.
    @discardableResult
    public static func run(store: any Store, hostName: String, now: Date) throws -> [JobID] {
        var marked: [JobID] = []
        for job in try store.unfinishedJobs(host: hostName) {
            guard let pid = job.ownerPID, !ProcessIdentity.isAlive(pid: pid, identity: job.ownerStart) else { continue }
            let reason = "interrupted: the runbook process (pid \(pid)) that ran it ended without recording a result"
            if try store.interruptJob(job.id, reason: reason, at: now) { marked.append(job.id) }
            // Its sandbox's cgroups, which the dead process could not remove.
            JobCgroup.removeLeftovers(owner: pid, job: job.id)
        }
        return marked
    }
}

/// Who a process is, beyond its pid: `BOOT_ID:START_TICKS`. A pid is reused
/// after its process dies and the clock may be stepped, but the pair of the
/// boot's id and the process's start time in ticks since boot is unique.
public enum ProcessIdentity {
    /// This process's identity (read once: it is recorded with every job).
    public static let current: String? = of(pid: Int(getpid()))

    /// The identity of a running process, nil if there is none with `pid`.
    public static func of(pid: Int) -> String? {
        guard let stat = readSmallFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return "\(bootID):\(fields[19])"
    }

    /// Whether the process that recorded `identity` as `pid` still runs.
    /// Without a recorded identity, any live process with that pid counts.
    static func isAlive(pid: Int, identity: String?) -> Bool {
        guard kill(pid_t(pid), 0) == 0 || errno == EPERM else { return false }
        guard let identity else { return true }
        return of(pid: pid) == identity
    }

    static let bootID: String = {
        readSmallFile("/proc/sys/kernel/random/boot_id")?.trimmingWhitespace() ?? "unknown-boot"
    }()
}
