import FoundationEssentials
import Glibc

/// Runs one job from start to record: writes the record before the process
/// starts, prepares the artifact, scratch and data directories, supervises
/// the process, and completes the record after it ends. A crash at any
/// point leaves a record that is not `succeeded` (a later runbook process
/// marks it `interrupted`).
public struct JobRunner: Sendable {
    public var workspace: Workspace
    public var store: any Store
    public var tools: Tools
    /// This machine's name, recorded as the job's host.
    public var hostName: String
    /// Seconds between SIGTERM and SIGKILL when a job is stopped.
    public var grace: Int = 10
    /// Whether each job's completion waits for the disk. The host turns this
    /// off and syncs once per wake instead (group commit, `Store.sync`):
    /// under load, one sync then covers every job that ended meanwhile.
    public var syncEachCompletion = true
    /// runbook's own environment: where `env:` credential values come from
    /// (never passed to jobs as a whole).
    public var hostEnvironment: [String: String]
    /// The host's default limits and job user (`runbook.conf`).
    public var hostConfig = HostConfig()
    /// What the sandbox may use here. `Context.runner()` sets the detected
    /// facts; the default confines nothing (supervision only).
    public var sandbox: HostSandbox = .unconfined
    public var now: @Sendable () -> Date

    /// - Parameter environment: runbook's own environment, when the caller
    ///   has it already (reading the process's costs a dictionary per call).
    public init(workspace: Workspace, store: any Store, tools: Tools, hostName: String,
                environment: [String: String] = ProcessInfo.processInfo.environment, now: @escaping @Sendable () -> Date) {
        self.workspace = workspace
        self.store = store
        self.tools = tools
        self.hostName = hostName
        self.hostEnvironment = environment
        self.now = now
    }

    /// One job to run.
    public struct Request: Sendable {
        public var job: NewJob
        public var runtime: any Runtime
        public var settings: RunbookSettings
        /// Resolved parameter values.
        public var parameters: [String: String]
        public var scheduledTime: Date? = nil
        /// Receives each output line as it is read (for the terminal).
        public var echo: (@Sendable (LogStream, ArraySlice<UInt8>) -> Void)?
        /// Called once the record exists, before the process starts.
        public var onStart: (@Sendable (JobRecord) -> Void)? = nil
        /// A record already `queued` for this job (by the host). Such a job
        /// is readied and held at its start gate (`HeldStart`) until
        /// `startAt` and a place among `places`; its record moves to
        /// `running` just before the gate opens.
        public var queued: JobRecord? = nil
        /// When a queued job's program is to start (nil: as soon as it can).
        public var startAt: Date? = nil
        /// The places a queued job must hold one of to run (nil: no limit).
        public var places: JobPlaces? = nil
        /// Its claim on a place, when the host gave it one already.
        public var place: JobPlaces.Ticket? = nil
        /// The host's timed starts: a queued job due at `startAt` counts
        /// there until it starts, and its own clearing up waits for quiet.
        public var traffic: StartTraffic? = nil
        /// Lets another thread stop the job with a reason of its own.
        public var cancellation: JobCancellation? = nil
        /// More variables for the job (the failed job of an on-failure run).
        public var extraEnvironment: [String: String] = [:]
        /// A dry run with the network (`runbook test --live`).
        public var live = false

        public init(job: NewJob, runtime: any Runtime, settings: RunbookSettings, parameters: [String: String],
                    echo: (@Sendable (LogStream, ArraySlice<UInt8>) -> Void)?) {
            self.job = job
            self.runtime = runtime
            self.settings = settings
            self.parameters = parameters
            self.echo = echo
        }
    }

    public func logFile(for id: JobID) -> URL {
        workspace.logs.appendingPathComponent("\(id.rawValue).log")
    }

    /// Runs `request` to completion and returns its final record.
    /// - Parameter interruptFD: a pipe that receives a byte per signal that
    ///   should cancel the job (from `rb_signal_pipe`), or nil.
    public func run(_ request: Request, interruptFD: Int32? = nil) throws -> JobRecord {
        var job = request.job
        job.parameters = request.parameters
        let lastSuccess = try lastSuccess(of: job)
        let record: JobRecord
        if let queued = request.queued {
            // Marked running now, as it is readied (a job cancelled while
            // queued is not, and never starts); its start time is the
            // instant its program is let go, corrected below if that was later.
            guard let running = try store.markRunning(queued.id, revision: job.revision, snapshot: job.snapshot, ownerPID: Int(getpid()),
                                                      ownerStart: ProcessIdentity.current, at: max(now(), request.startAt ?? .distantPast)) else {
                return try store.job(queued.id) ?? queued
            }
            record = running
        } else {
            record = try store.startJob(job, host: hostName, ownerPID: Int(getpid()), ownerStart: ProcessIdentity.current, at: now())
        }
        request.onStart?(record)
        let limits = JobLimits(settings: request.settings, host: hostConfig, dryRun: job.trigger == .test, live: request.live)
        // Credentials are read at every job start, so an edit of the file
        // reaches the next job; a declared one that is missing fails the job
        // here, before any process starts.
        let credentials: CredentialInjection
        do {
            credentials = try self.credentials(for: job, settings: request.settings)
        } catch {
            return try complete(record, status: .failed, reason: "could not start: \(error)", run: nil, recorder: nil)
        }
        let recorder: OutputRecorder
        do {
            recorder = try OutputRecorder(logFile: logFile(for: record.id), limit: limits.output,
                                          masker: credentials.makeMasker(), echo: request.echo)
        } catch {
            return try complete(record, status: .failed, reason: String(describing: error), run: nil, recorder: nil)
        }
        if job.trigger == .test { for choice in credentials.choices { recorder.note(choice.description) } }

        // Reused from an earlier job where one is idle (see ScratchPool).
        // A readied job still waiting for a place a second after its instant
        // is queued again while it waits (so `runbook jobs` tells the
        // truth), and running once it starts, unless cancelled meanwhile.
        let requeued = Flag()
        let scratchPool = ScratchPool(directory: workspace.scratch)
        let scratch = scratchPool.take(for: record.id)
        defer { scratchPool.giveBack(scratch) }
        let run: SupervisedRun
        do {
            guard let hash = job.snapshot else { throw RunError("the job has no snapshot to run") }
            let snapshot = SnapshotStore(directory: workspace.snapshots).file(for: hash)
            let artifact = try request.runtime.prepare(snapshot: snapshot, hash: hash, cache: workspace.cache, tools: tools)
            let command = try request.runtime.commandLine(for: artifact, tools: tools)
            let data = workspace.data.appendingPathComponent(job.trigger == .test ? "\(job.runbook).test" : job.runbook)
            for directory in [scratch.appendingPathComponent("home"), scratch.appendingPathComponent("tmp"), data] {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            }
            var environment = JobEnvironment(
                jobID: record.id, runbook: job.runbook, revision: job.revision, trigger: job.trigger, attempt: job.attempt,
                scratch: scratch, data: data, timeZone: HostZone.name(environment: hostEnvironment),
                scheduledTime: request.scheduledTime.map(Timestamp.utc), lastSuccess: lastSuccess.map(Timestamp.utc),
                parameters: request.parameters)
            let secrets = scratch.appendingPathComponent("credentials").path
            try credentials.writeFiles(in: secrets)
            environment.extra = request.extraEnvironment.merging(credentials.environment(fileDirectory: secrets)) { $1 }
            var spec = LaunchSpec(arguments: command, environment: environment.variables, directory: scratch.appendingPathComponent("home"))
            let cgroup = sandbox.enabled
                ? try JobCgroup(name: JobCgroup.name(owner: getpid(), job: record.id), layout: sandbox.cgroups, limits: limits) : nil
            defer { cgroup?.remove() }
            let initPath = try ProcessSpawner.installedInitPath()
            let paths = SandboxPolicy.Paths(
                state: Self.realPath(workspace.state), credentials: Self.realPath(workspace.credentials),
                scratch: Self.realPath(scratch), data: Self.realPath(data),
                programs: command.filter { $0.hasPrefix("/") } + [initPath], root: Self.realPath(workspace.root))
            let policy = SandboxPolicy(host: sandbox, limits: limits, paths: paths,
                                       cgroupMemory: cgroup?.enforcesMemory ?? false, cgroupProcesses: cgroup?.enforcesProcesses ?? false)
            // Say so in the job's log when what its header asks for is not enforced.
            for gap in policy.gaps where sandbox.enabled {
                let key = gap.prefix { $0 != ":" }
                if key == "memory" || key == "processes", !request.settings.givenKeys.contains(String(key)) { continue }
                recorder.note("sandbox: not enforced here: \(gap)")
            }
            if let user = policy.user {
                try Self.handOver([scratch, scratch.appendingPathComponent("home"), scratch.appendingPathComponent("tmp")], to: user, recursive: false)
                try Self.handOver([data], to: user, recursive: true)
                // Multi-line credentials as files (0600): the job's user must read them.
                try Self.handOver([URL(fileURLWithPath: secrets)], to: user, recursive: true)
            }
            spec.limits = policy.rlimits
            if sandbox.enabled { spec.sandbox = policy }
            let held = try request.queued.map { _ in
                HeldStart(gate: try StartGate(), instant: record.startedAt ?? now(), places: request.places, ticket: request.place,
                          timed: request.startAt != nil, traffic: request.traffic, clock: now,
                          waitingForPlace: { requeued.value = (try? store.relaxed { try store.requeueJob(record.id) }) ?? false },
                          letGo: { at in
                              guard requeued.value else { return true }
                              return (try? store.relaxed { try store.restartJob(record.id, at: at) }) ?? true
                          })
            }
            run = try Supervisor.run(spec, timeout: limits.timeout, grace: grace, recorder: recorder,
                                     interruptFD: request.cancellation?.descriptor ?? interruptFD, cgroup: cgroup, held: held)
        } catch {
            recorder.note("could not start: \(error)")
            recorder.finish()
            return try complete(record, status: .failed, reason: "could not start: \(error)", run: nil, recorder: recorder)
        }
        recorder.finish()
        if request.queued != nil {
            // Held for an instant but let go later (no place was free then),
            // or never let go. (A job started as soon as it could counts
            // from when its readying began, as a manual run does.)
            let planned = record.startedAt ?? .distantPast
            if run.letGoAt.map({ request.startAt != nil && !requeued.value && $0.timeIntervalSince(planned) > 0.001 }) ?? true {
                _ = try? store.relaxed { try store.recordStart(record.id, at: run.letGoAt) }
            }
        }
        var (status, reason) = Self.outcome(of: run, limits: limits)
        if status == .cancelled {
            // Who asked: `runbook cancel` (its reason is in the store), else the host.
            if let why = (try? store.cancelRequest(record.id)) ?? request.cancellation?.reason { reason = why }
        }
        return try complete(record, status: status, reason: reason, run: run, recorder: recorder)
    }

    /// The credentials a job gets: only those its header declares, from
    /// `[name@test]` for dry runs where the file has one.
    private func credentials(for job: NewJob, settings: RunbookSettings) throws -> CredentialInjection {
        guard !settings.credentials.isEmpty else { return CredentialInjection() }
        let file = try CredentialsFile.load(path: workspace.credentials.path, displayPath: workspace.display(workspace.credentials))
        return try CredentialInjection.plan(
            runbook: job.runbook, credentials: settings.credentials, parameters: settings.parameters.map(\.name), file: file,
            test: job.trigger == .test, resolver: .host(environment: hostEnvironment, directory: workspace.root.path))
    }

    /// The path with symbolic links resolved (the mount plan works on real
    /// paths), or as given if it does not exist.
    static func realPath(_ url: URL) -> String {
        guard let resolved = realpath(url.path, nil) else { return url.path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Gives the job's own directories to the user it runs as. `RUNBOOK_DATA`
    /// is handed over whole when its top is not the user's yet (data a
    /// root-run job left).
    static func handOver(_ directories: [URL], to user: HostSandbox.JobUser, recursive: Bool) throws {
        for directory in directories {
            var info = stat()
            guard lstat(directory.path, &info) == 0, info.st_uid != user.uid || info.st_gid != user.gid else { continue }
            let paths = [directory.path] + (recursive ? descendants(of: directory.path) : [])
            for path in paths where lchown(path, user.uid, user.gid) != 0 {
                throw RunError("cannot give \(path) to the job user \(user.name): \(Errno.current)")
            }
        }
    }

    /// Every path below `directory`, without following symbolic links (a
    /// job's link to elsewhere must not hand elsewhere over).
    static func descendants(of directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var paths: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name != ".", name != ".." else { continue }
            let path = directory + "/" + name
            paths.append(path)
            var info = stat()
            if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { paths += descendants(of: path) }
        }
        return paths
    }

    /// The status and the reason, in words, of a supervised run. A job that
    /// hit a cgroup limit (a process OOM-killed, a fork refused) is
    /// `limit-exceeded` with that limit, whatever its exit code: some of
    /// its work did not happen.
    static func outcome(of run: SupervisedRun, limits: JobLimits) -> (JobStatus, String) {
        if run.cancelledBy == nil {
            if run.oomKills > 0 {
                let limit = limits.memory.map { " of \(ByteSize.format(bytes: $0))" } ?? ""
                return (.limitExceeded, "memory limit\(limit) exceeded (\(run.oomKills) process\(run.oomKills == 1 ? "" : "es") killed)")
            }
            if run.refusedForks > 0 {
                let limit = limits.processes.map { " of \($0)" } ?? ""
                return (.limitExceeded, "processes limit\(limit) exceeded (\(run.refusedForks) forks refused)")
            }
        }
        if run.timedOut { return (.timedOut, "timed out after \(DurationText.format(seconds: limits.timeout))") }
        if let signal = run.cancelledBy {
            return (.cancelled, signal == JobCancellation.requestSignal ? "cancelled with runbook cancel" : "cancelled by \(signalName(signal))")
        }
        switch run.termination {
        case .exited(0): return (.succeeded, "exit code 0")
        case .exited(let code): return (.failed, "exit code \(code)")
        case .signalled(let signal) where signal == SIGXCPU:
            return (.limitExceeded, "cpu limit of \(DurationText.format(seconds: limits.cpu ?? 0)) exceeded (SIGXCPU)")
        case .signalled(let signal) where signal == SIGXFSZ:
            let limit = limits.fileSize.map { " of \(ByteSize.format(bytes: $0))" } ?? ""
            return (.limitExceeded, "file size limit\(limit) exceeded (SIGXFSZ)")
        case .signalled(let signal): return (.failed, "killed by \(signalName(Int32(signal)))")
        case .couldNotStart(let why): return (.failed, why)
        }
    }

    private func complete(_ record: JobRecord, status: JobStatus, reason: String, run: SupervisedRun?, recorder: OutputRecorder?) throws -> JobRecord {
        var exitCode: Int?, signal: Int?
        switch run?.termination {
        case .exited(let code): exitCode = code
        case .signalled(let number): signal = number
        default: break
        }
        // A cancelled job is recorded with the signal that cancelled it, so
        // `runbook run` exits 128+N for it (130 for Ctrl-C).
        if status == .cancelled, let cancelledBy = run?.cancelledBy {
            exitCode = nil
            // `runbook cancel` stops the job with SIGTERM: 143, as for `kill`.
            signal = Int(cancelledBy == JobCancellation.requestSignal ? SIGTERM : cancelledBy)
        }
        let completion = JobCompletion(
            status: status, reason: reason, exitCode: exitCode, signal: signal, endedAt: run?.endedAt ?? now(),
            peakMemoryKB: run?.peakMemoryKB, cpuMicroseconds: run?.cpuMicroseconds,
            outputBytes: recorder?.recordedBytes ?? 0, truncated: recorder?.truncated ?? false,
            userCPUMicroseconds: run?.userMicroseconds, systemCPUMicroseconds: run?.systemMicroseconds)
        // A job that ran while the database was away is still recorded
        // when it comes back: its output first, so a record that says the
        // job ended can always show it.
        do {
            return try recordCompletion(record, completion, recorder: recorder)
        } catch where StoreError.isUnavailable(error) {
            // The job ran: after this, nobody may take it for one that never started.
            throw StoreError(.query, "job #\(record.id) ended \(status.rawValue) but the database stayed unreachable for \(Int(Self.recordRetryTime))s, so its result was not recorded: \(error)")
        }
    }

    private func recordCompletion(_ record: JobRecord, _ completion: JobCompletion, recorder: OutputRecorder?) throws -> JobRecord {
        try StoreRetry.whileUnavailable(for: Self.recordRetryTime) {
            if store.isShared, recorder != nil {
                // A copy that fails for good (not an outage) leaves the log on
                // this machine only; it must not cost the job its record.
                do { try store.shipOutput(of: record.id, from: logFile(for: record.id)) } catch where !StoreError.isUnavailable(error) {}
            }
            if syncEachCompletion {
                try store.completeJob(record.id, completion)
            } else {
                _ = try store.relaxed { try store.completeJob(record.id, completion) }
            }
            return try store.job(record.id) ?? record
        }
    }

    /// How long a finished job waits for an unreachable database to record
    /// its result before giving up (the job is then `interrupted` for good).
    static let recordRetryTime: TimeInterval = 600

    /// `RUNBOOK_LAST_SUCCESS`: for a scheduled job, the slot of its
    /// schedule's last success; otherwise the start of the runbook's last
    /// successful run of the same kind (tests count only tests).
    private func lastSuccess(of job: NewJob) throws -> Date? {
        if let schedule = job.schedule {
            let last = try store.jobs(JobFilter(runbook: job.runbook, status: .succeeded, schedule: schedule, limit: 1)).first
            return last?.slot ?? last?.startedAt
        }
        let trigger: JobTrigger = job.trigger == .test ? .test : .manual
        return try store.jobs(JobFilter(runbook: job.runbook, status: .succeeded, trigger: trigger, limit: 1)).first?.startedAt
    }

    /// The exit code `runbook test`/`run` ends with: the job's own, 124 on
    /// timeout, 128+N when killed by signal N (130 when cancelled by Ctrl-C).
    public static func exitCode(of record: JobRecord) -> Int32 {
        switch record.status {
        case .succeeded: return 0
        case .timedOut: return 124
        default:
            if let signal = record.signal { return Int32(128 + signal) }
            if let code = record.exitCode { return Int32(code) }
            return 1
        }
    }
}

/// A yes-or-no that closures on the job's own thread set.
private final class Flag {
    var value = false
}
