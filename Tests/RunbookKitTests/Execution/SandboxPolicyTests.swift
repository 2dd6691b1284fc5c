import CRunbookSpawn
import Foundation
import Testing
@testable import RunbookKit

/// The sandbox's plan, built from host facts without touching the host.
@Suite("Sandbox policy")
struct SandboxPolicyTests {
    static func rootHost() -> HostSandbox {
        var host = HostSandbox.unconfined
        host.enabled = true
        host.uid = 0
        host.gid = 0
        host.namespaces = true
        host.networkNamespace = true
        host.cgroupNamespace = true
        host.recursiveReadOnly = true
        host.seccomp = true
        host.jobUser = HostSandbox.JobUser(name: "nobody", uid: 65534, gid: 65534)
        return host
    }

    static func paths(state: String) -> SandboxPolicy.Paths {
        SandboxPolicy.Paths(state: state, credentials: state.replacingOccurrences(of: "/.runbook", with: "/credentials"),
                            scratch: state + "/scratch/7", data: state + "/data/backup",
                            programs: ["/usr/bin/bash", state + "/snapshots/ab/abcd", "/opt/runbook/runbook-init"])
    }

    static let limits = JobLimits(settings: RunbookSettings(), host: HostConfig(), dryRun: false)

    @Test func stateUnderTmpIsCoveredByTheTmpfs() {
        let policy = SandboxPolicy(host: Self.rootHost(), limits: Self.limits, paths: Self.paths(state: "/tmp/r/.runbook"),
                                   cgroupMemory: true, cgroupProcesses: true, exists: { _ in true })
        #expect(policy.mounts == [
            .makePrivate("/"),
            .clone(slot: 0, "/tmp/r/.runbook/scratch/7"),
            .clone(slot: 1, "/tmp/r/.runbook/data/backup"),
            .clone(slot: 2, "/tmp/r/.runbook/snapshots/ab/abcd"),
            .readOnly("/"),
            .tmpfs("/tmp", options: "mode=1777"),
            .tmpfs("/dev/shm", options: "mode=1777"),
            .tmpfs("/root", options: "mode=0755,size=1m"),
            .makeDirectory("/tmp/r"), .makeDirectory("/tmp/r/.runbook"), .makeDirectory("/tmp/r/.runbook/scratch"),
            .makeDirectory("/tmp/r/.runbook/scratch/7"),
            .makeDirectory("/tmp/r/.runbook/data"), .makeDirectory("/tmp/r/.runbook/data/backup"),
            .makeDirectory("/tmp/r/.runbook/snapshots"), .makeDirectory("/tmp/r/.runbook/snapshots/ab"),
            .makeFile("/tmp/r/.runbook/snapshots/ab/abcd"),
            .seal("/root"),
            .attach(slot: 0, "/tmp/r/.runbook/scratch/7", writable: true),
            .attach(slot: 1, "/tmp/r/.runbook/data/backup", writable: true),
            .attach(slot: 2, "/tmp/r/.runbook/snapshots/ab/abcd", writable: false),
            .proc("/proc"),
        ])
        #expect(policy.namespaces == Int32(RB_NEW_MOUNT | RB_NEW_PID | RB_NEW_IPC | RB_NEW_UTS))
        #expect(policy.user?.uid == 65534)
        #expect(policy.noNewPrivileges && policy.seccomp && policy.cgroupNamespace)
        #expect(policy.gaps.isEmpty)
    }

    @Test func stateElsewhereGetsItsOwnSealedTmpfsAndTheCredentialsAreHidden() {
        let policy = SandboxPolicy(host: Self.rootHost(), limits: Self.limits, paths: Self.paths(state: "/srv/ops/.runbook"),
                                   cgroupMemory: true, cgroupProcesses: true, exists: { _ in true })
        #expect(policy.mounts.contains(.tmpfs("/srv/ops/.runbook", options: "mode=0755,size=1m")))
        #expect(policy.mounts.contains(.hideFile("/srv/ops/credentials")))
        #expect(policy.mounts.contains(.makeDirectory("/srv/ops/.runbook/scratch")))
        #expect(!policy.mounts.contains(.makeDirectory("/srv/ops")))
        let seal = policy.mounts.firstIndex(of: .seal("/srv/ops/.runbook"))
        let attach = policy.mounts.firstIndex(of: .attach(slot: 0, "/srv/ops/.runbook/scratch/7", writable: true))
        #expect(seal != nil && attach != nil && seal! < attach!)
    }

    @Test func theRepositoryIsHiddenWholeWithTheStateInside() {
        var paths = Self.paths(state: "/srv/ops/.runbook")
        paths.root = "/srv/ops"
        let policy = SandboxPolicy(host: Self.rootHost(), limits: Self.limits, paths: paths,
                                   cgroupMemory: true, cgroupProcesses: true, exists: { _ in true })
        #expect(policy.mounts.contains(.tmpfs("/srv/ops", options: "mode=0755,size=1m")))
        #expect(!policy.mounts.contains(.tmpfs("/srv/ops/.runbook", options: "mode=0755,size=1m")))
        #expect(!policy.mounts.contains { if case .hideFile = $0 { return true } else { return false } })
        #expect(policy.mounts.contains(.makeDirectory("/srv/ops/.runbook")))
        #expect(policy.mounts.contains(.seal("/srv/ops")))
        paths.root = "/"
        let rootless = SandboxPolicy(host: Self.rootHost(), limits: Self.limits, paths: paths,
                                     cgroupMemory: true, cgroupProcesses: true, exists: { _ in true })
        #expect(!rootless.mounts.contains(.tmpfs("/", options: "mode=0755,size=1m")))
    }

    @Test func interpreterUnderAHiddenDirectoryStaysVisible() {
        var paths = Self.paths(state: "/srv/ops/.runbook")
        paths.programs = ["/root/.pyenv/versions/3.11.7/bin/python3", "-u", "/srv/ops/.runbook/snapshots/ab/abcd"]
        let policy = SandboxPolicy(host: Self.rootHost(), limits: Self.limits, paths: paths,
                                   cgroupMemory: true, cgroupProcesses: true, exists: { _ in true })
        #expect(policy.mounts.contains(.clone(slot: 2, "/root/.pyenv/versions/3.11.7")))
        #expect(policy.mounts.contains(.attach(slot: 2, "/root/.pyenv/versions/3.11.7", writable: false)))
        #expect(policy.mounts.contains(.makeDirectory("/root/.pyenv/versions")))
    }

    @Test(arguments: [(false, false, false, true), (true, false, false, false), (true, true, false, true), (true, false, true, true)])
    func networkNamespaceFor(dryRun: Bool, testNetwork: Bool, live: Bool, network: Bool) {
        var settings = RunbookSettings()
        settings.testNetwork = testNetwork
        let limits = JobLimits(settings: settings, host: HostConfig(), dryRun: dryRun, live: live)
        #expect(limits.network == network)
        let policy = SandboxPolicy(host: Self.rootHost(), limits: limits, paths: Self.paths(state: "/tmp/r/.runbook"),
                                   cgroupMemory: true, cgroupProcesses: true, exists: { _ in true })
        #expect((policy.namespaces & Int32(RB_NEW_NET) != 0) == !network)
    }

    @Test func unprivilegedHostUsesAUserNamespaceAndRlimitStandIns() {
        var host = Self.rootHost()
        host.uid = 1000
        host.gid = 1000
        host.needsUserNamespace = true
        host.jobUser = nil
        var settings = RunbookSettings()
        settings.memory = 64 << 20
        settings.processes = 32
        let limits = JobLimits(settings: settings, host: HostConfig(), dryRun: false)
        let policy = SandboxPolicy(host: host, limits: limits, paths: Self.paths(state: "/tmp/r/.runbook"),
                                   cgroupMemory: false, cgroupProcesses: false, exists: { _ in true })
        #expect(policy.namespaces & Int32(RB_NEW_USER) != 0)
        #expect(policy.uidMap == "1000 1000 1")
        #expect(policy.gidMap == "1000 1000 1")
        #expect(policy.user == nil)
        let rlimits = policy.rlimits.map { "\($0.0)=\($0.1)" }
        #expect(rlimits.contains("DATA=\(64 << 20)"))
        #expect(rlimits.contains("NPROC=32"))
        #expect(policy.gaps.count == 2)
    }

    @Test func rootHasNoUselessNPROCAndCgroupsReplaceStandIns() {
        var settings = RunbookSettings()
        settings.processes = 32
        settings.cpu = 5
        settings.fileSize = 10 << 20
        let limits = JobLimits(settings: settings, host: HostConfig(), dryRun: false)
        let rlimits = SandboxPolicy.rlimits(limits, root: true, cgroupMemory: true, cgroupProcesses: false).map { "\($0.0)=\($0.1)" }
        #expect(rlimits == ["CORE=0", "CPU=5:7", "FSIZE=\(10 << 20)", "NOFILE=1024"])
    }

    @Test func noNamespacesMeansNoMountsAndASaidGap() {
        var host = Self.rootHost()
        host.namespaces = false
        host.networkNamespace = false
        var settings = RunbookSettings()
        settings.network = false
        let policy = SandboxPolicy(host: host, limits: JobLimits(settings: settings, host: HostConfig(), dryRun: false),
                                   paths: Self.paths(state: "/tmp/r/.runbook"), cgroupMemory: true, cgroupProcesses: true)
        #expect(policy.namespaces == 0 && policy.mounts.isEmpty && policy.user == nil)
        #expect(policy.gaps.contains { $0.hasPrefix("network off") })
        #expect(policy.gaps.contains { $0.hasPrefix("file system") })
    }
}

@Suite("Host config and limits")
struct HostConfigTests {
    @Test func parsesEveryKey() throws {
        let config = try HostConfig.parse("""
            # defaults for this host
            memory = 1G
            cpu = 2m
            processes = unlimited
            output = 2M
            timeout = 30m
            file-size = 100M   # big enough
            open-files = 256
            user = runbook
            sandbox = on
            """, path: "runbook.conf").get()
        #expect(config.memory == 1 << 30 && config.cpu == 120 && config.processes == nil && config.output == 2 << 20)
        #expect(config.timeout == 1800 && config.fileSize == 100 << 20 && config.openFiles == 256 && config.user == "runbook")
    }

    @Test func badLinesAreErrorsWithTheirLine() {
        guard case .failure(let errors) = HostConfig.parse("memory = 1G\nmemroy = 2G\ncpu = 10\n", path: "runbook.conf") else {
            Issue.record("expected errors")
            return
        }
        #expect(errors.errors.map(\.location.line) == [2, 3])
        #expect(errors.errors[0].description.hasPrefix("runbook.conf:2:1: error: unknown setting 'memroy' (did you mean 'memory'?)"))
        #expect(errors.errors[1].code == .badValue)
    }

    @Test func headerOverridesConfWhichOverridesDefaults() throws {
        let config = try HostConfig.parse("memory = 256M\ntimeout = 2h\noutput = 1M\n", path: "runbook.conf").get()
        let header = try HeaderParser(commentPrefix: "#").parse("# runbook: memory = 64M\n# runbook: timeout = 1h\n", path: "x.sh").get()
        let limits = JobLimits(settings: header, host: config, dryRun: false)
        #expect(limits.memory == 64 << 20)
        #expect(limits.timeout == 3600)   // given in the header, though it equals the built-in default
        #expect(limits.output == 1 << 20)
        #expect(limits.processes == 256 && limits.cpu == 600)
    }

    @Test func newHeaderKeys() throws {
        let header = try HeaderParser(commentPrefix: "#").parse("# runbook: file-size = 10M\n# runbook: open-files = 64\n", path: "x.sh").get()
        #expect(header.fileSize == 10 << 20 && header.openFiles == 64)
        #expect(throws: CatalogErrors.self) { try HeaderParser(commentPrefix: "#").parse("# runbook: open-files = 3\n", path: "x.sh").get() }
    }
}

@Suite("Job outcome")
struct JobOutcomeTests {
    static let limits: JobLimits = {
        var settings = RunbookSettings()
        settings.memory = 64 << 20
        settings.processes = 32
        return JobLimits(settings: settings, host: HostConfig(), dryRun: false)
    }()

    @Test func cgroupLimitsNameTheLimit() {
        var run = SupervisedRun(termination: .signalled(9))
        run.oomKills = 1
        #expect(JobRunner.outcome(of: run, limits: Self.limits) == (.limitExceeded, "memory limit of 64M exceeded (1 process killed)"))
        run = SupervisedRun(termination: .exited(0))
        run.refusedForks = 5
        #expect(JobRunner.outcome(of: run, limits: Self.limits) == (.limitExceeded, "processes limit of 32 exceeded (5 forks refused)"))
        run.timedOut = true
        #expect(JobRunner.outcome(of: run, limits: Self.limits).0 == .limitExceeded)
        run = SupervisedRun(termination: .signalled(Int(SIGXFSZ)))
        #expect(JobRunner.outcome(of: run, limits: Self.limits).0 == .limitExceeded)
        run = SupervisedRun(termination: .exited(0))
        #expect(JobRunner.outcome(of: run, limits: Self.limits) == (.succeeded, "exit code 0"))
    }
}
