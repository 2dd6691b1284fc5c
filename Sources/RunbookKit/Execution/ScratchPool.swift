import Foundation
import Glibc
import Synchronization

/// Scratch directories (`HOME`, `TMPDIR`, working directory) that a
/// long-running process reuses from job to job instead of making and
/// removing three directories for each.
///
/// Why: a new inode is not cheap everywhere. On ext4 without a journal,
/// every directory or file created scans past the inodes deleted in the
/// last seconds to minutes (`recently_deleted`), so a host that made and
/// removed three directories per job spent most of its own CPU time in
/// `mkdir` (measured: 0.6-1.6 ms each on this machine, growing with the
/// job rate). The host hands each job an empty directory from the pool;
/// after the job, everything the job put there is removed and the empty
/// directory goes back. What the job sees does not change: `HOME` and
/// `TMPDIR` are empty, private to the job while it runs, and emptied when
/// it ends. The pool's directories are removed when the host stops; those
/// of a host that died are removed by the next one.
///
/// Names are `host-PID-N` under the state's `scratch/`, so that several
/// processes on one state never share one, and `runbook run`'s own
/// `scratch/JOB` directories are untouched.
public final class ScratchPool: Sendable {
    private let directory: URL
    private let prefix: String
    private struct State {
        var free: [URL] = []
        var made = 0
    }
    private let state = Mutex(State())

    /// A pool under `directory` (the state's `scratch/`); removes the pools
    /// of processes that no longer run.
    public init(directory: URL) {
        self.directory = directory
        prefix = "host-\(getpid())-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasPrefix("host-") {
            let parts = name.split(separator: "-")
            guard parts.count == 3, let pid = pid_t(parts[1]), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// An empty scratch directory for one job: a free one whose `home` and
    /// `tmp` exist (and are empty), or a new name that the caller creates.
    func take() -> URL {
        state.withLock { state in
            if let reused = state.free.popLast() { return reused }
            state.made += 1
            return directory.appendingPathComponent(prefix + String(state.made))
        }
    }

    /// Takes a job's directory back: everything in it but the empty `home`
    /// and `tmp` is removed, and their mode reset. A directory that cannot
    /// be emptied entirely is removed instead, never reused.
    func giveBack(_ scratch: URL) {
        if Self.empty(scratch) {
            state.withLock { $0.free.append(scratch) }
        } else {
            try? FileManager.default.removeItem(at: scratch)
        }
    }

    /// Removes every directory of the pool (when the host stops).
    public func removeAll() {
        let names = state.withLock { state -> [URL] in
            defer { state.free = [] }
            return state.free
        }
        for scratch in names { try? FileManager.default.removeItem(at: scratch) }
    }

    /// Empties `scratch` but for its `home` and `tmp` directories (emptied
    /// too, mode 0700 again); false if anything is left or either is missing.
    private static func empty(_ scratch: URL) -> Bool {
        for kept in ["home", "tmp"] {
            let path = scratch.path + "/" + kept
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return false }
            if info.st_mode & 0o7777 != 0o700, chmod(path, 0o700) != 0 { return false }
            guard removeEntries(of: path, keeping: []) else { return false }
        }
        return removeEntries(of: scratch.path, keeping: ["home", "tmp"])
    }

    /// Removes everything in `path` except the names in `keeping`; true when
    /// nothing else is left. Reading the directory is all it costs when the
    /// job left nothing.
    private static func removeEntries(of path: String, keeping: Set<String>) -> Bool {
        guard let stream = opendir(path) else { return false }
        var doomed: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." || keeping.contains(name) { continue }
            doomed.append(path + "/" + name)
        }
        closedir(stream)
        var clean = true
        for entry in doomed {
            do { try FileManager.default.removeItem(atPath: entry) } catch { clean = false }
        }
        return clean
    }
}
