import FoundationEssentials
import Glibc

/// How `runbook serve` runs.
public struct HostOptions: Sendable {
    /// Jobs running at once, at most (default: cores × 4).
    public var maxConcurrent = ProcessInfo.processInfo.activeProcessorCount * 4
    /// How long before its instant a scheduled job is readied: its slot
    /// claimed and recorded, its sandbox and runbook-init made, held at the
    /// start gate (`StartGate`) so that at the instant only the runbook's
    /// own program starts. At most 3 × `maxConcurrent` jobs are held so.
    public var readyAhead: TimeInterval = 0.25
    /// Seconds running jobs get to finish after SIGTERM before they are stopped.
    public var grace = 30
    /// How often schedules/ is checked for changes.
    public var reloadInterval: TimeInterval = 2
    /// How often the host records that it is alive, at most (a third of
    /// the lease when that is shorter).
    public var heartbeatInterval: TimeInterval = 5
    /// How long a host's jobs stay its own without a heartbeat: past it, the
    /// other hosts on the store mark its running jobs `interrupted` (and
    /// retry them as their schedule says) and run its queued ones.
    public var lease: TimeInterval = 30
    /// The zone of schedules that name none.
    public var defaultTimeZone: TimeZone = .current
    /// A Prometheus textfile to keep up to date (`--metrics`).
    public var metricsFile: URL?
    /// An HTML report to keep up to date (`--report`), of the last `reportWindow` seconds.
    public var reportFile: URL?
    public var reportWindow = 7 * 86_400
    /// Each runbook's job history to keep; nil keeps everything.
    public var retention: (@Sendable (String) -> Retention)?

    public init() {}
}

/// The job service: fires every schedule's slots at their instants from the
/// published revision, exactly once, with overlap, catch-up, jitter, retry
/// and on-failure policies applied (DESIGN §6).
///
/// One actor owns all scheduling state. A single timer (`FireQueue`, a
/// min-heap of next fire instants) decides when the loop wakes; there is no
/// per-schedule polling. Every slot is claimed in the store (a unique row)
/// before its job is recorded, so a restarted host or a second host on the
/// same state never fires it again. Jobs run on threads of their own, at
/// most `maxConcurrent` at once, taken round-robin across runbooks.
///
/// Hosts on several machines share one PostgreSQL store: each fires every
/// schedule and the store's claim decides who runs a slot. Each host
/// heartbeats; a host whose lease runs out has its jobs taken over by the
/// others. When the database goes away the host stops claiming, keeps its
/// running jobs (their results are written when it is back), and resumes
/// by itself; slots that fell due meanwhile go through catch-up.
public actor Host {
    public let workspace: Workspace
    let store: any Store
    let runner: JobRunner
    let options: HostOptions
    let log: @Sendable (String) -> Void
    let now: @Sendable () -> Date
    let notifier: SystemdNotifier
    let hostID: String
    private let wake: WakeSignal

    /// A schedule the host fires: its last good file and where it stands.
    struct Tracked {
        var file: ScheduleFile
        /// The newest slot handled (run, skipped or missed).
        var cursor: Date
        var generation: Int
        /// Jobs of overlap = queue waiting for the running one to end.
        var pending: Work?
    }

    /// A job the host has queued, to run when a place is free.
    struct Work: Sendable {
        var record: JobRecord
        var schedule: ScheduleFile?
        var parameters: [String: String]
        var extraEnvironment: [String: String] = [:]
        /// The first attempt's job, which retries link to.
        var root: JobID
        /// Made as the job starts: a waiting job holds no descriptors (10,000
        /// slots due at once would otherwise need 20,000).
        var cancellation: JobCancellation? = nil
        /// When the job's program is to start, for a job readied ahead of
        /// its instant; nil for as soon as a place is free.
        var startAt: Date? = nil
        /// The place a job to start at once holds from its readying on.
        var place: JobPlaces.Ticket? = nil
    }

    private var schedules: [String: Tracked] = [:]
    private var nextGeneration = 0
    private var fireQueue = FireQueue()
    private var delayedRetries: [JobID: Work] = [:]
    private var waiting: [String: FIFO<Work>] = [:]
    private var rotation: [String] = []
    /// Jobs handed to a thread: readied and held, running, or being recorded.
    private var running: [JobID: Work] = [:]
    /// Jobs to ready now for an instant just ahead (`readyAhead`).
    private var readied: [Work] = []
    /// At most `maxConcurrent` jobs' programs run at once (the threads take
    /// and give back places themselves, to the microsecond).
    private let places: JobPlaces
    /// Jobs due now that have not started yet: finished jobs' clearing up
    /// waits for them (nil if no timer could be made: then it does not wait).
    private let traffic: StartTraffic?
    private var stopRequested: Int32?
    private var lastReload = Date.distantPast
    private var lastHeartbeat = Date.distantPast
    private var directorySignature: [String: String] = [:]
    private var reportedErrors: [String: String] = [:]
    private var unpublishedReported: Set<String> = []
    /// Jobs ended since the store was last synced.
    private var unsyncedCompletions = 0
    /// A group commit is under way (`syncCompletions(in:)`).
    private var syncing = false
    private var startedAt = Date()
    private var reporting: HostReporting
    private var lastPublishError: String?
    /// Since when the store has been unreachable, nil while it answers.
    private var storeDownSince: Date?
    /// Since when the store has answered without a break: only a host that
    /// has been connected for a whole lease judges other hosts' leases
    /// (after an outage every host needs time to beat again).
    private var connectedSince = Date()
    /// Which runbooks have a published revision, as read at this wake.
    private var publishedThisWake: [String: Bool] = [:]

    public init(workspace: Workspace, store: any Store, runner: JobRunner, options: HostOptions,
                environment: [String: String], log: @escaping @Sendable (String) -> Void, now: @escaping @Sendable () -> Date) {
        self.workspace = workspace
        self.store = store
        var runner = runner
        runner.syncEachCompletion = false
        self.runner = runner
        self.options = options
        self.log = log
        self.now = now
        notifier = SystemdNotifier(environment: environment)
        // Unique across machines that share a hostname (containers) and pid.
        hostID = "\(runner.hostName):\(getpid()):\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        reporting = HostReporting(options: options)
        let wake = WakeSignal()
        self.wake = wake
        places = JobPlaces(limit: options.maxConcurrent) { wake.signal() }
        traffic = try? StartTraffic()
    }

    /// Asks the host to stop: no more slots fire; running jobs get the grace
    /// period, then are cancelled.
    public func stop(signal: Int32) {
        guard stopRequested == nil else { return }
        stopRequested = signal
        log("received \(signalName(signal)): no more slots will fire; waiting up to \(options.grace)s for \(running.count) running job(s)")
        notifier.notify("STOPPING=1")
        wake.signal()
    }

    /// Runs until `stop(signal:)`.
    public func run() async throws {
        startedAt = now()
        connectedSince = startedAt
        try store.registerHost(id: hostID, hostname: runner.hostName, pid: Int(getpid()), at: startedAt)
        for id in try OrphanSweep.run(store: store, hostName: runner.hostName, now: startedAt) {
            log("job #\(id) was left running by a host or runbook process that died: marked interrupted")
        }
        reload(force: true)
        log("started (pid \(getpid()), \(schedules.count) schedule(s), at most \(options.maxConcurrent) jobs at once, state \(workspace.state.path))")
        notifier.notify("READY=1\nSTATUS=firing \(schedules.count) schedule(s)")

        await withDiscardingTaskGroup { group in
            while stopRequested == nil {
                let current = now()
                if current.timeIntervalSince(lastReload) >= options.reloadInterval { reload(force: false) }
                if current.timeIntervalSince(lastHeartbeat) >= heartbeatInterval {
                    heartbeat()
                    expireLeases()
                }
                if storeDownSince == nil {
                    fireDue(now: current)
                    // Jobs first: the group commit of completions waits for
                    // the disk (milliseconds here), and nothing a job needs
                    // to start depends on it (its slot's claim was synced by
                    // fireDue).
                    startWaiting(in: &group)
                    syncCompletions(in: &group)
                    publish(in: &group)
                }
                await wake.wait(timeout: sleepDuration())
            }
            // Stopping: let running jobs finish within the grace period.
            // A job readied for an instant just ahead is running by its
            // record (its slot is claimed): it starts at its instant and
            // has the grace period too.
            for work in waiting.values.flatMap({ $0 }) + Array(delayedRetries.values) + readied {
                _ = try? store.endQueuedJob(work.record.id, status: .cancelled, reason: "the host stopped before it started", at: now())
            }
            waiting = [:]
            delayedRetries = [:]
            readied = []
            let deadline = now().addingTimeInterval(Double(options.grace))
            while !running.isEmpty && now() < deadline {
                await wake.wait(timeout: .milliseconds(Int(max(1, deadline.timeIntervalSince(now()) * 1000))))
            }
            for work in running.values {
                work.cancellation?.cancel(reason: "cancelled: the host stopped (\(signalName(stopRequested ?? SIGTERM))) and the \(options.grace)s grace period ran out")
            }
        }
        syncCompletions()
        try? store.stopHost(id: hostID, at: now())
        publishFinal()
        log("stopped")
    }

    // MARK: Timing

    /// How often the host beats: a third of the lease at most, and while
    /// the store is away every second (the beat is what finds it back).
    private var heartbeatInterval: TimeInterval {
        storeDownSince != nil ? 1 : min(options.heartbeatInterval, options.lease / 3, notifier.watchdogInterval ?? .infinity)
    }

    private func sleepDuration() -> Duration {
        let current = now()
        var until = current.addingTimeInterval(min(options.reloadInterval, heartbeatInterval))
        if storeDownSince == nil, let earliest = fireQueue.earliest, earliest < until { until = earliest }
        if let publish = reporting.nextDeadline(), publish < until { until = publish }
        let seconds = max(0, until.timeIntervalSince(current))
        return .microseconds(Int64(seconds * 1_000_000))
    }

    /// Fires every entry of the timer that is due.
    private func fireDue(now current: Date) {
        var due: [(String, Tracked)] = []
        var later: [FireQueue.Entry] = []
        while let entry = fireQueue.popDue(now: current) {
            switch entry.key {
            case .schedule(let name):
                guard let tracked = schedules[name], tracked.generation == entry.generation else { continue }
                if let instant = entry.instant, instant > current, isBusy(name) {
                    // A job of this schedule is still about: its overlap policy
                    // and RUNBOOK_LAST_SUCCESS are decided at the instant itself.
                    later.append(.init(at: instant, key: entry.key, generation: entry.generation))
                    continue
                }
                due.append((name, tracked))
            case .retry(let id):
                guard let work = delayedRetries.removeValue(forKey: id) else { continue }
                enqueue(work)
            }
        }
        later.forEach { fireQueue.push($0) }
        guard !due.isEmpty else { return }
        publishedThisWake = [:]
        // One order on every host: two hosts claiming the same slots in
        // different orders could each wait for a row the other holds.
        due.sort { $0.0 < $1.0 }
        // Everything due at this wake commits in one transaction: slot
        // claims with their job records, one disk sync for all of them (a
        // minute's schedules often share a second). If the store fails, the
        // slots stay unclaimed and are tried again a second later.
        let before = schedules
        var queued: [Work] = []
        do {
            try store.transaction {
                for (name, tracked) in due { try handle(name, tracked: tracked, now: current, queued: &queued) }
            }
        } catch {
            if !storeFailed(error) {
                log("could not record the slots due at \(Timestamp.utc(current)) (\(due.map(\.0).joined(separator: ", "))): \(error); trying again")
            }
            schedules = before
            for (name, tracked) in due {
                fireQueue.push(.init(at: current.addingTimeInterval(1), key: .schedule(name), generation: tracked.generation))
            }
            return
        }
        for (name, _) in due { arm(name) }
        // Jobs due at the same instant are readied round-robin across
        // runbooks: should places run short at the instant, they are handed
        // out in this order.
        for work in Self.interleavedByRunbook(queued) {
            if let startAt = work.startAt, startAt > current, heldAhead(at: current) + readied.count < 3 * options.maxConcurrent {
                readied.append(work)
            } else {
                enqueue(work)
            }
        }
    }

    /// `work` with each runbook's jobs taking turns, in their order.
    static func interleavedByRunbook(_ work: [Work]) -> [Work] {
        var lines: [String: [Work]] = [:]
        var order: [String] = []
        for item in work {
            if lines[item.record.runbook] == nil { order.append(item.record.runbook) }
            lines[item.record.runbook, default: []].append(item)
        }
        var result: [Work] = []
        result.reserveCapacity(work.count)
        var round = 0
        while result.count < work.count {
            for runbook in order where round < lines[runbook]!.count { result.append(lines[runbook]![round]) }
            round += 1
        }
        return result
    }

    /// Whether a job of schedule `name` is in this host: waiting, readied,
    /// running, pending behind one, or a retry waiting for its delay.
    private func isBusy(_ name: String) -> Bool {
        if schedules[name]?.pending != nil { return true }
        if running.values.contains(where: { $0.schedule?.name == name }) { return true }
        if delayedRetries.values.contains(where: { $0.schedule?.name == name }) { return true }
        guard let runbook = schedules[name]?.file.runbook, let line = waiting[runbook] else { return false }
        return line.contains { $0.schedule?.name == name }
    }

    /// Jobs readied ahead and held for an instant still to come.
    private func heldAhead(at current: Date) -> Int {
        running.values.count { ($0.startAt ?? .distantPast) > current }
    }

    /// Plans the due slots of one schedule and records them (inside the
    /// caller's transaction); the jobs to start are added to `queued`.
    private func handle(_ name: String, tracked: Tracked, now current: Date, queued: inout [Work]) throws {
        var tracked = tracked
        defer { schedules[name] = tracked }
        let file = tracked.file
        let published = try isPublished(file.runbook)
        guard file.enabled, published else {
            // Only enabled schedules of published runbooks fire; their slots
            // meanwhile are not a backlog.
            if file.enabled && !unpublishedReported.contains(name) {
                unpublishedReported.insert(name)
                log("schedule \(name): runbook \(file.runbook) has no published revision, so its slots do not fire (runbook publish \(file.runbook))")
            }
            tracked.cursor = max(tracked.cursor, current)
            return
        }
        unpublishedReported.remove(name)
        // Planned as of the slot's instant, which may be a moment ahead
        // (`readyAhead`): the slot is due then.
        let asOf = max(current, file.schedule.nextFireDate(after: tracked.cursor).flatMap { next in
            next <= current.addingTimeInterval(options.readyAhead) ? next : nil
        } ?? current)
        let plan = CatchUpPlanner.plan(file.schedule, after: tracked.cursor, now: asOf, policy: file.catchUp,
                                       window: Double(file.catchUpWindow))
        if let missed = plan.missed {
            try recordMissed(file, missed)
            tracked.cursor = max(tracked.cursor, missed.last)
        }
        for slot in plan.run {
            tracked.cursor = max(tracked.cursor, slot)
            guard try store.claimSlot(schedule: name, slot: slot, host: hostID, at: now()) else {
                log("schedule \(name): slot \(Timestamp.utc(slot)) was already claimed by another host")
                continue
            }
            if var work = try fire(file, slot: slot, tracked: &tracked) {
                let instant = slot.addingTimeInterval(Double(jitterDelay(slot: slot, scheduleName: name, bound: file.jitter)))
                if instant > current { work.startAt = instant }
                queued.append(work)
            }
        }
    }

    /// Whether `runbook` has a published revision, asked once per runbook
    /// per wake: 10,000 schedules of one runbook due at once are one query,
    /// not 10,000 (a round trip each to a shared database).
    private func isPublished(_ runbook: String) throws -> Bool {
        if let known = publishedThisWake[runbook] { return known }
        let published = try store.publishedRevision(of: runbook) != nil
        publishedThisWake[runbook] = published
        return published
    }

    /// Puts the schedule's next slot on the timer: its job is readied
    /// `readyAhead` before the slot plus its jitter.
    private func arm(_ name: String) {
        guard let tracked = schedules[name], let next = tracked.file.schedule.nextFireDate(after: tracked.cursor) else { return }
        let instant = next.addingTimeInterval(Double(jitterDelay(slot: next, scheduleName: name, bound: tracked.file.jitter)))
        fireQueue.push(.init(at: instant.addingTimeInterval(-options.readyAhead), key: .schedule(name),
                             generation: tracked.generation, instant: instant))
    }

    private func recordMissed(_ file: ScheduleFile, _ missed: CatchUpPlanner.Missed) throws {
        guard try store.claimSlot(schedule: file.name, slot: missed.first, until: missed.last, host: hostID, at: now()) else { return }
        var job = NewJob(runbook: file.runbook, revision: nil, snapshot: nil, trigger: .schedule)
        job.schedule = file.name
        job.slot = missed.first
        let range = missed.count == 1 ? "the slot at \(Timestamp.utc(missed.first))"
            : "\(missed.count) slots from \(Timestamp.utc(missed.first)) to \(Timestamp.utc(missed.last))"
        let reason = "missed: \(range) fell due while no host was running (catch-up = \(file.catchUp.rawValue), window \(DurationText.format(seconds: file.catchUpWindow)))"
        let record = try store.recordEndedJob(job, status: .missed, reason: reason, host: runner.hostName, at: now())
        log("schedule \(file.name): \(reason) (job #\(record.id))")
    }

    // MARK: Firing

    /// Applies the overlap policy to a claimed slot and records its job;
    /// returns the work to queue once the records are committed.
    private func fire(_ file: ScheduleFile, slot: Date, tracked: inout Tracked) throws -> Work? {
        var job = NewJob(runbook: file.runbook, revision: nil, snapshot: nil, trigger: .schedule)
        job.schedule = file.name
        job.slot = slot
        let parameters = Dictionary(file.parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        job.parameters = parameters
        // Only the policies that look at other jobs read them: with `allow`,
        // a backlog of thousands of slots must not read the queue per slot.
        let active = file.overlap == .allow ? [] : try store.activeJobs(schedule: file.name)
        let busy = active.first { $0.status == .running } ?? active.first
        switch file.overlap {
        case .skip where busy != nil:
            let record = try store.recordEndedJob(job, status: .skipped,
                reason: "skipped: job #\(busy!.id) of this schedule was still \(busy!.status.rawValue) (overlap = skip)", host: runner.hostName, at: now())
            log("schedule \(file.name): slot \(Timestamp.utc(slot)) skipped, job #\(busy!.id) still \(busy!.status.rawValue) (job #\(record.id))")
            return nil
        case .queue where active.contains { $0.status == .queued }:
            let record = try store.recordEndedJob(job, status: .skipped,
                reason: "skipped: a run of this schedule is already queued (overlap = queue keeps one)", host: runner.hostName, at: now())
            log("schedule \(file.name): slot \(Timestamp.utc(slot)) skipped, one run already queued (job #\(record.id))")
            return nil
        case .replace:
            for other in active where other.status == .running {
                running[other.id]?.cancellation?.cancel(reason: "cancelled: replaced by the job for slot \(Timestamp.utc(slot)) (overlap = replace)")
            }
        default:
            break
        }
        let record = try store.enqueueJob(job, host: runner.hostName, ownerPID: Int(getpid()), ownerStart: ProcessIdentity.current, lease: hostID, at: now())
        let work = Work(record: record, schedule: file, parameters: parameters, root: record.id)
        if file.overlap == .queue, busy != nil {
            tracked.pending = work
            log("schedule \(file.name): slot \(Timestamp.utc(slot)) queued behind job #\(busy!.id) as job #\(record.id)")
            return nil
        }
        return work
    }

    /// Adds work to its runbook's line.
    private func enqueue(_ work: Work) {
        let runbook = work.record.runbook
        if waiting[runbook, default: FIFO()].isEmpty && !rotation.contains(runbook) { rotation.append(runbook) }
        waiting[runbook, default: FIFO()].append(work)
    }

    /// Readies the jobs due just ahead, then starts waiting jobs while
    /// places are free, one runbook after another.
    private func startWaiting(in group: inout DiscardingTaskGroup) {
        while !readied.isEmpty {
            guard launch(readied[0], in: &group) else { break }
            readied.removeFirst()
        }
        while !rotation.isEmpty {
            let runbook = rotation.removeFirst()
            guard var next = waiting[runbook]?.first else { waiting[runbook] = nil; continue }
            // A place first: no more jobs are readied than may run now.
            guard let place = try? JobPlaces.Ticket(), places.takeIfFree(place) else {
                rotation.insert(runbook, at: 0)
                break
            }
            next.place = place
            guard launch(next, in: &group) else {
                // Out of descriptors: the job waits until a running one ends.
                places.giveBack(place)
                rotation.insert(runbook, at: 0)
                break
            }
            // Taken in place: a copy of the line would copy every job in it.
            _ = waiting[runbook]?.popFirst()
            if waiting[runbook]?.isEmpty ?? true { waiting[runbook] = nil } else { rotation.append(runbook) }
        }
    }

    /// Hands `work` to a thread of its own; false when it cannot have its
    /// cancellation pipe (out of descriptors).
    private func launch(_ work: Work, in group: inout DiscardingTaskGroup) -> Bool {
        guard let cancellation = try? JobCancellation() else { return false }
        var readiedWork = work
        readiedWork.cancellation = cancellation
        let work = readiedWork
        running[work.record.id] = work
        let runner = self.runner, workspace = self.workspace, store = self.store, places = self.places, traffic = self.traffic
        group.addTask {
            let record = await runOnThread { Host.execute(work, runner: runner, workspace: workspace, store: store, places: places, traffic: traffic) }
            if let record {
                await self.finished(work, record: record)
            } else {
                await self.notStarted(work)
            }
        }
        return true
    }

    /// Runs one job to its end (blocking; on a thread of its own); nil
    /// when the store was unreachable before the job started.
    static func execute(_ work: Work, runner: JobRunner, workspace: Workspace, store: any Store, places: JobPlaces,
                        traffic: StartTraffic?) -> JobRecord? {
        // However it ends, its place (if it has one yet) is free again.
        defer { work.place.map(places.giveBack) }
        do {
            let (registry, _) = Catalog.runtimes(workspace)
            let published = try PublishedRunbook.load(work.record.runbook, workspace: workspace, store: store, registry: registry)
            let parameters = try ParameterBinding.resolve(declared: published.settings.parameters, given: work.parameters,
                                                          runbook: work.record.runbook)
            var job = published.job(trigger: work.record.trigger)
            job.schedule = work.record.schedule
            job.slot = work.record.slot
            job.attempt = work.record.attempt
            job.parent = work.record.parent
            var request = JobRunner.Request(job: job, runtime: published.runtime, settings: published.settings,
                                            parameters: parameters, echo: nil)
            request.queued = work.record
            request.cancellation = work.cancellation
            request.scheduledTime = work.record.slot
            request.extraEnvironment = work.extraEnvironment
            request.startAt = work.startAt
            request.places = places
            request.place = work.place
            request.traffic = traffic
            return try runner.run(request)
        } catch where StoreError.isUnavailable(error) {
            return nil
        } catch {
            _ = try? store.endQueuedJob(work.record.id, status: .failed, reason: "could not start: \(error)", at: Date())
            return (try? store.job(work.record.id)) ?? work.record
        }
    }

    /// A job that could not start because the store was away: it waits
    /// again, and starts once the store is back.
    private func notStarted(_ work: Work) {
        running[work.record.id] = nil
        var work = work
        work.cancellation = nil
        work.startAt = nil
        work.place = nil
        storeFailed(StoreError(.unavailable, "the database \(store.location) did not answer when job #\(work.record.id) was to start"))
        enqueue(work)
    }

    /// Books a finished job: retries, on-failure, the next queued run.
    private func finished(_ work: Work, record: JobRecord) {
        running[work.record.id] = nil
        unsyncedCompletions += 1
        reporting.jobEnded(record, now: now())
        defer { wake.signal() }
        let took = record.duration(now: now()).map(formatElapsed) ?? "-"
        let label = work.schedule.map { "schedule \($0.name)" } ?? "runbook \(record.runbook)"
        log("\(label): job #\(record.id) (\(record.trigger.rawValue), attempt \(record.attempt)) \(record.status.rawValue) in \(took): \(record.reason ?? "")")
        guard let file = work.schedule else { return }
        if let pending = schedules[file.name]?.pending, !running.values.contains(where: { $0.schedule?.name == file.name }) {
            schedules[file.name]?.pending = nil
            enqueue(pending)
        }
        guard [.failed, .timedOut, .limitExceeded].contains(record.status) else { return }
        followUp(record, file: file, root: work.root, parameters: work.parameters)
    }

    /// Queues what follows a job that did not succeed: the next attempt,
    /// or after the last one the schedule's on-failure runbook.
    private func followUp(_ record: JobRecord, file: ScheduleFile, root: JobID, parameters: [String: String]) {
        guard stopRequested == nil else { return }
        do {
            if record.attempt <= file.retries {
                let delay = Double(file.retryDelay) * pow(2, Double(record.attempt - 1))
                var job = NewJob(runbook: file.runbook, revision: nil, snapshot: nil, trigger: .retry)
                job.schedule = file.name
                job.slot = record.slot
                job.attempt = record.attempt + 1
                job.parent = root
                job.parameters = parameters
                let retry = try store.enqueueJob(job, host: runner.hostName, ownerPID: Int(getpid()), ownerStart: ProcessIdentity.current, lease: hostID, at: now())
                delayedRetries[retry.id] = Work(record: retry, schedule: file, parameters: parameters, root: root)
                fireQueue.push(.init(at: now().addingTimeInterval(delay), key: .retry(retry.id), generation: 0))
                log("schedule \(file.name): attempt \(job.attempt) of \(file.retries + 1) queued as job #\(retry.id), in \(DurationText.format(seconds: Int(delay)))")
            } else if let onFailure = file.onFailure {
                var job = NewJob(runbook: onFailure, revision: nil, snapshot: nil, trigger: .onFailure)
                job.schedule = file.name
                job.slot = record.slot
                job.parent = record.id
                let handler = try store.enqueueJob(job, host: runner.hostName, ownerPID: Int(getpid()), ownerStart: ProcessIdentity.current, lease: hostID, at: now())
                enqueue(Work(record: handler, schedule: nil, parameters: [:],
                             extraEnvironment: ["RUNBOOK_FAILED_JOB_ID": String(record.id.rawValue), "RUNBOOK_FAILED_RUNBOOK": record.runbook,
                                                "RUNBOOK_FAILED_STATUS": record.status.rawValue, "RUNBOOK_FAILED_REASON": record.reason ?? ""],
                             root: handler.id))
                log("schedule \(file.name): job #\(record.id) failed for good; on-failure runbook \(onFailure) queued as job #\(handler.id)")
            }
        } catch {
            log("schedule \(file.name): could not queue the follow-up of job #\(record.id): \(error)")
        }
    }

    // MARK: Live changes

    /// Re-reads schedules/ when a file was added, changed or removed. A file
    /// that no longer parses keeps its last good version running; its error
    /// is reported once per change.
    private func reload(force: Bool) {
        lastReload = now()
        let signature = Self.signature(of: workspace.schedules)
        guard force || signature != directorySignature else { return }
        directorySignature = signature
        let catalog = ScheduleCatalog.scan(workspace, defaultTimeZone: options.defaultTimeZone)
        var broken: Set<String> = []
        for problem in catalog.problems {
            guard let file = problem.location?.file else { continue }
            let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            broken.insert(name)
            let key = "\(name)@\(signature[name] ?? "")"
            if reportedErrors[name] != key {
                reportedErrors[name] = key
                let keeps = schedules[name] != nil ? "; the last good version keeps firing" : "; it does not fire until fixed"
                log("\(problem.description)\(keeps)")
            }
        }
        for name in schedules.keys where catalog.schedules[name] == nil && !broken.contains(name) {
            schedules[name] = nil
            log("schedule \(name) was removed: it no longer fires")
        }
        for (name, file) in catalog.schedules {
            reportedErrors[name] = nil
            if let existing = schedules[name], existing.file == file { continue }
            nextGeneration += 1
            let cursor: Date
            if let existing = schedules[name] {
                // A changed schedule starts from now: no backlog of the new spec.
                cursor = max(existing.cursor, now())
                log("schedule \(name) changed: \(file.schedule.text) (\(file.timeZone.identifier))")
            } else {
                cursor = ((try? store.lastClaimedSlot(schedule: name)) ?? nil) ?? (force ? startedAt : now())
                if !force { log("schedule \(name) added: \(file.schedule.text) (\(file.timeZone.identifier))") }
            }
            schedules[name] = Tracked(file: file, cursor: cursor, generation: nextGeneration, pending: schedules[name]?.pending)
            arm(name)
        }
    }

    /// Names and modification stamps of the schedule files. Read every
    /// reload interval, so straight from the directory (`fstatat` on its
    /// descriptor), without building a URL per file.
    private static func signature(of directory: URL) -> [String: String] {
        var signature: [String: String] = [:]
        guard let stream = opendir(directory.path) else { return signature }
        defer { closedir(stream) }
        let descriptor = dirfd(stream)
        while let entry = readdir(stream) {
            let file = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard file.hasSuffix(".schedule") else { continue }
            var info = stat()
            guard fstatat(descriptor, file, &info, 0) == 0 else { continue }
            signature[String(file.dropLast(".schedule".count))] = "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec):\(info.st_size):\(info.st_ino)"
        }
        return signature
    }

    // MARK: Reports

    /// Writes the metrics when due, and starts the report and the prune on
    /// a thread of their own when due.
    private func publish(in group: inout DiscardingTaskGroup) {
        let current = now()
        do {
            try reporting.writeMetrics(store: store, schedules: Array(schedules.keys), snapshot: metricsSnapshot(up: true), now: current, force: false)
        } catch {
            reportOnce("\(error)")
        }
        let (report, prune) = reporting.dueHousekeeping(now: current)
        guard report != nil || prune else { return }
        let store = self.store, workspace = self.workspace, retention = reporting.retention, window = reporting.reportWindow
        group.addTask {
            let messages = await runOnThread {
                Host.housekeep(store: store, workspace: workspace, report: report, window: window, retention: prune ? retention : nil, now: current)
            }
            await self.housekeepingDone(messages)
        }
    }

    /// Writes the report and prunes (blocking); returns what to log.
    static func housekeep(store: any Store, workspace: Workspace, report: URL?, window: Int,
                          retention: (@Sendable (String) -> Retention)?, now: Date) -> [String] {
        var messages: [String] = []
        if let retention {
            do {
                let result = try Pruner(store: store, logs: workspace.logs).prune(retention: retention, now: now)
                if result.jobs + result.strayLogs > 0 {
                    messages.append("pruned \(result.jobs) job(s) past their history setting and \(result.strayLogs) log(s) without a record")
                }
            } catch {
                messages.append("could not prune the job history: \(error)")
            }
        }
        if let report {
            do { try HTMLReport.build(store: store, workspace: workspace, window: window, now: now).write(to: report) } catch {
                messages.append("could not write the report \(report.path): \(error)")
            }
        }
        return messages
    }

    private func housekeepingDone(_ messages: [String]) {
        reporting.housekeeping = false
        messages.forEach(log)
        wake.signal()
    }

    /// The last metrics (host down) and report, as the host stops.
    private func publishFinal() {
        do {
            try reporting.writeMetrics(store: store, schedules: Array(schedules.keys), snapshot: metricsSnapshot(up: false), now: now(), force: true)
        } catch {
            reportOnce("\(error)")
        }
        if let file = reporting.reportFile {
            Host.housekeep(store: store, workspace: workspace, report: file, window: reporting.reportWindow, retention: nil, now: now()).forEach(log)
        }
    }

    private func metricsSnapshot(up: Bool) -> HostMetrics.Snapshot {
        HostMetrics.Snapshot(up: up, startedAt: startedAt, heartbeatAt: lastHeartbeat,
                             queued: waiting.values.reduce(0) { $0 + $1.count } + delayedRetries.count,
                             running: running.count, lastSuccess: [:])
    }

    /// Logs a failing write once, not once a second.
    private func reportOnce(_ message: String) {
        guard message != lastPublishError else { return }
        lastPublishError = message
        log("could not write the metrics file: \(message)")
    }

    /// Group commit: the completions recorded since the last wake are made
    /// durable with one disk sync.
    private func syncCompletions() {
        guard unsyncedCompletions > 0 else { return }
        unsyncedCompletions = 0
        do { try store.sync(hostID: hostID, at: now()) } catch { log("could not sync the job store: \(error)") }
    }

    /// The same, on a thread of its own while the loop goes on: the disk's
    /// wait (milliseconds here) must not hold up starting and booking jobs.
    /// One sync at a time; completions meanwhile wait for the next.
    private func syncCompletions(in group: inout DiscardingTaskGroup) {
        guard unsyncedCompletions > 0, !syncing else { return }
        unsyncedCompletions = 0
        syncing = true
        let store = self.store, hostID = self.hostID, at = now()
        group.addTask {
            let failure = await runOnThread { () -> String? in
                do { try store.sync(hostID: hostID, at: at); return nil } catch { return "\(error)" }
            }
            await self.synced(failure: failure)
        }
    }

    private func synced(failure: String?) {
        syncing = false
        if let failure { log("could not sync the job store: \(failure)") }
        if unsyncedCompletions > 0 { wake.signal() }
    }

    /// Stops the running jobs that `runbook cancel` asked to stop. Called on
    /// `JobCancellation.requestSignal` and at every heartbeat (a request
    /// from another machine arrives through the store alone).
    public func checkCancelRequests() {
        do {
            for (id, reason) in try store.cancelRequests(host: runner.hostName, ownerPID: Int(getpid())) {
                running[id]?.cancellation?.cancel(reason: reason)
            }
        } catch {
            log("could not read cancel requests: \(error)")
        }
    }

    private func heartbeat() {
        lastHeartbeat = now()
        if notifier.watchdogInterval != nil { notifier.notify("WATCHDOG=1") }
        let alive: Bool
        do { alive = try store.heartbeat(hostID: hostID, at: lastHeartbeat) } catch {
            if !storeFailed(error) { log("heartbeat failed: \(error)") }
            return
        }
        if let since = storeDownSince {
            storeDownSince = nil
            connectedSince = now()
            log("the database \(store.location) is back after \(formatElapsed(now().timeIntervalSince(since))): claiming slots again")
            resumeOwnQueuedJobs()
            wake.signal()
        }
        checkCancelRequests()
        if !alive {
            log("this host's lease had run out (no heartbeat for \(Int(options.lease))s): other hosts marked its running jobs interrupted and took its queued ones")
        }
    }

    /// Notes a failure of the store; returns true (and says so once) when
    /// the database is out of reach, which stops claiming until it is back.
    @discardableResult
    private func storeFailed(_ error: any Error) -> Bool {
        guard StoreError.isUnavailable(error) else { return false }
        if storeDownSince == nil {
            storeDownSince = now()
            log("\(error); no slots are claimed until it is back, running jobs go on")
        }
        return true
    }

    /// After an outage: queued jobs recorded as this host's whose record
    /// the host did not see committed (the connection broke at COMMIT) are
    /// run now rather than left queued.
    private func resumeOwnQueuedJobs() {
        var known = Set(running.keys).union(delayedRetries.keys)
        for work in waiting.values.joined() { known.insert(work.record.id) }
        for tracked in schedules.values { if let id = tracked.pending?.record.id { known.insert(id) } }
        do {
            for record in try store.queuedJobs(lease: hostID) where !known.contains(record.id) {
                log("job #\(record.id) was queued by this host as the database went away: running it now")
                take(record)
            }
        } catch {
            storeFailed(error)
        }
    }

    /// Ends the leases of hosts that stopped beating: their running jobs
    /// become `interrupted` (then retried as their schedule says), their
    /// queued jobs run here.
    private func expireLeases() {
        guard storeDownSince == nil, now().timeIntervalSince(connectedSince) >= options.lease else { return }
        let takeover: LeaseTakeover
        do {
            takeover = try store.expireHosts(heartbeatBefore: now().addingTimeInterval(-options.lease), by: hostID,
                                             hostname: runner.hostName, pid: Int(getpid()), at: now())
        } catch {
            if !storeFailed(error) { log("could not check other hosts' leases: \(error)") }
            return
        }
        for host in takeover.expiredHosts {
            log("host \(host) sent no heartbeat for \(Int(options.lease))s: its lease ran out, taking over its jobs")
        }
        for record in takeover.interrupted {
            log("job #\(record.id) (\(record.runbook)) was running on a host whose lease ran out: marked interrupted")
            guard let name = record.schedule, let file = schedules[name]?.file,
                  record.trigger == .schedule || record.trigger == .retry else { continue }
            followUp(record, file: file, root: record.parent ?? record.id, parameters: record.parameters)
        }
        for record in takeover.adopted {
            log("job #\(record.id) (\(record.runbook)) was queued on a host whose lease ran out: running it here")
            take(record)
        }
    }

    /// Queues a job recorded earlier (by this host or one that died) to run here.
    private func take(_ record: JobRecord) {
        let file = record.schedule.flatMap { schedules[$0]?.file }
        enqueue(Work(record: record, schedule: record.trigger == .onFailure ? nil : file, parameters: record.parameters,
                     root: record.parent ?? record.id))
    }
}
