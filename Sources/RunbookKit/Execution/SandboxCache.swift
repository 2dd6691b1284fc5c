import FoundationEssentials
import Glibc

/// What `HostSandbox` finds about this machine, kept between commands in
/// the state directory's cache: finding it (the namespace kinds, reading
/// and parsing /proc/self/mountinfo, preparing the cgroup directories) was
/// a twentieth of `runbook run`'s own time, for answers that rarely change.
///
/// An entry holds for one key: the boot, the effective uid, the mount
/// namespace and this process's cgroups (`/proc/self/cgroup`), which are
/// everything the answers depend on but the state of the cgroup file
/// systems. That state is checked at every use, cheaply:
/// - the kernel's features cannot change until it reboots;
/// - a cgroup layout is kept only when it has everything runbook uses (a
///   v2 cgroup, and memory and pids controllers), so a later mount can
///   add nothing to it and no weaker sandbox is ever remembered;
/// - each remembered cgroup directory must still be there and writable, and
///   the v2 one must still give its children the same controllers;
///   otherwise the layout is found afresh and the entry replaced.
/// `runbook doctor` never reads it: it probes everything for real.
struct SandboxCache: Sendable {
    /// The cache file (`.runbook/cache/sandbox`).
    let path: String
    /// Identifies what the entry depends on; nil when it cannot be known
    /// (no /proc), and nothing is then remembered.
    let key: String?

    init(path: String, key: String? = SandboxCache.currentKey()) {
        self.path = path
        self.key = key
    }

    /// The facts: from the cache where its entry holds, else found now
    /// (and remembered for the next command).
    func facts() -> (kernel: KernelFeatures, cgroups: CgroupLayout) {
        let entry = load()
        if let entry, let cgroups = entry.cgroups, Self.stillUsable(cgroups) { return (entry.kernel, cgroups) }
        let kernel = entry?.kernel ?? KernelFeatures.probe()
        let cgroups = CgroupLayout.detect()
        // Written only when the next command can use more of it than is there.
        if entry == nil || Self.isComplete(cgroups) { store(kernel: kernel, cgroups: cgroups) }
        return (kernel, cgroups)
    }

    /// The entry for this key, if the file has one; its layout is nil when
    /// none was remembered.
    func load() -> (kernel: KernelFeatures, cgroups: CgroupLayout?)? {
        guard let key, let text = readSmallFile(path) else { return nil }
        let lines = text.split(separator: "\n")
        guard lines.count >= 2, lines[0] == Self.header, lines[1] == "key \(key)" else { return nil }
        var kernel = KernelFeatures()
        var cgroups = CgroupLayout()
        var hasCgroups = false
        for line in lines.dropFirst(2) {
            let name = line.prefix { $0 != " " }
            let rest = String(line.dropFirst(name.count + 1))
            let words = rest.split(separator: " ").map(String.init)
            switch name {
            case "namespaces": kernel.namespaces = Set(words)
            case "recursive-read-only": kernel.recursiveReadOnly = rest == "1"
            case "seccomp": kernel.seccomp = rest == "1"
            case "v2" where !rest.isEmpty:
                cgroups.v2 = rest
                hasCgroups = true
            case "v2-controllers": cgroups.v2Controllers = Set(words)
            case "v1" where words.count >= 2: cgroups.v1[words[0]] = String(rest.dropFirst(words[0].count + 1))
            default: return nil
            }
        }
        return (kernel, hasCgroups ? cgroups : nil)
    }

    /// Remembers `kernel`, and `cgroups` when it is complete; a file that
    /// cannot be written is no error (the next command finds it all again).
    func store(kernel: KernelFeatures, cgroups: CgroupLayout) {
        guard let key else { return }
        var lines = [Self.header, "key \(key)",
                     (["namespaces"] + kernel.namespaces.sorted()).joined(separator: " "),
                     "recursive-read-only \(kernel.recursiveReadOnly ? 1 : 0)", "seccomp \(kernel.seccomp ? 1 : 0)"]
        if Self.isComplete(cgroups), let v2 = cgroups.v2 {
            lines.append("v2 \(v2)")
            lines.append((["v2-controllers"] + cgroups.v2Controllers.sorted()).joined(separator: " "))
            for (controller, base) in cgroups.v1.sorted(by: { $0.key < $1.key }) { lines.append("v1 \(controller) \(base)") }
        }
        try? AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: URL(fileURLWithPath: path), mode: 0o600)
    }

    /// Everything runbook uses: a v2 cgroup (for cgroup.kill and CPU time)
    /// and a memory and a pids controller, v1 or v2.
    static func isComplete(_ cgroups: CgroupLayout) -> Bool {
        cgroups.v2 != nil
            && (cgroups.v1["memory"] != nil || cgroups.v2Controllers.contains("memory"))
            && (cgroups.v1["pids"] != nil || cgroups.v2Controllers.contains("pids"))
    }

    /// Whether a remembered layout still works: every directory is there
    /// and writable, and the v2 one gives its children the same controllers.
    static func stillUsable(_ cgroups: CgroupLayout) -> Bool {
        guard isComplete(cgroups), let v2 = cgroups.v2 else { return false }
        for base in [v2] + cgroups.v1.values where access(base, W_OK) != 0 { return false }
        let enabled = readSmallFile(v2 + "/cgroup.subtree_control") ?? ""
        return Set(enabled.split(whereSeparator: \.isWhitespace).map(String.init)) == cgroups.v2Controllers
    }

    static let header = "runbook sandbox cache 1"

    /// This process's key: boot id, effective uid, mount namespace and
    /// cgroups, hashed.
    static func currentKey() -> String? {
        guard let membership = readSmallFile("/proc/self/cgroup"), !membership.isEmpty,
              let mountNamespace = readLink("/proc/self/ns/mnt") else { return nil }
        return SHA256.hex(of: "\(ProcessIdentity.bootID)\n\(geteuid())\n\(mountNamespace)\n\(membership)".utf8)
    }
}
