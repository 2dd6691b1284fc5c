import FoundationEssentials
import Glibc

/// What every command runs with: where the repository and state are, the
/// environment, the console, the clock. The store and tools are opened on
/// first use, so commands that need neither stay fast.
public final class Context: @unchecked Sendable {
    // Invariant behind @unchecked Sendable: a Context belongs to one command
    // run on one thread; the lazily opened members are set once, there.
    public let environment: [String: String]
    public let currentDirectory: URL
    public let console: Console
    public let now: @Sendable () -> Date
    let explicitRoot: String?
    /// `--database`: a postgres:// URL, over `RUNBOOK_DATABASE`.
    let databaseOption: String?
    /// How long the command keeps the store open once it has opened it.
    let storeLifetime: StoreLifetime
    private var openedWorkspace: Workspace?
    private var openedStore: (any Store)?
    private var openedTools: Tools?

    public init(environment: [String: String], currentDirectory: URL, console: Console, root: String?,
                database: String? = nil, storeLifetime: StoreLifetime = .command, now: @escaping @Sendable () -> Date = { Date() }) {
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.console = console
        self.explicitRoot = root
        self.databaseOption = database
        self.storeLifetime = storeLifetime
        self.now = now
    }

    /// The repository and its state directory.
    public func workspace() throws -> Workspace {
        if let openedWorkspace { return openedWorkspace }
        let workspace = try Workspace.locate(explicitRoot: explicitRoot, environment: environment, currentDirectory: currentDirectory)
        openedWorkspace = workspace
        return workspace
    }

    /// The store (`--database`, `RUNBOOK_DATABASE`, else SQLite in the state
    /// directory), created with the state directory on first use; jobs left
    /// running by dead runbook processes on this machine are marked
    /// `interrupted` as it opens.
    public func store() throws -> any Store {
        if let openedStore { return openedStore }
        let workspace = try workspace()
        try workspace.prepareState()
        let store = try StoreLocation.select(option: databaseOption, environment: environment, stateDirectory: workspace.state)
            .open(lifetime: storeLifetime)
        try OrphanSweep.run(store: store, hostName: hostName, now: now())
        openedStore = store
        return store
    }

    public func tools() throws -> Tools {
        if let openedTools { return openedTools }
        let workspace = try workspace()
        let tools = Tools(environment: environment, runner: SubprocessRunner(),
                          cacheFile: workspace.cache.appendingPathComponent("tools.json"))
        openedTools = tools
        return tools
    }

    public func catalog() throws -> Catalog { Catalog.scan(try workspace()) }

    public func ledger() throws -> RevisionLedger {
        RevisionLedger(workspace: try workspace(), store: try store(), tools: try tools(),
                       user: Provenance.currentUser(environment: environment), now: now)
    }

    /// The job runner, with `runbook.conf` and this machine's sandbox.
    public func runner() throws -> JobRunner {
        var runner = JobRunner(workspace: try workspace(), store: try store(), tools: try tools(), hostName: hostName,
                               environment: environment, now: now)
        runner.hostConfig = try HostConfig.load(try workspace())
        let cache = SandboxCache(path: try workspace().cache.appendingPathComponent("sandbox").path)
        runner.sandbox = runner.hostConfig.sandbox ? HostSandbox.detect(config: runner.hostConfig, cache: cache) : .unconfined
        return runner
    }

    /// This machine's name.
    public var hostName: String { HostState.localName }
}
