import CRunbookSpawn
import FoundationEssentials
import Glibc

/// What this machine grants runbook's sandbox, for this user: found from
/// cheap facts at start (the euid, `/proc`, sysctls, writable cgroup
/// directories; those that rarely change kept between commands by
/// `SandboxCache`); `runbook doctor` also tries each mechanism for real.
public struct HostSandbox: Sendable, Equatable {
    /// The sandbox is on at all (off in `unconfined`: a plain supervised job).
    public var enabled = true
    public var uid: uid_t
    public var gid: gid_t
    /// Mount, PID, IPC and UTS namespaces can be made (as root, or inside a
    /// user namespace).
    public var namespaces = false
    /// A user namespace is needed for them (runbook does not run as root).
    public var needsUserNamespace = false
    public var networkNamespace = false
    public var cgroupNamespace = false
    /// `mount_setattr(AT_RECURSIVE)`: the whole tree read-only, submounts included.
    public var recursiveReadOnly = false
    public var seccomp = false
    public var cgroups = CgroupLayout()
    /// The account jobs run as (root host only), with the reason when there is none.
    public var jobUser: JobUser?
    /// Why a mechanism is unavailable, by mechanism name (for `doctor`).
    public var unavailable: [String: String] = [:]

    public struct JobUser: Sendable, Equatable {
        public var name: String
        public var uid: uid_t
        public var gid: gid_t
    }

    /// No confinement: the job is supervised (process group, init, rlimits)
    /// but shares the host's view. Used by tests of supervision itself.
    public static let unconfined: HostSandbox = {
        var host = HostSandbox(uid: getuid(), gid: getgid())
        host.enabled = false
        return host
    }()

    init(uid: uid_t, gid: gid_t) {
        self.uid = uid
        self.gid = gid
    }

    /// The facts for this process, with `config.user` as the job user, all
    /// found afresh (`runbook doctor`, `runbook show`).
    public static func detect(config: HostConfig) -> HostSandbox {
        detect(config: config, kernel: KernelFeatures.probe(), cgroups: CgroupLayout.detect())
    }

    /// The facts for a command about to run a job: what cannot have changed
    /// since an earlier command on this machine comes from `cache`; the
    /// rest (the user namespace sysctls, the job user) is read now.
    static func detect(config: HostConfig, cache: SandboxCache) -> HostSandbox {
        let facts = cache.facts()
        return detect(config: config, kernel: facts.kernel, cgroups: facts.cgroups)
    }

    static func detect(config: HostConfig, kernel: KernelFeatures, cgroups: CgroupLayout) -> HostSandbox {
        var host = HostSandbox(uid: geteuid(), gid: getegid())
        let root = host.uid == 0
        let has = { (kind: String) in kernel.namespaces.contains(kind) }
        if root {
            host.namespaces = has("mnt") && has("pid") && has("ipc") && has("uts")
            if !host.namespaces { host.unavailable["namespaces"] = "the kernel has no mount/PID/IPC/UTS namespaces" }
        } else if let reason = userNamespaceProblem() {
            host.unavailable["namespaces"] = reason
        } else {
            host.needsUserNamespace = true
            host.namespaces = has("mnt") && has("pid") && has("ipc") && has("uts") && has("user")
        }
        host.networkNamespace = host.namespaces && has("net")
        host.cgroupNamespace = host.namespaces && has("cgroup")
        if !host.networkNamespace { host.unavailable["network namespace"] = host.unavailable["namespaces"] ?? "the kernel has no network namespaces" }
        host.recursiveReadOnly = host.namespaces && kernel.recursiveReadOnly
        if host.namespaces && !host.recursiveReadOnly {
            host.unavailable["read-only root"] = "mount_setattr needs Linux 5.12"
        }
        host.seccomp = kernel.seccomp
        if !host.seccomp { host.unavailable["seccomp"] = "the kernel or this architecture has no seccomp filter support" }
        host.cgroups = cgroups
        if root {
            if config.user == "root" || config.user == "0" {
                host.unavailable["user switch"] = "runbook.conf says user = root"
            } else if !host.namespaces {
                host.unavailable["user switch"] = "without a mount namespace the job user could not reach its private directories"
            } else if let user = lookUpUser(config.user) {
                host.jobUser = user
            } else {
                host.unavailable["user switch"] = "no account '\(config.user)' (runbook.conf user)"
            }
        } else {
            host.unavailable["user switch"] = "runbook does not run as root: jobs run as its own user"
        }
        return host
    }

    /// The account from /etc/passwd (read directly: loading the NSS modules
    /// behind getpwnam costs more than the rest of a job's set-up), else
    /// from getpwnam (LDAP and other directories).
    static func lookUpUser(_ name: String) -> JobUser? {
        for line in (readSmallFile("/etc/passwd") ?? "").split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 4, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { continue }
            if fields[0] == name || (UInt32(name) == uid) { return JobUser(name: String(fields[0]), uid: uid, gid: gid) }
        }
        if let number = UInt32(name) {
            guard let entry = getpwuid(number) else { return JobUser(name: name, uid: number, gid: number) }
            return JobUser(name: String(cString: entry.pointee.pw_name), uid: number, gid: entry.pointee.pw_gid)
        }
        guard let entry = getpwnam(name) else { return nil }
        return JobUser(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    /// Why an unprivileged user cannot make a user namespace here, if so.
    static func userNamespaceProblem() -> String? {
        func sysctl(_ path: String) -> Int? {
            readSmallFile(path).flatMap { Int($0.trimmingWhitespace()) }
        }
        if access("/proc/self/ns/user", F_OK) != 0 { return "the kernel has no user namespaces" }
        if sysctl("/proc/sys/user/max_user_namespaces") == 0 { return "user.max_user_namespaces is 0" }
        if sysctl("/proc/sys/kernel/unprivileged_userns_clone") == 0 { return "kernel.unprivileged_userns_clone is 0" }
        if sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1 {
            return "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)"
        }
        return nil
    }
}
