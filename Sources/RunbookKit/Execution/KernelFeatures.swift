import CRunbookSpawn
import Glibc

/// What this kernel offers the sandbox: the kinds of namespace it has,
/// whether it can make a whole tree read-only at once, seccomp filters.
/// None of it can change until the machine reboots (`SandboxCache`).
struct KernelFeatures: Sendable, Equatable {
    /// Namespace kinds by their name in `/proc/self/ns` (`mnt`, `pid`, `ipc`,
    /// `uts`, `net`, `cgroup`, `user`).
    var namespaces: Set<String> = []
    /// `mount_setattr(AT_RECURSIVE)`: Linux 5.12.
    var recursiveReadOnly = false
    var seccomp = false

    /// The namespace kinds the sandbox uses.
    static let namespaceKinds = ["mnt", "pid", "ipc", "uts", "net", "cgroup", "user"]

    /// Asks this kernel.
    static func probe() -> KernelFeatures {
        var features = KernelFeatures()
        features.namespaces = Set(namespaceKinds.filter { access("/proc/self/ns/\($0)", F_OK) == 0 })
        features.recursiveReadOnly = kernelAtLeast(5, 12)
        features.seccomp = rb_seccomp_supported() != 0 && access("/proc/sys/kernel/seccomp/actions_avail", F_OK) == 0
        return features
    }

    static func kernelAtLeast(_ major: Int, _ minor: Int) -> Bool {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard numbers.count == 2 else { return false }
        return (numbers[0], numbers[1]) >= (major, minor)
    }
}
