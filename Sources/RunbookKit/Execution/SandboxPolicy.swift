import CRunbookSpawn
import FoundationEssentials
import Glibc

/// How one job is confined: which namespaces, the ordered mount plan that
/// builds its view of the file system, who it runs as, and which limits
/// rlimits enforce (the rest are cgroups, see `JobCgroup`). A pure value,
/// built from the host's facts, the job's limits and its paths; the C spawn
/// target executes it step by step.
///
/// The job's view:
/// - everything read-only (recursively, submounts included), nosuid;
/// - a fresh tmpfs on `/tmp` and `/dev/shm`;
/// - the repository, the state directory and `/root` replaced by empty
///   read-only tmpfs (the credentials file by `/dev/null` should it lie
///   elsewhere): so the credentials, the database, logs, snapshots, other
///   jobs' scratch and other runbooks' data are gone;
/// - then, at their usual paths inside those, what the job needs: its
///   scratch directory and `RUNBOOK_DATA` (writable), the file it runs and
///   runbook-init (read-only), and an interpreter installed under a hidden
///   directory (pyenv in /root) read-only;
/// - a fresh `/proc` for its PID namespace.
public struct SandboxPolicy: Sendable, Equatable {
    public enum MountStep: Sendable, Equatable {
        case makePrivate(String)
        case clone(slot: Int, String)
        case readOnly(String)
        case tmpfs(String, options: String)
        case hideFile(String)
        case makeDirectory(String)
        case makeFile(String)
        case seal(String)
        case attach(slot: Int, String, writable: Bool)
        case proc(String)
    }

    /// CLONE_NEW* flags for the clone.
    public var namespaces: Int32 = 0
    public var cgroupNamespace = false
    public var uidMap: String?
    public var gidMap: String?
    public var mounts: [MountStep] = []
    public var noNewPrivileges = false
    public var seccomp = false
    /// uid and gid to drop to (root host).
    public var user: HostSandbox.JobUser?
    /// `RESOURCE`, `SOFT[:HARD]` pairs for runbook-init's `-l`.
    public var rlimits: [(String, String)] = []
    /// What is not enforced for this job that its settings ask for.
    public var gaps: [String] = []

    public static func == (lhs: SandboxPolicy, rhs: SandboxPolicy) -> Bool {
        lhs.namespaces == rhs.namespaces && lhs.cgroupNamespace == rhs.cgroupNamespace && lhs.uidMap == rhs.uidMap
            && lhs.gidMap == rhs.gidMap && lhs.mounts == rhs.mounts && lhs.noNewPrivileges == rhs.noNewPrivileges
            && lhs.seccomp == rhs.seccomp && lhs.user == rhs.user && lhs.gaps == rhs.gaps
            && lhs.rlimits.map { "\($0.0)=\($0.1)" } == rhs.rlimits.map { "\($0.0)=\($0.1)" }
    }

    /// The paths a job's view is built from.
    public struct Paths: Sendable {
        public var state: String
        public var credentials: String
        /// The repository (runbooks, schedules, credentials, runbook.conf):
        /// hidden whole, as jobs run snapshots and need none of it.
        public var root: String?
        public var scratch: String
        public var data: String
        /// The program, its arguments that are files, and runbook-init.
        public var programs: [String]

        public init(state: String, credentials: String, scratch: String, data: String, programs: [String], root: String? = nil) {
            self.root = root
            self.state = state
            self.credentials = credentials
            self.scratch = scratch
            self.data = data
            self.programs = programs
        }
    }

    /// Builds the policy.
    /// - Parameters:
    ///   - cgroupMemory, cgroupProcesses: whether cgroups enforce those
    ///     limits (else rlimits stand in).
    ///   - exists: whether a path exists (injected for tests).
    public init(host: HostSandbox, limits: JobLimits, paths: Paths, cgroupMemory: Bool, cgroupProcesses: Bool,
                exists: (String) -> Bool = { access($0, F_OK) == 0 }) {
        rlimits = Self.rlimits(limits, root: host.uid == 0, cgroupMemory: cgroupMemory, cgroupProcesses: cgroupProcesses)
        if limits.memory != nil && !cgroupMemory { gaps.append("memory: no memory cgroup, RLIMIT_DATA stands in") }
        if limits.processes != nil && !cgroupProcesses {
            gaps.append(host.uid == 0 ? "processes: no pids cgroup (RLIMIT_NPROC does nothing for root)"
                                      : "processes: no pids cgroup, RLIMIT_NPROC (counts all of the user's processes) stands in")
        }
        guard host.enabled else { return }
        if !limits.network && !host.networkNamespace { gaps.append("network off: no network namespace here") }
        guard host.namespaces else {
            gaps.append("file system: no mount namespace, the job sees the host as its user does")
            return
        }
        namespaces = Int32(RB_NEW_MOUNT | RB_NEW_PID | RB_NEW_IPC | RB_NEW_UTS)
        if !limits.network && host.networkNamespace { namespaces |= Int32(RB_NEW_NET) }
        if host.needsUserNamespace {
            namespaces |= Int32(RB_NEW_USER)
            uidMap = "\(host.uid) \(host.uid) 1"
            gidMap = "\(host.gid) \(host.gid) 1"
        }
        cgroupNamespace = host.cgroupNamespace
        noNewPrivileges = true
        seccomp = host.seccomp
        user = host.jobUser
        mounts = Self.mountPlan(paths: paths, readOnlyRoot: host.recursiveReadOnly, exists: exists)
        if !host.recursiveReadOnly { gaps.append("read-only root: unavailable, the host's file system stays writable by the job's user") }
    }

    /// The rlimits: always no core dumps; CPU time (SIGXCPU, SIGKILL two
    /// seconds later); file size; open files; and the stand-ins for the
    /// cgroup limits the host lacks.
    static func rlimits(_ limits: JobLimits, root: Bool, cgroupMemory: Bool, cgroupProcesses: Bool) -> [(String, String)] {
        var result: [(String, String)] = [("CORE", "0")]
        if let cpu = limits.cpu { result.append(("CPU", "\(cpu):\(cpu + 2)")) }
        if let size = limits.fileSize { result.append(("FSIZE", "\(size)")) }
        if let files = limits.openFiles { result.append(("NOFILE", "\(files)")) }
        if let memory = limits.memory, !cgroupMemory { result.append(("DATA", "\(memory)")) }
        if let processes = limits.processes, !cgroupProcesses, !root { result.append(("NPROC", "\(processes)")) }
        return result
    }

    /// The mount plan; see the type's comment for the view it builds. The
    /// order matters: clones are taken before anything is hidden; the root
    /// turns read-only before the tmpfs go on (so they stay writable long
    /// enough to hold mount points); the hiding tmpfs are sealed read-only
    /// before the clones are attached inside them.
    static func mountPlan(paths: Paths, readOnlyRoot: Bool, exists: (String) -> Bool) -> [MountStep] {
        let scratchTmp = ["/tmp", "/dev/shm"]
        var hidden = ([paths.state, "/root"] + (paths.root.map { $0 == "/" ? [] : [$0] } ?? [])).filter { exists($0) }
        hidden = hidden.filter { path in !(hidden + scratchTmp).contains { $0 != path && isInside(path, $0) } }
        let covers = scratchTmp + hidden
        func isHidden(_ path: String) -> Bool { covers.contains { isInside(path, $0) } }

        var exposures: [(path: String, writable: Bool, directory: Bool)] = [
            (paths.scratch, true, true), (paths.data, true, true),
        ]
        for (index, program) in paths.programs.enumerated() where program.hasPrefix("/") && isHidden(program) {
            // An interpreter under a hidden directory (pyenv in /root): its
            // whole installation, `PREFIX/bin/python3` → `PREFIX`.
            let url = URL(fileURLWithPath: program)
            if index == 0 && url.deletingLastPathComponent().lastPathComponent == "bin" {
                exposures.append((url.deletingLastPathComponent().deletingLastPathComponent().path, false, true))
            } else {
                exposures.append((program, false, false))
            }
        }
        var seen: Set<String> = []
        exposures = exposures.filter { exists($0.path) && seen.insert($0.path).inserted }
        exposures = exposures.filter { item in
            !exposures.contains { other in other.path != item.path && other.directory && isInside(item.path, other.path) && other.writable == item.writable }
        }

        var steps: [MountStep] = [.makePrivate("/")]
        for (slot, item) in exposures.enumerated() { steps.append(.clone(slot: slot, item.path)) }
        if readOnlyRoot { steps.append(.readOnly("/")) }
        steps.append(.tmpfs("/tmp", options: "mode=1777"))
        if exists("/dev/shm") { steps.append(.tmpfs("/dev/shm", options: "mode=1777")) }
        for directory in hidden.sorted() { steps.append(.tmpfs(directory, options: "mode=0755,size=1m")) }
        if exists(paths.credentials) && !isHidden(paths.credentials) { steps.append(.hideFile(paths.credentials)) }
        // Mount points for the exposures, inside the tmpfs that covers each.
        var made: Set<String> = []
        for item in exposures {
            guard let cover = covers.filter({ isInside(item.path, $0) }).max(by: { $0.count < $1.count }) else { continue }
            var current = cover
            let rest = item.path.dropFirst(cover.count).split(separator: "/")
            for (index, component) in rest.enumerated() {
                current += "/" + component
                guard made.insert(current).inserted else { continue }
                let last = index == rest.count - 1
                steps.append(last && !item.directory ? .makeFile(current) : .makeDirectory(current))
            }
        }
        for directory in hidden.sorted() { steps.append(.seal(directory)) }
        for (slot, item) in exposures.enumerated() { steps.append(.attach(slot: slot, item.path, writable: item.writable)) }
        steps.append(.proc("/proc"))
        return steps
    }

    /// One line per aspect of the confinement, for `runbook show`.
    public var summary: [String] {
        guard namespaces != 0 else { return ["not confined: supervision and rlimits only"] + gaps }
        var lines: [String] = []
        var kinds = ["mount", "pid", "ipc", "uts"]
        if namespaces & Int32(RB_NEW_NET) != 0 { kinds.append("net (no network)") }
        if namespaces & Int32(RB_NEW_USER) != 0 { kinds.append("user") }
        if cgroupNamespace { kinds.append("cgroup") }
        lines.append("namespaces: " + kinds.joined(separator: ", "))
        if mounts.contains(.readOnly("/")) {
            lines.append("file system: read-only; writable: scratch (HOME, TMPDIR), RUNBOOK_DATA, /tmp")
        }
        lines.append("hidden: the repository (credentials included), state directory, /root, other runbooks' data")
        lines.append("runs as: " + (user.map { "\($0.name) (uid \($0.uid))" } ?? "runbook's own user"))
        lines.append("no-new-privs" + (seccomp ? ", seccomp deny-list" : ""))
        return lines + gaps.map { "not enforced: \($0)" }
    }

    /// `path` is `directory` or below it.
    static func isInside(_ path: String, _ directory: String) -> Bool {
        path == directory || path.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/")
    }
}
