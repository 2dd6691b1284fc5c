import FoundationEssentials

struct ShowCommand: Command {
    static let name = "show"
    static let summary = "show one runbook: settings, state, revisions, last job"
    static let usage = "runbook show NAME [--json]"
    static let help = """
        Shows what runbook knows about NAME: its file, runtime and state, the
        settings from its header (with defaults filled in), the published
        revision, and its latest job.

        Options:
          --json   print it as JSON

        Examples:
          runbook show hello
        """

    var name: String
    var output: OutputOptions

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        output = try OutputOptions(&scanner)
        name = try scanner.positionals().single("runbook name")
    }

    struct Details: Encodable {
        var summary: RunbookSummary
        var settings: RunbookSettings?
        var published: Revision?
        var lastJob: JobRecord?
        var schedules: [ScheduleSummary]
        /// The limits a manual or scheduled run gets (header, else runbook.conf, else defaults).
        var limits: JobLimits?
        /// How such a run is confined on this machine.
        var sandbox: [String]?
        /// The job history kept (header, else runbook.conf).
        var history: Retention?

        enum CodingKeys: String, CodingKey {
            case summary = "runbook", settings, published, lastJob = "last_job", schedules, limits, sandbox, history
        }
    }

    func run(_ context: Context) throws -> Int32 {
        let catalog = try context.catalog()
        let store = try context.store()
        guard let summary = try RunbookSummary.all(catalog: catalog, store: store).first(where: { $0.name == name }) else {
            _ = try catalog.runbook(named: name)
            throw RunError("no runbook named '\(name)'")
        }
        let published = try store.publishedRevision(of: name)
        let schedules = ScheduleCatalog.scan(try context.workspace()).bound(to: name).map {
            ScheduleSummary($0, published: published != nil, now: context.now(), count: 3)
        }
        var details = Details(summary: summary, settings: catalog.runbooks[name]?.settings,
                              published: published, lastJob: try store.latestJob(of: name), schedules: schedules)
        if let settings = details.settings {
            let workspace = try context.workspace()
            let config = try HostConfig.load(workspace)
            let limits = JobLimits(settings: settings, host: config, dryRun: false)
            let host = config.sandbox ? HostSandbox.detect(config: config) : .unconfined
            let cgroups = host.enabled ? host.cgroups : CgroupLayout()
            let memory = cgroups.v1["memory"] != nil || cgroups.v2Controllers.contains("memory")
            let processes = cgroups.v1["pids"] != nil || cgroups.v2Controllers.contains("pids")
            let paths = SandboxPolicy.Paths(state: workspace.state.path, credentials: workspace.credentials.path,
                                            scratch: workspace.scratch.path, data: workspace.data.path, programs: [],
                                            root: workspace.root.path)
            details.limits = limits
            details.history = settings.history ?? config.history
            details.sandbox = SandboxPolicy(host: host, limits: limits, paths: paths, cgroupMemory: memory, cgroupProcesses: processes).summary
        }
        if output.json {
            context.console.out(try renderJSON(details))
            return 0
        }
        var lines: [String] = []
        lines.append("\(name)\(summary.description.map { " — \($0)" } ?? "")")
        lines.append("  file:        \(summary.path ?? "(deleted)")")
        lines.append("  runtime:     \(summary.runtime ?? "-")")
        lines.append("  state:       \(summary.state?.rawValue ?? "-")")
        if let published = details.published {
            lines.append("  published:   r\(published.number), \(formatLocal(published.createdAt)) by \(published.user)\(published.message.map { ": \($0)" } ?? "")")
        } else {
            lines.append("  published:   no")
        }
        if let settings = details.settings {
            let parameters = settings.parameters.map { parameter in
                parameter.defaultValue.map { "\(parameter.name)=\($0)" } ?? "\(parameter.name) (required)"
            }
            lines.append("  parameters:  \(parameters.isEmpty ? "none" : parameters.joined(separator: ", "))")
            lines.append("  credentials: \(settings.credentials.isEmpty ? "none" : settings.credentials.joined(separator: ", "))")
            if let effective = details.limits {
                var limits = "timeout \(DurationText.format(seconds: effective.timeout)), output \(ByteSize.format(bytes: effective.output))"
                if let memory = effective.memory { limits += ", memory \(ByteSize.format(bytes: memory))" }
                if let cpu = effective.cpu { limits += ", cpu \(DurationText.format(seconds: cpu))" }
                if let processes = effective.processes { limits += ", processes \(processes)" }
                if let size = effective.fileSize { limits += ", file size \(ByteSize.format(bytes: size))" }
                if let files = effective.openFiles { limits += ", open files \(files)" }
                lines.append("  limits:      \(limits)")
            }
            lines.append("  network:     \(settings.network ? "on" : "off") (dry runs: \(settings.testNetwork ? "on" : "off"))")
            if let history = details.history { lines.append("  history:     \(history) kept") }
            for (index, line) in (details.sandbox ?? []).enumerated() {
                lines.append("  \(index == 0 ? "sandbox:    " : "            ") \(line)")
            }
        }
        for problem in summary.problems { lines.append("  problem:     \(problem)") }
        if details.schedules.isEmpty { lines.append("  schedules:   none") }
        for schedule in details.schedules {
            let state = schedule.enabled ? "" : " (disabled)"
            lines.append("  schedule:    \(schedule.name): \(schedule.spec) [\(schedule.timeZone)]\(state), next \(schedule.next.first ?? "-")")
        }
        if let job = details.lastJob {
            lines.append("  last job:    #\(job.id) \(job.status.rawValue) \(job.startedAt.map(formatLocal) ?? "")\(job.reason.map { " (\($0))" } ?? "")")
        } else {
            lines.append("  last job:    none")
        }
        context.console.out(lines.joined(separator: "\n"))
        return 0
    }
}
