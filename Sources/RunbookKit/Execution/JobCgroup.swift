import FoundationEssentials
import Glibc

/// Where this machine's cgroup hierarchies are, and which of them runbook
/// can use (found once per process, see `HostSandbox`).
public struct CgroupLayout: Sendable, Equatable {
    /// v1 hierarchies by controller (`memory`, `pids`, and `cpuacct` where
    /// there is no v2 cgroup to read CPU time from): the directory under
    /// which job cgroups go (this process's own cgroup there, plus
    /// `runbook`).
    public var v1: [String: String] = [:]
    /// The unified (v2) hierarchy's directory for job cgroups, if writable.
    public var v2: String?
    /// Controllers the v2 directory can give its children (`memory`, `pids`, `cpu`).
    public var v2Controllers: Set<String> = []

    /// Reads `/proc/self/mountinfo` and `/proc/self/cgroup`; keeps only the
    /// places this process may create directories in.
    ///
    /// A v2 cgroup counts CPU time in its `cpu.stat` whether or not the
    /// `cpu` controller is enabled, so with one, a v1 `cpuacct` cgroup
    /// would only cost each job another directory to make, join and remove.
    public static func detect() -> CgroupLayout {
        var layout = CgroupLayout()
        guard let mountinfo = readSmallFile("/proc/self/mountinfo"), let membership = readSmallFile("/proc/self/cgroup") else { return layout }
        var ownPath: [String: String] = [:]
        for line in membership.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0" { ownPath[""] = String(parts[2]) }
            for controller in parts[1].split(separator: ",") { ownPath[String(controller)] = String(parts[2]) }
        }
        // The mounts of each hierarchy, in order: the unified one ("") and
        // the v1 ones runbook uses, by controller.
        var mountPoints: [String: [String]] = [:]
        for line in mountinfo.split(separator: "\n") where line.contains("cgroup") {
            // `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPEROPTIONS`
            let words = line.split(separator: " ")
            guard let dash = words.firstIndex(of: "-"), dash >= 5, words.count >= dash + 4 else { continue }
            let mountPoint = String(words[4])
            if words[dash + 1] == "cgroup2" {
                mountPoints["", default: []].append(mountPoint)
            } else if words[dash + 1] == "cgroup" {
                let options = words[dash + 3].split(separator: ",")
                for controller in ["memory", "pids", "cpuacct"] where options.contains(Substring(controller)) {
                    mountPoints[controller, default: []].append(mountPoint)
                }
            }
        }
        /// The first mount of `hierarchy` under which job cgroups can be made.
        func base(_ hierarchy: String) -> String? {
            guard let own = ownPath[hierarchy] else { return nil }
            return mountPoints[hierarchy, default: []].lazy.map { $0 + (own == "/" ? "" : own) + "/runbook" }.first(where: prepare)
        }
        if let v2 = base("") {
            layout.v2 = v2
            let available = readSmallFile(v2 + "/cgroup.controllers") ?? ""
            let wanted = available.split(whereSeparator: \.isWhitespace).map(String.init).filter { ["memory", "pids", "cpu"].contains($0) }
            if !wanted.isEmpty {
                _ = writeFile(v2 + "/cgroup.subtree_control", wanted.map { "+\($0)" }.joined(separator: " "))
            }
            let enabled = readSmallFile(v2 + "/cgroup.subtree_control") ?? ""
            layout.v2Controllers = Set(enabled.split(whereSeparator: \.isWhitespace).map(String.init))
        }
        for controller in layout.v2 == nil ? ["memory", "pids", "cpuacct"] : ["memory", "pids"] {
            if let base = base(controller) { layout.v1[controller] = base }
        }
        return layout
    }

    /// Creates `directory` if needed; true if this process can make job cgroups in it.
    private static func prepare(_ directory: String) -> Bool {
        if mkdir(directory, 0o755) != 0 && errno != EEXIST { return false }
        return access(directory, W_OK) == 0
    }
}

/// One job's cgroups, made before the job starts and removed after it:
/// the v1 memory and pids controllers where they are writable, and a v2
/// cgroup for `cgroup.kill` and CPU time (and its controllers on a v2-only
/// host; v1 cpuacct where there is no v2). The spawn child joins them by
/// writing to `procFiles`.
final class JobCgroup {
    private(set) var directories: [String: String] = [:]   // "memory", "pids", "cpuacct", "v2"
    private(set) var procFiles: [Int32] = []
    private let v2Controllers: Set<String>
    /// `cgroup.kill` was written: nothing can be left in the cgroup to kill.
    private var killed = false

    /// Creates the cgroups named `name` and sets the limits.
    /// - Throws: `RunError` when a limit cannot be written (the job would run unlimited).
    init(name: String, layout: CgroupLayout, limits: JobLimits) throws {
        v2Controllers = layout.v2Controllers
        var made: [String: String] = [:]
        for (controller, base) in layout.v1 where mkdir(base + "/" + name, 0o755) == 0 || errno == EEXIST {
            made[controller] = base + "/" + name
        }
        if let base = layout.v2, mkdir(base + "/" + name, 0o755) == 0 || errno == EEXIST {
            made["v2"] = base + "/" + name
        }
        directories = made
        do {
            if let memory = limits.memory {
                if let directory = made["memory"] {
                    try Self.write(directory + "/memory.limit_in_bytes", String(memory))
                    // Swap counts too, where the kernel accounts it (the file
                    // exists): a hog must not page out the host.
                    try Self.write(directory + "/memory.memsw.limit_in_bytes", String(memory), ifPresent: true)
                } else if let directory = made["v2"], v2Controllers.contains("memory") {
                    try Self.write(directory + "/memory.max", String(memory))
                    _ = writeFile(directory + "/memory.swap.max", "0")
                }
            }
            if let processes = limits.processes {
                if let directory = made["pids"] {
                    try Self.write(directory + "/pids.max", String(processes))
                } else if let directory = made["v2"], v2Controllers.contains("pids") {
                    try Self.write(directory + "/pids.max", String(processes))
                }
            }
            for directory in made.values {
                let fd = open(directory + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
                guard fd >= 0 else { throw RunError("cannot open \(directory)/cgroup.procs: \(Errno.current)") }
                procFiles.append(fd)
            }
        } catch {
            remove()
            throw error
        }
    }

    deinit { closeProcFiles() }

    /// The cgroups' name for a job of the runbook process `owner`.
    static func name(owner: pid_t, job: JobID) -> String { "\(owner)-\(job.rawValue)" }

    /// Removes the (empty) cgroups of a job whose runbook process died
    /// before it could (see `OrphanSweep`); a cgroup that still holds
    /// processes cannot be removed and stays.
    static func removeLeftovers(owner: Int, job: JobID) {
        let layout = CgroupLayout.detect()
        let name = name(owner: pid_t(owner), job: job)
        for base in Array(layout.v1.values) + (layout.v2.map { [$0] } ?? []) { rmdir(base + "/" + name) }
    }

    /// Which limits are enforced by a cgroup (not an rlimit).
    var enforcesMemory: Bool { directories["memory"] != nil || (directories["v2"] != nil && v2Controllers.contains("memory")) }
    var enforcesProcesses: Bool { directories["pids"] != nil || (directories["v2"] != nil && v2Controllers.contains("pids")) }
    var canKill: Bool { directories["v2"].map { access($0 + "/cgroup.kill", F_OK) == 0 } ?? false }

    func closeProcFiles() {
        for fd in procFiles { close(fd) }
        procFiles = []
    }

    /// SIGKILL to every process in the cgroup (setsid escapees included), at once.
    @discardableResult
    func killAll() -> Bool {
        guard let directory = directories["v2"] else { return false }
        killed = writeFile(directory + "/cgroup.kill", "1")
        return killed
    }

    /// What the cgroups counted while the job ran.
    struct Usage: Sendable, Equatable {
        var peakMemoryKB: Int?
        var userMicroseconds: Int?
        var systemMicroseconds: Int?
        /// Processes the kernel OOM-killed for the memory limit.
        var oomKills = 0
        /// Forks refused at the process limit.
        var refusedForks = 0
    }

    func usage() -> Usage {
        var usage = Usage()
        if let directory = directories["memory"] {
            usage.peakMemoryKB = Self.number(directory + "/memory.max_usage_in_bytes").map { $0 / 1024 }
            usage.oomKills = Self.field("oom_kill", in: directory + "/memory.oom_control") ?? 0
        } else if let directory = directories["v2"], v2Controllers.contains("memory") {
            usage.peakMemoryKB = Self.number(directory + "/memory.peak").map { $0 / 1024 }
            usage.oomKills = Self.field("oom_kill", in: directory + "/memory.events") ?? 0
        }
        if let directory = directories["pids"] {
            usage.refusedForks = Self.field("max", in: directory + "/pids.events") ?? 0
        } else if let directory = directories["v2"], v2Controllers.contains("pids") {
            usage.refusedForks = Self.field("max", in: directory + "/pids.events") ?? 0
        }
        if let directory = directories["v2"] {
            let stat = Self.fields(in: directory + "/cpu.stat")
            usage.userMicroseconds = stat["user_usec"]
            usage.systemMicroseconds = stat["system_usec"]
        } else if let directory = directories["cpuacct"] {
            usage.userMicroseconds = Self.number(directory + "/cpuacct.usage_user").map { $0 / 1000 }
            usage.systemMicroseconds = Self.number(directory + "/cpuacct.usage_sys").map { $0 / 1000 }
        }
        return usage
    }

    /// Removes the cgroups; processes that are still dying get a moment
    /// (a cgroup with members cannot be removed).
    func remove() {
        closeProcFiles()
        if !killed { killAll() }
        for directory in directories.values {
            var tries = 0
            while rmdir(directory) != 0 && errno == EBUSY && tries < 200 {
                tries += 1
                usleep(5_000)
            }
        }
        directories = [:]
    }

    /// - Parameter ifPresent: a file the kernel does not have is no error.
    private static func write(_ path: String, _ value: String, ifPresent: Bool = false) throws {
        guard writeFile(path, value) || (ifPresent && errno == ENOENT) else {
            throw RunError("cannot set \(path) to \(value): \(Errno.current)")
        }
    }

    private static func number(_ path: String) -> Int? {
        guard let text = readSmallFile(path) else { return nil }
        return Int(text.trimmingWhitespace())
    }

    /// `NAME VALUE` lines (memory.oom_control, pids.events, cpu.stat).
    private static func field(_ name: String, in path: String) -> Int? {
        fields(in: path)[name]
    }

    private static func fields(in path: String) -> [String: Int] {
        var fields: [String: Int] = [:]
        for line in (readSmallFile(path) ?? "").split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, let value = Int(words[1]) { fields[String(words[0])] = value }
        }
        return fields
    }
}

/// Writes `value` to a (control) file without creating it; true on success.
@discardableResult
func writeFile(_ path: String, _ value: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let bytes = Array(value.utf8)
    return write(fd, bytes, bytes.count) == bytes.count
}

/// The text of a small file (/proc, cgroup control files) by plain reads:
/// Foundation's reader stats and buffers more than these need.
func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
        let count = read(fd, &chunk, chunk.count)
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { break }
        bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Where the symbolic link at `path` points, nil if it is none (or unreadable).
func readLink(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink(path, &buffer, buffer.count - 1)
    guard length > 0 else { return nil }
    return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
