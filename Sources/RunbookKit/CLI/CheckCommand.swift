struct CheckCommand: Command {
    static let name = "check"
    static let summary = "check every runbook (headers, names, runtime checks)"
    static let usage = "runbook check"
    static let help = """
        Validates the whole repository without running anything: every
        runbook's name and header settings, name collisions, runtimes.conf,
        each file's runtime check (bash -n, a Python compile, swiftc
        -typecheck), every schedule file (its syntax, its zone, and its
        bindings: the runbook and on-failure runbook exist, parameters are
        declared, required ones given), and the credentials: the file's
        permissions and syntax, credentials declared but not defined, and
        variables that would collide with parameters or reserved names.
        Prints every problem as FILE:LINE: error: ..., and advice (a month day
        some months lack, an unused credential, a value too short to mask) as
        warnings; exits 1 if there is any error, 0 when all is valid.

        Examples:
          runbook check
        """

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        try scanner.noPositionals(command: "check")
    }

    func run(_ context: Context) throws -> Int32 {
        let catalog = try context.catalog()
        let tools = try context.tools()
        var problems = catalog.problems.map(\.description)
        for name in catalog.names {
            guard let runbook = catalog.runbooks[name] else { continue }
            if !runbook.isValid {
                problems += runbook.problems.map(\.description)
                continue
            }
            do {
                if let output = try runbook.runtime.check(runbook.file, tools: tools) {
                    problems.append("\(runbook.path): error: fails its \(runbook.runtime.name) check:\n\(output.trimmingWhitespace())")
                }
            } catch {
                problems.append("\(runbook.path): error: \(error)")
            }
        }
        let schedules = ScheduleCatalog.scan(try context.workspace())
        problems += (schedules.problems + schedules.bindingProblems(catalog: catalog)).map(\.description)
        let credentials = CredentialAudit(catalog: catalog, workspace: try context.workspace())
        problems += credentials.errors
        for problem in problems { context.console.err(problem) }
        for warning in credentials.warnings { context.console.err(warning) }
        for name in schedules.names {
            guard let schedule = schedules.schedules[name] else { continue }
            for hint in schedule.schedule.hints { context.console.err("\(schedule.path): warning: \(hint)") }
        }
        let counted = "\(plural(catalog.runbooks.count, "runbook")) and \(plural(schedules.schedules.count + Set(schedules.problems.compactMap { $0.location?.file }).count, "schedule")) checked"
        if problems.isEmpty {
            context.console.out("\(counted): all valid")
            return 0
        }
        context.console.out("\(counted): \(plural(problems.count, "problem"))")
        return 1
    }
}

func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
