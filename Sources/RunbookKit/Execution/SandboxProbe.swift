import CRunbookSpawn
import FoundationEssentials
import Glibc

/// `runbook doctor`'s findings: each sandbox mechanism tried for real on
/// this machine, as this user, and what jobs are therefore guaranteed.
public struct SandboxReport: Sendable, Encodable {
    public struct Mechanism: Sendable, Encodable {
        public var name: String
        public var active: Bool
        /// What it does when active; why not when unavailable.
        public var detail: String
    }

    public var user: String
    public var mechanisms: [Mechanism]
    public var guarantees: [String]
    public var gaps: [String]

    /// Tries every mechanism by starting `/bin/true` with it alone.
    public static func probe(host: HostSandbox, config: HostConfig) -> SandboxReport {
        var mechanisms: [Mechanism] = []
        let root = host.uid == 0
        let name = getpwuid(host.uid).map { String(cString: $0.pointee.pw_name) } ?? String(host.uid)
        func add(_ name: String, _ active: Bool, _ detail: String) {
            mechanisms.append(Mechanism(name: name, active: active, detail: detail))
        }
        func base() -> SandboxPolicy {
            var policy = SandboxPolicy.empty
            if !root {
                policy.namespaces = Int32(RB_NEW_USER)
                policy.uidMap = "\(host.uid) \(host.uid) 1"
                policy.gidMap = "\(host.gid) \(host.gid) 1"
            }
            return policy
        }
        let kinds: [(String, Int32)] = [
            ("mount", RB_NEW_MOUNT), ("pid", RB_NEW_PID), ("ipc", RB_NEW_IPC), ("uts", RB_NEW_UTS),
            ("network", RB_NEW_NET), ("cgroup", RB_NEW_CGROUP), ("user", RB_NEW_USER),
        ]
        var working: Set<String> = []
        for (kind, flag) in kinds {
            var policy = base()
            if flag == RB_NEW_CGROUP { policy.cgroupNamespace = true } else { policy.namespaces |= flag }
            if let failure = tryRun(policy) {
                add("\(kind) namespace", false, failure + (root ? "" : userNote))
            } else {
                working.insert(kind)
                add("\(kind) namespace", true, root ? "as root" : "inside a user namespace")
            }
        }
        var readOnly = base()
        readOnly.namespaces |= Int32(RB_NEW_MOUNT)
        readOnly.mounts = [.makePrivate("/"), .readOnly("/"), .tmpfs("/tmp", options: "mode=1777"), .hideFile("/etc/hostname")]
        if let failure = tryRun(readOnly) {
            add("read-only root", false, failure)
        } else {
            add("read-only root", true, "mount_setattr(AT_RECURSIVE): every mount read-only and nosuid; tmpfs and /dev/null over hidden paths")
        }
        for controller in ["memory", "pids", "cpuacct"] {
            let base = host.cgroups.v1[controller]
            if controller == "cpuacct", base == nil, host.cgroups.v2 != nil {
                add("cgroup v1 cpuacct", true, "not needed: a job's CPU time is read from its v2 cgroup (cpu.stat)")
                continue
            }
            add("cgroup v1 \(controller)", base != nil, base.map { "job cgroups under \($0)" }
                ?? "no writable v1 \(controller) hierarchy for this user")
        }
        if let v2 = host.cgroups.v2 {
            let controllers = host.cgroups.v2Controllers.sorted().joined(separator: ", ")
            add("cgroup v2", true, "job cgroups under \(v2)" + (controllers.isEmpty ? " (no resource controllers)" : " (controllers: \(controllers))"))
            let probe = v2 + "/doctor-\(getpid())"
            mkdir(probe, 0o755)
            let kill = access(probe + "/cgroup.kill", F_OK) == 0
            rmdir(probe)
            add("cgroup.kill", kill, kill ? "kills every process of a job at once, setsid escapees included" : "this kernel has no cgroup.kill (Linux 5.14)")
        } else {
            add("cgroup v2", false, "no writable unified hierarchy for this user")
            add("cgroup.kill", false, "needs a v2 cgroup")
        }
        var filter = base()
        filter.noNewPrivileges = true
        filter.seccomp = true
        if !host.seccomp {
            add("seccomp", false, host.unavailable["seccomp"] ?? "unavailable")
        } else if let failure = tryRun(filter) {
            add("seccomp", false, failure)
        } else {
            add("seccomp", true, "deny-list: mount, namespaces, modules, BPF, perf, keyrings, clock, reboot fail with EPERM")
        }
        add("no-new-privs", true, "setuid programs cannot raise a job's privileges")
        if let user = host.jobUser {
            var switching = base()
            switching.user = user
            if let failure = tryRun(switching) {
                add("uid switch", false, failure)
            } else {
                add("uid switch", true, "jobs run as \(user.name) (uid \(user.uid), gid \(user.gid)); runbook.conf user")
            }
        } else {
            add("uid switch", false, host.unavailable["user switch"] ?? "unavailable")
        }
        add("rlimits", true, "CPU time (RLIMIT_CPU), file size (RLIMIT_FSIZE), open files (RLIMIT_NOFILE), no core dumps"
            + (root ? "; RLIMIT_NPROC does nothing for root" : ""))

        let active = Dictionary(mechanisms.map { ($0.name, $0.active) }, uniquingKeysWith: { $1 })
        var guarantees: [String] = []
        var gaps: [String] = []
        func claim(_ holds: Bool, _ yes: String, _ no: String) { if holds { guarantees.append(yes) } else { gaps.append(no) } }
        let mounts = working.contains("mount") && host.namespaces
        claim(mounts && active["read-only root"] == true,
              "file system read-only except the job's scratch, RUNBOOK_DATA and /tmp; state dir, credentials, /root and other runbooks' data invisible",
              "jobs see the host's file system as their user does (no mount namespace or read-only root)")
        claim(working.contains("pid") && host.namespaces, "each job in its own PID namespace: it sees only its processes, and all die with its init",
              "no PID namespace: jobs see the host's processes; teardown uses the process group and subreaper")
        claim(active["cgroup v1 memory"] == true || host.cgroups.v2Controllers.contains("memory"),
              "memory limit by cgroup (swap included); an OOM kill is reported as limit-exceeded (memory)",
              "no memory cgroup: memory limits fall back to RLIMIT_DATA and an overrun is an ordinary failure")
        claim(active["cgroup v1 pids"] == true || host.cgroups.v2Controllers.contains("pids"),
              "process limit by the pids cgroup: fork bombs are contained",
              root ? "no pids cgroup: processes cannot be limited (RLIMIT_NPROC does nothing for root)"
                   : "no pids cgroup: processes limited by RLIMIT_NPROC, which counts all of this user's processes")
        claim(active["cgroup.kill"] == true || (working.contains("pid") && host.namespaces),
              "when a job ends, nothing it started is left running (" + (active["cgroup.kill"] == true ? "cgroup.kill, " : "") + "PID namespace, process group)",
              "teardown by process group and subreaper only: a setsid escapee that double-forks before its parent dies may survive")
        claim(working.contains("network") && host.namespaces, "network = off and dry runs get an empty network namespace",
              "network = off and dry runs are NOT cut off from the network here")
        claim(host.jobUser != nil && active["uid switch"] == true, "jobs run as \(host.jobUser?.name ?? "-"), not root",
              root ? "jobs run as root" : "jobs run as this user (\(name))")
        claim(active["seccomp"] == true, "seccomp deny-list and no-new-privs in every job", "no seccomp filter")
        return SandboxReport(user: "\(name) (uid \(host.uid))", mechanisms: mechanisms, guarantees: guarantees, gaps: gaps)
    }

    private static let userNote = " (an unprivileged host needs user namespaces)"

    /// Starts `/bin/true` under `policy`; nil if it ran and exited 0, else why not.
    static func tryRun(_ policy: SandboxPolicy) -> String? {
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(devNull) }
        let program = access("/bin/true", X_OK) == 0 ? "/bin/true" : "/usr/bin/true"
        do {
            let pid = try ProcessSpawner.spawn([program], environment: [:], directory: nil,
                                               descriptors: [devNull, devNull, devNull], sandbox: policy)
            var status: Int32 = 0
            while waitpid(pid.rawValue, &status, 0) < 0 && errno == EINTR {}
            return status == 0 ? nil : "the probe exited with status \(status)"
        } catch {
            return error.description.replacing("; `runbook doctor` shows what this machine grants", with: "")
        }
    }
}

extension SandboxPolicy {
    /// A policy that confines nothing, to build probes on.
    static var empty: SandboxPolicy {
        var host = HostSandbox.unconfined
        host.enabled = false
        let limits = JobLimits(settings: RunbookSettings(), host: HostConfig(), dryRun: false)
        var policy = SandboxPolicy(host: host, limits: limits,
                                   paths: Paths(state: "/", credentials: "/", scratch: "/", data: "/", programs: []),
                                   cgroupMemory: true, cgroupProcesses: true)
        policy.gaps = []
        policy.rlimits = []
        return policy
    }
}

/// Spawn-to-exit timings for `runbook-bench sandbox` (bench/sandbox.sh):
/// the sandbox's spawn path, measured from outside the library.
public enum SandboxBenchmark {
    /// Milliseconds from spawning `arguments` under `policy` (nil: no
    /// sandbox) to reaping it; with per-job cgroups made, joined and
    /// removed when `cgroups` is given.
    public static func spawnToExit(_ arguments: [String], policy: SandboxPolicy?, cgroups: CgroupLayout? = nil,
                                   limits: JobLimits? = nil) throws -> Double {
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(devNull) }
        let start = Supervisor.monotonicSeconds()
        var cgroup: JobCgroup?
        if let cgroups, let limits { cgroup = try JobCgroup(name: "bench-\(getpid())", layout: cgroups, limits: limits) }
        let pid = try ProcessSpawner.spawn(arguments, environment: [:], directory: nil, descriptors: [devNull, devNull, devNull],
                                           sandbox: policy, cgroupFiles: cgroup?.procFiles ?? [])
        var status: Int32 = 0
        while waitpid(pid.rawValue, &status, 0) < 0 && errno == EINTR {}
        cgroup?.remove()
        guard status == 0 else { throw RunError("\(arguments[0]) exited with status \(status) under the sandbox") }
        return (Supervisor.monotonicSeconds() - start) * 1000
    }

    /// The installed runbook-init (beside the running executable).
    public static func initPath() throws -> String {
        try ProcessSpawner.initPath(environment: ProcessInfo.processInfo.environment)
    }
}
