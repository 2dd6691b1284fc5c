import FoundationEssentials
import Glibc

/// `runbook test` and `runbook run`: one job now, output live on the
/// terminal, exit status the runbook's own.
struct RunCommand: Command {
    static let name = "run"
    static let summary = "run the published revision of a runbook now"
    static let usage = "runbook run NAME [-p NAME=VALUE]..."
    static let help = """
        Runs the published revision of NAME now, as a manual job: never the
        draft (use `runbook test` for that). Output streams live to the
        terminal and is recorded in the job's log; `runbook jobs` and
        `runbook logs` show it afterwards.

        Exits with the runbook's exit code, 124 when it timed out, 128+N when
        killed by signal N, 130 when cancelled with Ctrl-C.

        Options:
          -p, --param NAME=VALUE   a parameter declared in the header (repeatable)

        Examples:
          runbook run hello
          runbook run rotate-logs -p KEEP=7
        """

    var name: String
    var parameters: [String: String]

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        do { parameters = try ParameterBinding.parse(try scanner.values("-p", "--param")) } catch let problem as ParameterBinding.Problem {
            throw UsageError(problem.message)
        } catch let error as UsageError { throw error } catch { throw UsageError(String(describing: error)) }
        name = try scanner.positionals().single("runbook name")
    }

    func run(_ context: Context) throws -> Int32 {
        let store = try context.store()
        guard let revision = try store.publishedRevision(of: name) else {
            // No runbook of that name says so (with the nearest name); one never published says that.
            let catalog = try context.catalog()
            if catalog.runbooks[name] == nil { _ = try catalog.runbook(named: name) }
            throw PublishedRunbook.unpublished(name)
        }
        // The published revision is all that runs: no need to scan the drafts.
        let (registry, _) = Catalog.runtimes(try context.workspace())
        let published = try PublishedRunbook.load(revision, workspace: try context.workspace(), store: store, registry: registry)
        return try JobLauncher.launch(job: published.job(trigger: .manual), runtime: published.runtime, settings: published.settings,
                                      given: parameters, label: "revision \(published.revision.number) of \(name)", context: context)
    }
}

struct TestCommand: Command {
    static let name = "test"
    static let summary = "dry-run the draft of a runbook now, output live"
    static let usage = "runbook test NAME [-p NAME=VALUE]... [--live]"
    static let help = """
        Runs the draft of NAME (the file as it is now) as a test job: the job
        sees RUNBOOK_MODE=test and RUNBOOK_DRY_RUN=1, its own RUNBOOK_DATA
        (NAME.test, apart from the scheduled runs' data), and touches no
        schedule state. Output streams live to the terminal and is recorded.

        A dry run has no network unless the header says `test-network = on`
        or you pass --live (enforced where the sandbox can, see
        `runbook doctor`).

        Exits with the runbook's exit code, 124 when it timed out, 128+N when
        killed by signal N.

        Options:
          -p, --param NAME=VALUE   a parameter declared in the header (repeatable)
          --live                   allow the network for this dry run

        Examples:
          runbook test hello
          runbook test report -p SINCE=2026-11-01
        """

    var name: String
    var parameters: [String: String]
    var live: Bool

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        live = try scanner.flag("--live")
        do { parameters = try ParameterBinding.parse(try scanner.values("-p", "--param")) } catch let problem as ParameterBinding.Problem {
            throw UsageError(problem.message)
        } catch let error as UsageError { throw error } catch { throw UsageError(String(describing: error)) }
        name = try scanner.positionals().single("runbook name")
    }

    func run(_ context: Context) throws -> Int32 {
        let runbook = try context.catalog().runbook(named: name)
        guard runbook.isValid, let settings = runbook.settings else {
            throw RunError(runbook.problems.map(\.description).joined(separator: "\n"))
        }
        guard let data = FileManager.default.contents(atPath: runbook.file.path) else {
            throw RunError("cannot read \(runbook.path)")
        }
        _ = try context.store()
        let hash = try SnapshotStore(directory: try context.workspace().snapshots).store(data)
        let job = NewJob(runbook: name, revision: nil, snapshot: hash, trigger: .test)
        return try JobLauncher.launch(job: job, runtime: runbook.runtime, settings: settings, given: parameters,
                                      label: "draft of \(name) (dry run)", live: live, context: context)
    }
}

/// What `test` and `run` share: parameters, the terminal, Ctrl-C.
enum JobLauncher {
    static func launch(job: NewJob, runtime: any Runtime, settings: RunbookSettings, given: [String: String],
                       label: String, live: Bool = false, context: Context) throws -> Int32 {
        let parameters = try ParameterBinding.resolve(declared: settings.parameters, given: given, runbook: job.runbook)
        let console = context.console
        var request = JobRunner.Request(job: job, runtime: runtime, settings: settings, parameters: parameters) { stream, line in
            let text = String(decoding: line, as: UTF8.self) + "\n"
            switch stream {
            case .stdout: console.writeOut(text)
            case .stderr: console.writeErr(text)
            case .runbook: console.writeErr("runbook: " + text)
            }
        }
        request.onStart = { record in console.err("runbook: running \(label) as job #\(record.id)") }
        request.live = live
        // Ctrl-C and SIGTERM cancel the job (TERM, grace, KILL) instead of
        // killing runbook and leaving the record unfinished.
        // `runbook cancel` from another terminal sends JobCancellation.requestSignal.
        let signals = SignalPipe(catching: [SIGINT, SIGTERM, SIGHUP, JobCancellation.requestSignal])
        defer { signals.restore() }
        let runner = try context.runner()
        let record = try runner.run(request, interruptFD: signals.descriptor)
        let took = record.duration(now: context.now()).map(formatElapsed) ?? "-"
        console.err("runbook: job #\(record.id) \(record.status.rawValue) in \(took) (\(record.reason ?? ""))")
        return JobRunner.exitCode(of: record)
    }
}
