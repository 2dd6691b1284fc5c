import Foundation
import Glibc
import RunbookKit

/// `runbook-bench sandbox [ITERATIONS]`: spawn-to-exit of /bin/true through
/// the sandbox alone (as pid 1 of its namespaces) and under runbook-init (as
/// a job runs), beside bare posix_spawn in the same run; median and p99 in
/// milliseconds.
func runSandboxBench(arguments: [String]) throws {
    let iterations = arguments.first.flatMap { Int($0) } ?? 2000
    let truePath = access("/bin/true", X_OK) == 0 ? "/bin/true" : "/usr/bin/true"
    let config = HostConfig()
    let host = HostSandbox.detect(config: config)
    let initPath = try SandboxBenchmark.initPath()
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("runbook-bench-\(getpid())")
    let state = work.appendingPathComponent(".runbook")
    for directory in ["scratch/1/home", "scratch/1/tmp", "data/bench"] {
        try FileManager.default.createDirectory(at: state.appendingPathComponent(directory), withIntermediateDirectories: true)
    }
    defer { try? FileManager.default.removeItem(at: work) }
    if let user = host.jobUser {
        for directory in ["scratch/1", "scratch/1/home", "scratch/1/tmp", "data/bench"] {
            chown(state.appendingPathComponent(directory).path, user.uid, user.gid)
        }
    }
    let paths = SandboxPolicy.Paths(state: state.path, credentials: work.appendingPathComponent("credentials").path,
                                    scratch: state.appendingPathComponent("scratch/1").path,
                                    data: state.appendingPathComponent("data/bench").path, programs: [truePath, initPath])
    func policy(network: Bool) -> SandboxPolicy {
        var settings = RunbookSettings()
        settings.network = network
        let limits = JobLimits(settings: settings, host: config, dryRun: false)
        var policy = SandboxPolicy(host: host, limits: limits, paths: paths, cgroupMemory: true, cgroupProcesses: true)
        policy.rlimits = []
        return policy
    }
    let job = [initPath, "-p", String(getpid()), "--", truePath, truePath]
    let limits = JobLimits(settings: RunbookSettings(), host: config, dryRun: false)

    func bare() throws -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let start = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(truePath), nil]
        defer { free(argv[0]) }
        guard posix_spawn(&pid, truePath, nil, nil, argv, environ) == 0 else { throw RunError("posix_spawn failed") }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        clock_gettime(CLOCK_MONOTONIC, &now)
        return (Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 - start) * 1000
    }

    var rows: [(String, () throws -> Double)] = [
        ("bare posix_spawn /bin/true", bare),
        ("sandbox default, /bin/true as pid 1 (no init)", { try SandboxBenchmark.spawnToExit([truePath], policy: policy(network: true)) }),
        ("runbook-init + /bin/true, no sandbox", { try SandboxBenchmark.spawnToExit(job, policy: nil) }),
        ("sandbox default (mnt,pid,ipc,uts,ro root)", { try SandboxBenchmark.spawnToExit(job, policy: policy(network: true)) }),
        ("sandbox, network off (+net ns)", { try SandboxBenchmark.spawnToExit(job, policy: policy(network: false)) }),
    ]
    if !host.cgroups.v1.isEmpty || host.cgroups.v2 != nil {
        rows.append(("sandbox default + per-job cgroups", {
            try SandboxBenchmark.spawnToExit(job, policy: policy(network: true), cgroups: host.cgroups, limits: limits)
        }))
    }
    // Interleaved rounds, so that machine noise falls on every row alike.
    var samples = Array(repeating: [Double](), count: rows.count)
    for round in 0..<iterations {
        for (index, row) in rows.enumerated() where index < rows.count - 1 || round < max(200, iterations / 10) || host.cgroups.v1.isEmpty {
            samples[index].append(try row.1())
        }
    }
    func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }
    let bareMedian = percentile(samples[0], 0.5)
    print("spawn-to-exit, \(iterations) iterations (cgroup row: \(samples.last?.count ?? 0)), ms")
    print("what".padding(toLength: 48, withPad: " ", startingAt: 0) + "   median      p99   over bare")
    for (index, row) in rows.enumerated() {
        let median = percentile(samples[index], 0.5), p99 = percentile(samples[index], 0.99)
        let name = row.0.padding(toLength: 48, withPad: " ", startingAt: 0)
        print(name + String(format: " %8.3f %8.3f %+10.3f", median, p99, median - bareMedian))
    }
}
