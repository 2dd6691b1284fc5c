import Foundation
import Glibc
import Testing

/// Who runs `runbook` in a sandbox test: this process's user (root on CI),
/// or, when that is root, an unprivileged account made with useradd, so the
/// suite also covers a host without root (user namespaces, no cgroups).
struct SandboxHost: Sendable, CustomStringConvertible {
    /// nil: as this process.
    var user: String?

    var description: String { user.map { "as \($0)" } ?? (geteuid() == 0 ? "as root" : "as this user") }

    static let unprivilegedName = "rbsandbox-test"

    /// This process's user, plus the unprivileged account when we are root
    /// and can make one (the reason is printed when we cannot).
    static let variants: [SandboxHost] = {
        var hosts = [SandboxHost(user: nil)]
        guard geteuid() == 0 else { return hosts }
        if getpwnam(unprivilegedName) == nil {
            let add = Process()
            add.executableURL = URL(fileURLWithPath: "/usr/sbin/useradd")
            add.arguments = ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", unprivilegedName]
            add.standardOutput = FileHandle.nullDevice
            add.standardError = FileHandle.nullDevice
            if (try? add.run()) != nil { add.waitUntilExit() }
        }
        if getpwnam(unprivilegedName) == nil || !FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            print("sandbox tests: skipping the unprivileged-host variant: cannot create user \(unprivilegedName) with useradd or run setpriv")
            return hosts
        }
        hosts.append(SandboxHost(user: unprivilegedName))
        return hosts
    }()

    /// A root for this host: a temporary root owned by the user who runs runbook.
    func makeRoot(base: String? = nil) throws -> SandboxRoot { try SandboxRoot(host: self, base: base) }
}

/// A temporary root driven by `SandboxHost`'s user.
final class SandboxRoot: @unchecked Sendable {
    let root: RunbookProcess.Root
    let host: SandboxHost
    var url: URL { root.url }

    init(host: SandboxHost, base: String? = nil) throws {
        self.host = host
        root = try RunbookProcess.Root(base: base)
        chmod(root.url.path, 0o755)
    }

    func write(_ path: String, _ text: String) throws { try root.write(path, text) }

    /// Hands every file of the root to the host's user (before each run).
    private func handOver() {
        guard let user = host.user, let entry = getpwnam(user) else { return }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        lchown(url.path, uid, gid)
        if let walker = FileManager.default.enumerator(atPath: url.path) {
            while let relative = walker.nextObject() as? String { lchown(url.path + "/" + relative, uid, gid) }
        }
    }

    /// The command line and environment that run `runbook ARGUMENTS...` as the host's user.
    func command(_ arguments: [String]) -> (argv: [String], environment: [String: String]) {
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "RUNBOOK_ROOT": url.path,
                           "HOME": url.path, "LANG": "C.UTF-8"]
        guard let user = host.user else { return ([RunbookProcess.binary.path] + arguments, environment) }
        // The account cannot see root's pyenv: the system's tools only.
        environment["PATH"] = "/usr/local/bin:/usr/bin:/bin"
        return (["/usr/bin/setpriv", "--reuid=\(user)", "--regid=\(user)", "--init-groups", "--", RunbookProcess.binary.path] + arguments,
                environment)
    }

    /// `runbook ARGUMENTS...` as the host's user; stdout to /dev/null when `quiet`.
    func start(_ arguments: [String], quiet: Bool = false) -> RunbookProcess.Started {
        handOver()
        let process = Process()
        let (argv, environment) = command(arguments)
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.environment = environment
        process.currentDirectoryURL = url
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = quiet ? FileHandle.nullDevice : stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try? process.run()
        return RunbookProcess.Started(process: process, stdout: stdout, stderr: stderr)
    }

    @discardableResult
    func run(_ arguments: String..., quiet: Bool = false) throws -> RunbookProcess.Result {
        let started = start(arguments, quiet: quiet)
        let out = quiet ? Data() : try started.stdout.fileHandleForReading.readToEnd() ?? Data()
        let err = try started.stderr.fileHandleForReading.readToEnd() ?? Data()
        started.process.waitUntilExit()
        return RunbookProcess.Result(status: started.process.terminationStatus,
                                     out: String(decoding: out, as: UTF8.self), err: String(decoding: err, as: UTF8.self))
    }

    /// Runs `runbook ARGUMENTS...` with its output to /dev/null and returns
    /// its exit status and peak RSS in KiB (from wait4, so no other child of
    /// the test process counts).
    func runMeasured(_ arguments: [String]) -> (status: Int32, maxRSSKB: Int) {
        handOver()
        let (argv, environment) = command(arguments)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArguments + cEnvironment).forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, argv[0], &actions, nil, cArguments, cEnvironment) == 0 else { return (-1, 0) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        return ((status >> 8) & 0xff, usage.ru_maxrss)
    }

    /// The newest job, decoded from `jobs --json`.
    func lastJob() throws -> [String: Any] {
        let out = try run("jobs", "--json", "--limit", "1").out
        return ((try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]]) ?? []).first ?? [:]
    }

    /// What `runbook doctor` says this host lacks, as its "not here" lines.
    func gaps() throws -> [String] {
        let out = try run("doctor", "--json").out
        let report = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        return report?["gaps"] as? [String] ?? []
    }

    /// The doctor's reason when the host lacks a mechanism whose gap line starts with `prefix`.
    func lacks(_ prefix: String) throws -> String? {
        try gaps().first { $0.hasPrefix(prefix) }
    }

    /// No process whose command line mentions this root (snapshots and
    /// scratch live under it) is left.
    func nothingLeft(within seconds: Double = 2) -> Bool {
        eventually(within: seconds) { processes(containing: url.path).isEmpty }
    }
}

/// Hostile runbooks: each is stopped by the limit or the confinement meant
/// for it, its status says so, and none of its processes is left.
@Suite("Sandbox", .serialized)
struct SandboxTests {
    static func skip(_ test: String, _ host: SandboxHost, _ reason: String) {
        print("skipped: \(test) \(host): runbook doctor says: \(reason)")
    }

    @Test(arguments: SandboxHost.variants)
    func memoryHogIsStoppedAtItsLimit(host: SandboxHost) throws {
        let root = try host.makeRoot()
        if let reason = try root.lacks("no memory cgroup") { return Self.skip("memory hog", host, reason) }
        try root.write("runbooks/hog.py", """
            # runbook: memory = 64M
            x = bytearray(2 << 30)
            for i in range(0, len(x), 4096): x[i] = 1
            print("allocated")
            """)
        let result = try root.run("test", "hog")
        #expect(result.status == 128 + SIGKILL)
        let job = try root.lastJob()
        #expect(job["status"] as? String == "limit-exceeded")
        #expect((job["reason"] as? String)?.hasPrefix("memory limit of 64M exceeded") == true, "\(job)")
        #expect(((job["peak_memory_kb"] ?? job["peakMemoryKB"]) as? Int).map { $0 <= 70 * 1024 } ?? true)
        #expect(root.nothingLeft())
    }

    @Test(arguments: SandboxHost.variants)
    func cpuSpinIsStoppedAtItsLimit(host: SandboxHost) throws {
        let root = try host.makeRoot()
        try root.write("runbooks/spin.sh", "# runbook: cpu = 1s\nwhile :; do :; done\n")
        try root.run("test", "spin")
        let job = try root.lastJob()
        #expect(job["status"] as? String == "limit-exceeded")
        #expect((job["reason"] as? String)?.hasPrefix("cpu limit of 1s exceeded") == true)
        #expect(root.nothingLeft())
    }

    @Test(arguments: SandboxHost.variants)
    func forkBombIsContained(host: SandboxHost) throws {
        let root = try host.makeRoot()
        if let reason = try root.lacks("no pids cgroup") { return Self.skip("fork bomb", host, reason) }
        try root.write("runbooks/bomb.sh", """
            # runbook: processes = 32
            # runbook: timeout = 10s
            bomb() { bomb | bomb & }
            bomb
            sleep 3
            """)
        let started = root.start(["test", "bomb"], quiet: true)
        // The host stays responsive while the bomb goes off.
        usleep(1_000_000)
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/bin/true")
        let before = Date()
        try probe.run()
        probe.waitUntilExit()
        #expect(Date().timeIntervalSince(before) < 1)
        _ = try started.stderr.fileHandleForReading.readToEnd()
        started.process.waitUntilExit()
        let job = try root.lastJob()
        #expect(job["status"] as? String == "limit-exceeded")
        #expect((job["reason"] as? String)?.hasPrefix("processes limit of 32 exceeded") == true, "\(job)")
        #expect(root.nothingLeft())
    }

    @Test(arguments: SandboxHost.variants)
    func outputFloodIsCapped(host: SandboxHost) throws {
        let root = try host.makeRoot()
        try root.write("runbooks/flood.sh", "# runbook: output = 1M\nhead -c 1G /dev/zero | tr '\\0' x\n")
        let (status, maxRSS) = root.runMeasured(["test", "flood"])
        #expect(status == 0)
        let job = try root.lastJob()
        #expect(job["truncated"] as? Bool == true)
        let log = root.url.appendingPathComponent(".runbook/logs/\(job["id"] as? Int ?? 0).log")
        let size = (try FileManager.default.attributesOfItem(atPath: log.path)[.size] as? Int) ?? 0
        #expect(size > 900_000 && size < 1_100_000)
        let logs = try root.run("logs", "flood", "--last", quiet: true)
        #expect(logs.err.contains("peak memory") && logs.err.contains("s user + "), "\(logs.err)")
        let text = try String(contentsOf: log, encoding: .utf8)
        #expect(text.contains(" run output truncated at 1M: "))
        // runbook itself stayed small while a gigabyte went through it.
        #expect(maxRSS < 128 * 1024, "runbook's peak RSS: \(maxRSS) KiB")
        #expect(root.nothingLeft())
    }

    @Test(arguments: SandboxHost.variants)
    func bigFileFailsAtTheFileSizeLimit(host: SandboxHost) throws {
        let root = try host.makeRoot()
        try root.write("runbooks/big.sh", """
            # runbook: file-size = 10M
            head -c 100M /dev/zero > "$HOME/big"
            status=$?
            echo "size $(stat -c %s "$HOME/big") status $status"
            exit $status
            """)
        let result = try root.run("test", "big")
        #expect(result.out == "size \(10 << 20) status \(128 + SIGXFSZ)\n", "\(result.err)")
        let job = try root.lastJob()
        #expect(job["status"] as? String == "failed")
        #expect(root.nothingLeft())
    }

    @Test(arguments: SandboxHost.variants)
    func leftoverProcessesDieWhenTheJobEnds(host: SandboxHost) throws {
        let root = try host.makeRoot()
        let marker = "1000.\(getpid() % 10000)"
        try root.write("runbooks/leave.sh", """
            sleep \(marker)1 &
            setsid nohup sleep \(marker)2 >/dev/null 2>&1 &
            echo started
            """)
        let result = try root.run("test", "leave")
        #expect(result.out == "started\n")
        #expect(try root.lastJob()["status"] as? String == "succeeded")
        #expect(eventually(within: 1) { processes(containing: "sleep \(marker)").isEmpty },
                "left running: \(processes(containing: "sleep \(marker)"))")
    }

    /// In /tmp (hidden whole by the job's own /tmp) and in /var/tmp (where
    /// the repository gets an empty tmpfs of its own).
    @Test(arguments: SandboxHost.variants.flatMap { host in ["/tmp", "/var/tmp"].map { (host, $0) } })
    func secretsAndTheHostAreOutOfReach(host: SandboxHost, base: String) throws {
        let root = try host.makeRoot(base: base)
        if let reason = try root.lacks("jobs see the host's file system") { return Self.skip("confinement", host, reason) }
        try root.write("credentials", "[db]\npassword = hunter2-secret\n")
        chmod(root.url.appendingPathComponent("credentials").path, 0o600)
        try root.write("runbooks/other.sh", "echo \"other-secret\" > $RUNBOOK_DATA/token\n")
        try root.run("publish", "other")
        try root.run("run", "other")
        let state = root.url.appendingPathComponent(".runbook").path
        try root.write("runbooks/snoop.sh", """
            try() { if eval "$1" >/dev/null 2>&1; then echo "LEAK: $1"; else echo "denied: $1"; fi; }
            try 'cat \(root.url.path)/credentials'
            try 'grep -q hunter2 \(root.url.path)/credentials'
            try 'cat \(state)/runbook.db'
            try 'cat \(state)/data/other/token'
            try 'ls /root/ | grep -q .'
            try 'touch /usr/runbook-sandbox-test'
            try 'touch /etc/runbook-sandbox-test'
            try 'touch \(root.url.path)/runbooks/evil.sh'
            touch "$HOME/mine" && echo "home ok"
            touch "$RUNBOOK_DATA/mine" && echo "data ok"
            """)
        let result = try root.run("test", "snoop")
        #expect(!result.out.contains("LEAK"), "\(result.out)")
        #expect(result.out.contains("home ok\ndata ok\n"))
        #expect(result.out.components(separatedBy: "denied:").count == 9)
        #expect(!FileManager.default.fileExists(atPath: "/usr/runbook-sandbox-test"))
        #expect(!FileManager.default.fileExists(atPath: root.url.appendingPathComponent("runbooks/evil.sh").path))
        #expect(root.nothingLeft())
    }

    @Test(arguments: SandboxHost.variants)
    func noNetworkForDryRunsAndNetworkOff(host: SandboxHost) throws {
        let root = try host.makeRoot()
        if let reason = try root.lacks("network = off and dry runs are NOT") { return Self.skip("network", host, reason) }
        let listener = try Listener()
        try root.write("runbooks/call.sh", "exec 3<>/dev/tcp/127.0.0.1/\(listener.port) && echo connected\n")
        try root.write("runbooks/offline.sh", "# runbook: network = off\nexec 3<>/dev/tcp/127.0.0.1/\(listener.port) && echo connected\n")
        #expect(try root.run("test", "call").out == "")
        #expect(try root.lastJob()["status"] as? String == "failed")
        #expect(try root.run("test", "call", "--live").out == "connected\n")
        try root.run("publish", "--all")
        #expect(try root.run("run", "call").out == "connected\n")
        #expect(try root.run("run", "offline").out == "")
        #expect(root.nothingLeft())
    }

    @Test func doctorReportsEveryMechanism() throws {
        let root = try SandboxHost(user: nil).makeRoot()
        let result = try root.run("doctor")
        #expect(result.status == 0)
        for mechanism in ["mount namespace", "pid namespace", "network namespace", "user namespace", "read-only root",
                          "cgroup v1 memory", "cgroup v2", "cgroup.kill", "seccomp", "uid switch", "rlimits"] {
            #expect(result.out.contains("\n  \(mechanism) "), "doctor lacks \(mechanism)")
        }
        #expect(result.out.contains("every job here gets:"))
    }

    @Test func showGivesEffectiveLimitsAndConfinement() throws {
        let root = try SandboxHost(user: nil).makeRoot()
        try root.write("runbook.conf", "memory = 256M\nprocesses = 100\n")
        try root.write("runbooks/job.sh", "# runbook: memory = 64M\n# runbook: network = off\ntrue\n")
        let out = try root.run("show", "job").out
        #expect(out.contains("memory 64M"), "\(out)")
        #expect(out.contains("processes 100"))
        #expect(out.contains("sandbox:"))
    }
}

/// A TCP listener on 127.0.0.1 of the host, on a free port.
final class Listener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) } }
        guard bound == 0, listen(socketFD, 16) == 0 else { close(socketFD); throw CocoaError(.fileWriteUnknown) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) } }
        fd = socketFD
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }
}
