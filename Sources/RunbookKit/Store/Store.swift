import FoundationEssentials

/// Everything runbook keeps: revisions and their content, publications,
/// jobs and their output, slot claims, and the hosts' heartbeats.
///
/// Two implementations: `SQLiteStore`, a file in the state directory (the
/// default, for one machine), and `PostgresStore`, one database that the
/// hosts of several machines share (`RUNBOOK_DATABASE`, `--database`).
/// Both keep the same promises, checked by one shared suite of tests:
/// a slot is claimed once whoever asks, a final job record never changes,
/// and a host's unfinished jobs outlive neither its process nor its lease.
///
/// Methods throw `StoreError`; `.unavailable` means the database could not
/// be reached (try again later), everything else is final.
public protocol Store: AnyObject, Sendable {
    /// Where the data lives, for messages: a file, or a URL without its password.
    var location: String { get }
    /// True when hosts on other machines may share this store: a job's
    /// output is then copied into it so any machine can show it.
    var isShared: Bool { get }

    /// Runs `body` in one write transaction; a transaction begun inside
    /// another joins it.
    func transaction<T>(_ body: () throws -> T) throws -> T
    /// Runs `body` with commits that survive a crash of runbook but may be
    /// lost in a power failure until the next ordinary commit (`sync`): for
    /// records a later one restores.
    @discardableResult
    func relaxed<T>(_ body: () throws -> T) throws -> T

    // MARK: Revisions

    /// Every revision of `runbook`, oldest first.
    func revisions(of runbook: String) throws -> [Revision]
    func revision(of runbook: String, number: Int) throws -> Revision?
    /// Adds a revision with the next number for its runbook; call inside a
    /// transaction. Returns the number given.
    func addRevision(runbook: String, hash: String, filename: String, origin: Revision.Origin, at: Date,
                     user: String, message: String?, gitCommit: String?, gitDirty: Bool?) throws -> Int
    /// Records a change of the live revision (or a retirement).
    func addPublication(_ publication: Publication) throws
    /// Every publication of `runbook`, oldest first.
    func publications(of runbook: String) throws -> [Publication]
    /// The latest publication of every runbook that was ever published, by name.
    func livePublications() throws -> [String: Publication]
    /// The published revision of `runbook`, nil if never published or retired.
    func publishedRevision(of runbook: String) throws -> Revision?
    /// Keeps the content of a revision under its SHA-256 `hash`; storing
    /// the same content again changes nothing.
    func saveSnapshot(_ data: Data, hash: String) throws
    /// The content stored under `hash`, nil if none.
    func snapshot(hash: String) throws -> Data?

    // MARK: Jobs

    /// Records a job as `running`, owned by `host` and `ownerPID`, before
    /// its process starts. `ownerStart` is the owner's `ProcessIdentity`, so
    /// a reused pid is never taken for the owner. Not synced on its own.
    func startJob(_ job: NewJob, host: String, ownerPID: Int, ownerStart: String?, at: Date) throws -> JobRecord
    /// Records a job that ends before it starts (a missing credential, a
    /// skipped slot): it still gets a record saying why.
    func recordEndedJob(_ job: NewJob, status: JobStatus, reason: String, host: String, at: Date) throws -> JobRecord
    /// Writes how a running job ended; false when it was already final
    /// (marked `interrupted` by another process, say), which stays.
    @discardableResult
    func completeJob(_ id: JobID, _ completion: JobCompletion) throws -> Bool
    func job(_ id: JobID) throws -> JobRecord?
    /// Jobs matching `filter`, newest first.
    func jobs(_ filter: JobFilter) throws -> [JobRecord]
    /// Jobs still `running` or `queued` that the machine `host` owns.
    func unfinishedJobs(host: String) throws -> [JobRecord]
    /// Marks a job that nobody will finish as `interrupted`, with why.
    @discardableResult
    func interruptJob(_ id: JobID, reason: String, at: Date) throws -> Bool
    func jobCount() throws -> Int
    /// Records a job as `queued` for the host process `ownerPID`; `lease`
    /// is the id of the serving host that will run it, whose heartbeat
    /// keeps it (nil for jobs no host owns).
    func enqueueJob(_ job: NewJob, host: String, ownerPID: Int, ownerStart: String?, lease: String?, at: Date) throws -> JobRecord
    /// Moves a queued job to `running`; nil when it is no longer queued.
    func markRunning(_ id: JobID, revision: Int?, snapshot: String?, ownerPID: Int, ownerStart: String?, at: Date) throws -> JobRecord?
    /// Moves a running job that has not started after all back to `queued`
    /// (readied, it waits for a place); false when it is not running.
    func requeueJob(_ id: JobID) throws -> Bool
    /// Moves such a job to `running` again as it starts; false when it is
    /// no longer queued (cancelled meanwhile).
    func restartJob(_ id: JobID, at: Date) throws -> Bool
    /// Corrects when a running job's program started: later than recorded
    /// (it waited for a place), or nil when it never did (cancelled first).
    func recordStart(_ id: JobID, at: Date?) throws
    /// Ends a queued job without running it (skipped, cancelled, failed to start).
    @discardableResult
    func endQueuedJob(_ id: JobID, status: JobStatus, reason: String, at: Date) throws -> Bool
    /// The latest job each schedule fired (for `runbook schedules`), by schedule.
    func latestScheduledJobs() throws -> [String: JobRecord]
    /// Jobs of `schedule` still queued or running, on any host.
    func activeJobs(schedule: String) throws -> [JobRecord]
    /// Queued jobs whose lease is `hostID`.
    func queuedJobs(lease hostID: String) throws -> [JobRecord]

    // MARK: Output

    /// Makes the recorded output of job `id` (the log file `file`) readable
    /// from every machine that shares the store. SQLite's store is the
    /// machine's own, where the file already is.
    func shipOutput(of id: JobID, from file: URL) throws
    /// The recorded output of job `id` as `shipOutput` kept it, nil if none.
    func output(of id: JobID) throws -> Data?

    // MARK: Slots

    /// Claims `slot` of `schedule` (covering every slot up to `until`) for
    /// `host`. Exactly one caller, in any process on any machine, gets true
    /// for a given (schedule, slot).
    func claimSlot(schedule: String, slot: Date, until: Date?, host: String, at: Date) throws -> Bool
    /// The last slot of `schedule` any host has claimed, nil if none.
    func lastClaimedSlot(schedule: String) throws -> Date?
    /// Every claimed slot of `schedule`, oldest first.
    func claimedSlots(schedule: String) throws -> [Date]

    // MARK: Hosts

    func registerHost(id: String, hostname: String, pid: Int, at: Date) throws
    /// Records that host `hostID` is alive; false when its lease had
    /// already expired (others took its jobs over); it is registered again.
    @discardableResult
    func heartbeat(hostID: String, at: Date) throws -> Bool
    /// Makes every record written so far durable (one small synced commit).
    func sync(hostID: String, at: Date) throws
    func stopHost(id: String, at: Date) throws
    /// Hosts by latest heartbeat first.
    func hosts() throws -> [HostRecord]
    /// Ends the lease of every host but `hostID` whose last heartbeat is
    /// older than `cutoff`: their running jobs are marked `interrupted`
    /// and their queued jobs pass to `hostID` (locked rows are skipped, so
    /// hosts sweeping at once never take one job twice).
    func expireHosts(heartbeatBefore cutoff: Date, by hostID: String, hostname: String, pid: Int, at: Date) throws -> LeaseTakeover

    // MARK: Reports and retention

    /// Asks whoever runs job `id` to stop it: a queued job ends `cancelled`
    /// at once; a running one keeps `reason` in `cancel_requested` until its
    /// owner stops it and records it. Returns the job as it now stands.
    func requestCancel(_ id: JobID, reason: String, at: Date) throws -> JobRecord?
    /// Why job `id` was asked to stop, if it was.
    func cancelRequest(_ id: JobID) throws -> String?
    /// The running jobs of the process `ownerPID` on `host` that someone
    /// asked to stop, with why.
    func cancelRequests(host: String, ownerPID: Int) throws -> [(JobID, String)]
    /// Every job queued at or after `since`.
    func jobSamples(since: Date) throws -> [JobSample]
    /// The latest job of `runbook` with one of `statuses`.
    func latestJob(of runbook: String, statuses: [JobStatus]) throws -> JobRecord?
    /// The slot time of `schedule`'s latest successful job.
    func lastSuccessfulSlot(schedule: String) throws -> Date?
    /// How many jobs are in each unfinished status (queued, running).
    func unfinishedCounts() throws -> [JobStatus: Int]
    /// Every runbook that has jobs, in name order.
    func runbooksWithJobs() throws -> [String]
    /// The jobs of `runbook` that a retention of `keep` newest jobs and of
    /// jobs queued after `after` lets go, oldest first. Never an unfinished
    /// job, nor the runbook's latest failure.
    func expiredJobs(of runbook: String, keep: Int?, after: Date?) throws -> [JobID]
    /// Deletes the records of `ids` (and any copies of their output), in one
    /// transaction; local logs are the caller's to remove after this returns.
    func deleteJobs(_ ids: [JobID]) throws
    /// Deletes slot claims that ended before `before`, keeping each
    /// schedule's newest (where a restarted host resumes). Returns how many.
    func pruneSlots(before: Date) throws -> Int
    /// Which of `ids` have a record.
    func existingJobs(_ ids: [JobID]) throws -> Set<JobID>
}

/// One job of a window, as the overview counts it.
public struct JobSample: Sendable, Equatable {
    public var runbook: String
    public var status: JobStatus
    public var queuedAt: Date
    /// From start to end; nil for a job that has not run or not ended.
    public var duration: Double?
}

extension Store {
    public func startJob(_ job: NewJob, host: String, ownerPID: Int, at: Date) throws -> JobRecord {
        try startJob(job, host: host, ownerPID: ownerPID, ownerStart: nil, at: at)
    }

    public func claimSlot(schedule: String, slot: Date, host: String, at: Date) throws -> Bool {
        try claimSlot(schedule: schedule, slot: slot, until: nil, host: host, at: at)
    }

    /// The latest job of `runbook`, if any.
    public func latestJob(of runbook: String) throws -> JobRecord? {
        try jobs(JobFilter(runbook: runbook, limit: 1)).first
    }
}

/// A host's presence: started, still beating, or stopped.
public struct HostRecord: Sendable, Codable, Equatable {
    public var id: String
    public var hostname: String
    public var pid: Int
    public var startedAt: Date
    public var heartbeatAt: Date
    public var stoppedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, hostname, pid
        case startedAt = "started_at", heartbeatAt = "heartbeat_at", stoppedAt = "stopped_at"
    }
}

/// What `expireHosts` did.
public struct LeaseTakeover: Sendable, Equatable {
    /// Hosts whose lease ended now.
    public var expiredHosts: [String] = []
    /// Their running jobs, now `interrupted`.
    public var interrupted: [JobRecord] = []
    /// Their queued jobs, now the sweeping host's to run.
    public var adopted: [JobRecord] = []

    public init(expiredHosts: [String] = [], interrupted: [JobRecord] = [], adopted: [JobRecord] = []) {
        self.expiredHosts = expiredHosts
        self.interrupted = interrupted
        self.adopted = adopted
    }
}

/// Which jobs to list.
public struct JobFilter: Sendable, Equatable {
    public var runbook: String?
    /// Any of these statuses; empty for all.
    public var statuses: [JobStatus] = []
    public var schedule: String?
    public var trigger: JobTrigger?
    public var since: Date?
    public var limit: Int?

    public init(runbook: String? = nil, status: JobStatus? = nil, schedule: String? = nil,
                trigger: JobTrigger? = nil, since: Date? = nil, limit: Int? = nil) {
        self.runbook = runbook
        self.statuses = status.map { [$0] } ?? []
        self.schedule = schedule
        self.trigger = trigger
        self.since = since
        self.limit = limit
    }
}
