import FoundationEssentials
import Glibc

/// The `runbook` command line: global options, dispatch to a command, and
/// the mapping of failures to exit statuses (2 for usage errors, 1 for the
/// rest, the runbook's own for `test` and `run`).
public enum RunbookCLI {
    static let commands: [any Command.Type] = [
        ListCommand.self, ShowCommand.self, CheckCommand.self, TestCommand.self, RunCommand.self,
        PublishCommand.self, RevertCommand.self, RollbackCommand.self, VersionsCommand.self, DiffCommand.self,
        SchedulesCommand.self, NextCommand.self, ServeCommand.self, StatusCommand.self, JobsCommand.self, LogsCommand.self,
        CancelCommand.self, OverviewCommand.self, ReportCommand.self, PruneCommand.self, CredentialsCommand.self,
        DoctorCommand.self,
    ]

    /// Runs `arguments` (without the program name) and returns the exit status.
    public static func main(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                            currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                            console: Console = .standard) -> Int32 {
        // A closed pipe on the terminal side (`runbook test x | head -1`)
        // must not kill runbook while it still owns a job; writes then fail
        // with EPIPE instead, and the job keeps being recorded.
        signal(SIGPIPE, SIG_IGN)
        // Global options come before the command: --root DIR, --database URL.
        var rest = arguments
        var globals: [String: String] = [:]
        for option in ["--root", "--database"] {
            var scanner = ArgumentScanner(rest)
            do { globals[option] = try scanner.value(option) } catch {
                console.err("error: \(error.message)")
                console.err("usage: \(globalUsage); see 'runbook help'")
                return 2
            }
            if let index = rest.firstIndex(where: { $0 == option || $0.hasPrefix(option + "=") }) {
                rest.removeSubrange(index..<(rest[index] == option ? min(index + 2, rest.count) : index + 1))
            }
        }
        let root = globals["--root"]
        guard let name = rest.first, !name.hasPrefix("-") || ["-h", "--help", "--version"].contains(name) else {
            if let flag = rest.first {
                console.err("error: unknown option '\(flag)' before the command")
                console.err("usage: \(globalUsage); see 'runbook help'")
                return 2
            }
            console.writeOut(overview())
            return 0
        }
        if name == "--version" {
            console.out("runbook \(RunbookKitVersion.string)")
            return 0
        }
        if name == "help" || name == "-h" || name == "--help" {
            return help(Array(rest.dropFirst()), console: console)
        }
        guard let command = commands.first(where: { $0.name == name }) else {
            let suggestion = Spelling.nearest(to: name, in: commands.map { $0.name }).map { " (did you mean '\($0)'?)" } ?? ""
            console.err("error: unknown command '\(name)'\(suggestion)")
            console.err("usage: runbook COMMAND [ARGS...]; see 'runbook help' for the commands")
            return 2
        }
        let commandArguments = Array(rest.dropFirst())
        if commandArguments.contains("--help") || commandArguments.contains("-h") {
            return help([name], console: console)
        }
        var commandScanner = ArgumentScanner(commandArguments)
        let context = Context(environment: environment, currentDirectory: currentDirectory, console: console, root: root,
                              database: globals["--database"], storeLifetime: command.storeLifetime)
        do {
            let instance = try command.init(&commandScanner)
            return try instance.run(context)
        } catch let error as UsageError {
            console.err("error: \(error.message)")
            console.err("usage: \(command.usage)")
            console.err("see 'runbook help \(command.name)'")
            return 2
        } catch let error as ParameterBinding.Problem {
            console.err("error: \(error.message)")
            console.err("usage: \(command.usage)")
            console.err("see 'runbook show NAME' for its parameters")
            return 2
        } catch let error as CatalogErrors {
            for problem in error.errors { console.err(problem.description) }
            return 1
        } catch {
            console.err("error: \(error)")
            return 1
        }
    }

    static let globalUsage = "runbook [--root DIR] [--database URL] COMMAND [ARGS...]"

    static func overview() -> String {
        let width = commands.map { $0.name.count }.max() ?? 0
        let lines = commands.map { "  \($0.name.padded(to: width))  \($0.summary)" }
        return """
            runbook: a self-hosted runbook host: publish, run and record scripts kept in git.

            usage: \(globalUsage)

            commands:
            \(lines.joined(separator: "\n"))

            The root is --root, else RUNBOOK_ROOT, else the current directory or the
            first parent holding runbooks/. State lives in ROOT/.runbook unless
            RUNBOOK_STATE_DIR says otherwise. The database is the SQLite file there,
            unless --database or RUNBOOK_DATABASE gives a postgres://USER:PASSWORD@HOST/DB
            URL: hosts on several machines then share it.

            'runbook help COMMAND' (or 'runbook COMMAND --help') shows a command's options and examples.

            """
    }

    static func help(_ topics: [String], console: Console) -> Int32 {
        guard let topic = topics.first else {
            console.writeOut(overview())
            return 0
        }
        guard let command = commands.first(where: { $0.name == topic }) else {
            console.err("error: no help for '\(topic)': 'runbook help' lists the commands")
            return 2
        }
        console.writeOut("usage: \(command.usage)\n\n\(command.summary)\n\n\(command.help)\n")
        return 0
    }
}
