import Foundation
import Glibc

/// Finds jobs left `running` by a runbook process on this machine that no
/// longer exists (killed, crashed, machine rebooted) and marks them
/// `interrupted` with the reason, so the history never shows a dead job as
/// still running.
public enum OrphanSweep {
    /// - Returns: the jobs it marked.
    @discardableResult
    public static func run(store: SQLiteStore, hostName: String, now: Date) throws -> [JobID] {
        var marked: [JobID] = []
        for job in try store.unfinishedJobs(host: hostName) {
            guard let pid = job.ownerPID, !isAlive(pid: pid, since: job.queuedAt) else { continue }
            let reason = "interrupted: the runbook process (pid \(pid)) that ran it ended without recording a result"
            if try store.interruptJob(job.id, reason: reason, at: now) { marked.append(job.id) }
        }
        return marked
    }

    /// Whether `pid` is alive and started before `since` (a newer process
    /// with a reused pid is not the owner).
    static func isAlive(pid: Int, since: Date) -> Bool {
        guard kill(pid_t(pid), 0) == 0 || errno == EPERM else { return false }
        guard let started = processStart(pid: pid) else { return true }
        return started <= since.addingTimeInterval(1)
    }

    /// When `pid` started, from /proc (field 22 of stat, in clock ticks since boot).
    static func processStart(pid: Int) -> Date? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]),
              let uptimeText = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
              let uptime = Double(uptimeText.split(separator: " ")[0]) else { return nil }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let bootTime = Date().addingTimeInterval(-uptime)
        return bootTime.addingTimeInterval(ticks / hertz)
    }
}
