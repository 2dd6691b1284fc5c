struct CheckCommand: Command {
    static let name = "check"
    static let summary = "check every runbook (headers, names, runtime checks)"
    static let usage = "runbook check"
    static let help = """
        Validates the whole repository without running anything: every
        runbook's name and header settings, name collisions, runtimes.conf,
        and each file's runtime check (bash -n, a Python compile, swiftc
        -typecheck). Prints every problem as FILE:LINE: error: ... and exits 1
        if there is any, 0 when all is valid.

        Examples:
          runbook check
        """

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        let rest = try scanner.positionals()
        guard rest.isEmpty else { throw UsageError("check takes no arguments, got '\(rest[0])'") }
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
        for problem in problems { context.console.err(problem) }
        let count = catalog.runbooks.count
        if problems.isEmpty {
            context.console.out("\(count) runbook\(count == 1 ? "" : "s") checked: all valid")
            return 0
        }
        context.console.out("\(count) runbook\(count == 1 ? "" : "s") checked: \(problems.count) problem\(problems.count == 1 ? "" : "s")")
        return 1
    }
}
