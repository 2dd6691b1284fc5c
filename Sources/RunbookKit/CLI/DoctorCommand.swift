import FoundationEssentials

struct DoctorCommand: Command {
    static let name = "doctor"
    static let summary = "what this machine's sandbox grants jobs, mechanism by mechanism"
    static let usage = "runbook doctor [--json]"
    static let help = """
        Tries each sandbox mechanism for real, on this machine and as this
        user (starting /bin/true with it alone), and prints it as active or
        unavailable with the reason: namespaces by kind, the read-only root,
        cgroup v1 controllers and v2 with cgroup.kill, seccomp, the uid
        switch and rlimits. Then the guarantees every job gets here, and
        what it does not get.

        Options:
          --json   print it as JSON

        Examples:
          runbook doctor
          sudo -u ops runbook doctor
        """

    var output: OutputOptions

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        output = try OutputOptions(&scanner)
        _ = try scanner.positionals()
    }

    func run(_ context: Context) throws -> Int32 {
        // Outside a repository there is no runbook.conf: the built-in defaults.
        let workspace = try? context.workspace()
        let config = try workspace.map { try HostConfig.load($0) } ?? HostConfig()
        let host = HostSandbox.detect(config: config)
        let report = SandboxReport.probe(host: host, config: config)
        if output.json {
            context.console.out(try renderJSON(report))
            return 0
        }
        var lines = ["sandbox on this machine for \(report.user):", ""]
        let width = report.mechanisms.map { $0.name.count }.max() ?? 0
        for mechanism in report.mechanisms {
            let name = mechanism.name.padded(to: width)
            lines.append("  \(name)  \(mechanism.active ? "active     " : "unavailable")  \(mechanism.detail)")
        }
        lines.append("")
        lines.append("every job here gets:")
        lines += report.guarantees.map { "  + \($0)" }
        if !report.gaps.isEmpty {
            lines.append("")
            lines.append("not here:")
            lines += report.gaps.map { "  - \($0)" }
        }
        context.console.out(lines.joined(separator: "\n"))
        return 0
    }
}
