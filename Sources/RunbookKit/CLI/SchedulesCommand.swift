import FoundationEssentials

/// One schedule as `schedules` and `show` present it.
struct ScheduleSummary: Encodable {
    var name: String
    var path: String
    var runbook: String
    var spec: String
    var kind: String
    var timeZone: String
    var enabled: Bool
    /// Whether the runbook has a published revision (only those fire).
    var published: Bool
    var next: [String]
    /// The latest job the schedule fired, if any.
    var lastJob: JobID?
    var lastSlot: Date?
    var lastStatus: JobStatus?

    enum CodingKeys: String, CodingKey {
        case name, path, runbook, spec, kind, enabled, published, next
        case timeZone = "timezone", lastJob = "last_job", lastSlot = "last_slot", lastStatus = "last_status"
    }

    init(_ schedule: ScheduleFile, published: Bool, now: Date, count: Int, last: JobRecord? = nil) {
        lastJob = last?.id
        lastSlot = last?.slot
        lastStatus = last?.status
        name = schedule.name
        path = schedule.path
        runbook = schedule.runbook
        // The file key is part of the spec as users read it: `every = 15
        // minutes` is "every 15 minutes".
        let text = schedule.schedule.text
        let key = schedule.schedule.kind.rawValue
        spec = schedule.schedule.kind == .cron || text.lowercased().hasPrefix(key) ? text : "\(key) \(text)"
        kind = schedule.schedule.kind.rawValue
        timeZone = schedule.timeZone.identifier
        enabled = schedule.enabled
        self.published = published
        next = schedule.enabled ? schedule.schedule.nextFireDates(after: now, count: count).map { iso8601($0, in: schedule.timeZone) } : []
    }
}

struct SchedulesCommand: Command {
    static let name = "schedules"
    static let summary = "list schedules with their next fire times"
    static let usage = "runbook schedules [--json]"
    static let help = """
        Lists every schedule in schedules/: the runbook it fires, its spec, its
        zone (the host's when the file names none), whether it is enabled,
        whether its runbook is published (only published runbooks fire), its
        last job (id, status, slot), and its next 3 fire times. Broken schedule files are reported with their
        file and line after the table; the others are still listed.

        Options:
          --json   print the schedules as JSON

        Examples:
          runbook schedules
        """

    var output: OutputOptions

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        output = try OutputOptions(&scanner)
        try scanner.noPositionals(command: "schedules")
    }

    func run(_ context: Context) throws -> Int32 {
        let schedules = ScheduleCatalog.scan(try context.workspace())
        let store = try context.store()
        let live = try store.livePublications()
        let last = try store.latestScheduledJobs()
        let now = context.now()
        let summaries = schedules.names.compactMap { schedules.schedules[$0] }.map {
            ScheduleSummary($0, published: live[$0.runbook]?.revision != nil, now: now, count: 3, last: last[$0.name])
        }
        if output.json {
            context.console.out(try renderJSON(summaries))
        } else if summaries.isEmpty && schedules.problems.isEmpty {
            context.console.out("No schedules yet: add one to schedules/, e.g. schedules/hello.schedule with 'every = 15 minutes'")
        } else {
            var table = Table("NAME", "RUNBOOK", "SPEC", "ZONE", "STATE", "LAST RUN", "NEXT")
            for summary in summaries {
                let state = !summary.enabled ? "disabled" : summary.published ? "enabled" : "unpublished"
                let last = summary.lastJob.map { id in
                    "#\(id) \(summary.lastStatus?.rawValue ?? "")\(summary.lastSlot.map { " " + formatLocal($0) } ?? "")"
                } ?? "-"
                table.add(summary.name, summary.runbook, summary.spec, summary.timeZone, state, last,
                          summary.next.first ?? "-")
                for later in summary.next.dropFirst() { table.add("", "", "", "", "", "", later) }
            }
            context.console.out(table.render())
        }
        for problem in schedules.problems { context.console.err(problem.description) }
        return 0
    }
}
