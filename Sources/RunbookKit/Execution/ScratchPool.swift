import FoundationEssentials
import Glibc

/// Jobs' scratch directories (`HOME`, `TMPDIR`, working directory), reused
/// from job to job instead of made and removed for each.
///
/// Why: a new inode is not cheap everywhere. On ext4 without a journal,
/// every directory or file created scans past the inodes deleted in the
/// last seconds to minutes (`recently_deleted`), so a host that made and
/// removed three directories per job spent most of its own CPU time in
/// `mkdir` (measured: 0.6-1.6 ms each on this machine, growing with the
/// job rate), and `runbook run` over a millisecond.
///
/// A job's directory is still `scratch/JOB` while it runs. When it ends,
/// everything the job put in it is removed, `home` and `tmp` are left
/// empty with mode 0700, and the directory is renamed `idle-JOB`; the next
/// job, in this process or another, renames an idle one to its own name
/// (rename is atomic: two processes never get the same one) and checks it
/// is empty before use. So what a job sees does not change: `HOME` and
/// `TMPDIR` are empty, private to it while it runs, and gone from its path
/// when it ends. A directory that cannot be emptied entirely is removed
/// instead, never reused. There are never more idle directories than jobs
/// that once ran at the same time.
struct ScratchPool: Sendable {
    /// The state's `scratch/`.
    let directory: URL

    /// `scratch/JOB` for `job`: an idle directory renamed to it (emptied,
    /// with `home` and `tmp`), or a name nothing exists at yet, for the
    /// caller to create.
    func take(for job: JobID) -> URL {
        let scratch = directory.appendingPathComponent(String(job.rawValue))
        guard let stream = opendir(directory.path) else { return scratch }
        var idle: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("idle-") { idle.append(name) }
        }
        closedir(stream)
        for name in idle where rename(directory.path + "/" + name, scratch.path) == 0 {
            if Self.empty(scratch) { return scratch }
            try? FileManager.default.removeItem(at: scratch)
            break
        }
        return scratch
    }

    /// Takes a job's directory back: emptied and renamed `idle-JOB` for a
    /// later job, or removed if it cannot be emptied entirely.
    func giveBack(_ scratch: URL) {
        let idle = directory.appendingPathComponent("idle-" + scratch.lastPathComponent)
        if Self.empty(scratch), rename(scratch.path, idle.path) == 0 { return }
        try? FileManager.default.removeItem(at: scratch)
    }

    /// Empties `scratch` but for its `home` and `tmp` directories (emptied
    /// too, mode 0700 again); false if anything is left or either is
    /// missing or not a directory (a symbolic link the job made, say).
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
