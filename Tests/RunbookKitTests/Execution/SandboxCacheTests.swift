import Foundation
import Testing
@testable import RunbookKit

/// The sandbox facts kept between commands: used while their key and the
/// cgroup directories hold, found afresh as soon as either does not.
@Suite("Sandbox cache")
struct SandboxCacheTests {
    /// A complete layout in fake cgroup directories: a v2 one whose
    /// children get `controllers`, and v1 memory and pids ones.
    final class FakeCgroups: @unchecked Sendable {
        // Invariant: used by one test at a time.
        let root = try! TemporaryRoot()
        var layout = CgroupLayout()

        init(controllers: String = "memory pids") throws {
            for name in ["v2", "memory", "pids"] {
                try FileManager.default.createDirectory(at: root.url.appendingPathComponent(name), withIntermediateDirectories: true)
            }
            try root.write("v2/cgroup.subtree_control", Data("\(controllers)\n".utf8))
            layout.v2 = root.url.appendingPathComponent("v2").path
            layout.v2Controllers = Set(controllers.split(separator: " ").map(String.init))
            layout.v1 = ["memory": root.url.appendingPathComponent("memory").path, "pids": root.url.appendingPathComponent("pids").path]
        }

        func cache(key: String = "boot-1") -> SandboxCache {
            SandboxCache(path: root.url.appendingPathComponent("sandbox").path, key: key)
        }
    }

    static let kernel = KernelFeatures(namespaces: ["mnt", "pid", "ipc", "uts", "net"], recursiveReadOnly: true, seccomp: true)

    @Test func remembersAndUsesACompleteLayout() throws {
        let fake = try FakeCgroups()
        fake.cache().store(kernel: Self.kernel, cgroups: fake.layout)
        let entry = try #require(fake.cache().load())
        #expect(entry.kernel == Self.kernel)
        #expect(entry.cgroups == fake.layout)
        let facts = fake.cache().facts()
        #expect(facts.kernel == Self.kernel && facts.cgroups == fake.layout)
    }

    @Test func anotherKeyFindsEverythingAfresh() throws {
        let fake = try FakeCgroups()
        fake.cache(key: "boot-1").store(kernel: Self.kernel, cgroups: fake.layout)
        #expect(fake.cache(key: "boot-2").load() == nil)
        #expect(fake.cache(key: "boot-2").facts().cgroups != fake.layout)
    }

    @Test(arguments: ["v1 removed", "v2 removed", "controllers changed"])
    func aLayoutThatStoppedWorkingIsFoundAfresh(change: String) throws {
        let fake = try FakeCgroups()
        fake.cache().store(kernel: Self.kernel, cgroups: fake.layout)
        #expect(SandboxCache.stillUsable(fake.layout))
        switch change {
        case "v1 removed": try FileManager.default.removeItem(atPath: try #require(fake.layout.v1["pids"]))
        case "v2 removed": try FileManager.default.removeItem(atPath: try #require(fake.layout.v2))
        default: try fake.root.write("v2/cgroup.subtree_control", Data("memory\n".utf8))
        }
        #expect(!SandboxCache.stillUsable(fake.layout))
        let facts = fake.cache().facts()
        #expect(facts.cgroups != fake.layout)
        #expect(facts.kernel == Self.kernel, "the kernel's features hold until it reboots")
    }

    @Test func anIncompleteLayoutIsNotRemembered() throws {
        let fake = try FakeCgroups(controllers: "memory")
        fake.layout.v1["pids"] = nil
        fake.cache().store(kernel: Self.kernel, cgroups: fake.layout)
        let entry = try #require(fake.cache().load())
        #expect(entry.kernel == Self.kernel)
        #expect(entry.cgroups == nil)
    }

    @Test(arguments: ["", "runbook sandbox cache 1\n", "runbook sandbox cache 1\nkey boot-1\nsomething else\n",
                      "runbook sandbox cache 0\nkey boot-1\nseccomp 1\n"])
    func aDamagedFileIsIgnored(text: String) throws {
        let fake = try FakeCgroups()
        try fake.root.write("sandbox", Data(text.utf8))
        #expect(fake.cache().load() == nil)
    }

    @Test func noKeyRemembersNothing() throws {
        let fake = try FakeCgroups()
        let cache = SandboxCache(path: fake.root.url.appendingPathComponent("sandbox").path, key: nil)
        cache.store(kernel: Self.kernel, cgroups: fake.layout)
        #expect(!FileManager.default.fileExists(atPath: cache.path))
    }

    @Test func theKeyIsThisProcesssAndStable() throws {
        let key = try #require(SandboxCache.currentKey())
        #expect(SandboxCache.currentKey() == key)
    }

    /// On this machine, as it is: the facts from the cache, written and then
    /// read back, are what a fresh look finds.
    @Test func cachedFactsAreTheFreshOnes() throws {
        let root = try TemporaryRoot()
        let cache = SandboxCache(path: root.url.appendingPathComponent("sandbox").path)
        let fresh = HostSandbox.detect(config: HostConfig())
        #expect(HostSandbox.detect(config: HostConfig(), cache: cache) == fresh)
        #expect(HostSandbox.detect(config: HostConfig(), cache: cache) == fresh)
    }
}
