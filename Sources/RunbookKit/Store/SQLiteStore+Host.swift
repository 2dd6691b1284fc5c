import Foundation

/// What the host keeps: slot claims, queued jobs, heartbeats.
extension SQLiteStore {
    // MARK: Slots

    /// Claims `slot` of `schedule` (covering every slot up to `until`) for
    /// `host`. Exactly one caller, in any process, gets true for a given
    /// (schedule, slot).
    public func claimSlot(schedule: String, slot: Date, until: Date? = nil, host: String, at: Date) throws -> Bool {
        !(try connection.query("""
            INSERT INTO slots (schedule, slot, until, claimed_at, host) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT DO NOTHING RETURNING slot
            """, [.text(schedule), SQLValue(slot), SQLValue(until ?? slot), SQLValue(at), .text(host)]).isEmpty)
    }

    /// The last slot of `schedule` any host has claimed, nil if none.
    public func lastClaimedSlot(schedule: String) throws -> Date? {
        try connection.query("SELECT MAX(until) FROM slots WHERE schedule = ?1", [.text(schedule)]).first?[0].date
    }

    /// Every claimed slot of `schedule`, oldest first (for tests and checks).
    public func claimedSlots(schedule: String) throws -> [Date] {
        try connection.query("SELECT slot FROM slots WHERE schedule = ?1 ORDER BY slot", [.text(schedule)]).compactMap { $0[0].date }
    }

    // MARK: Queued jobs

    /// Records a job as `queued`, owned by the host process `ownerPID`.
    public func enqueueJob(_ job: NewJob, host: String, ownerPID: Int, ownerStart: String?, at: Date) throws -> JobRecord {
        let parameters = String(decoding: (try? JSONEncoder.sorted.encode(job.parameters)) ?? Data("{}".utf8), as: UTF8.self)
        let rows = try connection.query("""
            INSERT INTO jobs (runbook, revision, snapshot, trigger, schedule, slot, attempt, parent, status,
                              queued_at, host, owner_pid, owner_start, parameters)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?10, ?11, ?12, ?13)
            RETURNING \(Self.jobColumns)
            """,
            [.text(job.runbook), SQLValue(job.revision), SQLValue(job.snapshot), .text(job.trigger.rawValue),
             SQLValue(job.schedule), SQLValue(job.slot), .integer(Int64(job.attempt)), SQLValue(job.parent?.rawValue),
             SQLValue(at), .text(host), SQLValue(ownerPID), SQLValue(ownerStart), .text(parameters)])
        guard let row = rows.first else { throw StoreError(.query, "the job store \(connection.path) did not return the new job") }
        return Self.job(row)
    }

    /// Moves a queued job to `running` (with what it runs); nil when it is no
    /// longer queued (cancelled meanwhile). Not synced to disk on its own:
    /// the queued record (and the slot's claim) already is, and the job's
    /// completion syncs this with it.
    public func markRunning(_ id: JobID, revision: Int?, snapshot: String?, ownerPID: Int, ownerStart: String?, at: Date) throws -> JobRecord? {
        try connection.relaxed { try markRunningNow(id, revision: revision, snapshot: snapshot, ownerPID: ownerPID, ownerStart: ownerStart, at: at) }
    }

    private func markRunningNow(_ id: JobID, revision: Int?, snapshot: String?, ownerPID: Int, ownerStart: String?, at: Date) throws -> JobRecord? {
        try connection.query("""
            UPDATE jobs SET status = 'running', started_at = ?2, revision = ?3, snapshot = ?4, owner_pid = ?5, owner_start = ?6
            WHERE id = ?1 AND status = 'queued'
            RETURNING \(Self.jobColumns)
            """, [.integer(id.rawValue), SQLValue(at), SQLValue(revision), SQLValue(snapshot), SQLValue(ownerPID), SQLValue(ownerStart)]
        ).first.map(Self.job)
    }

    /// Ends a queued job without running it (skipped, cancelled, failed to start).
    @discardableResult
    public func endQueuedJob(_ id: JobID, status: JobStatus, reason: String, at: Date) throws -> Bool {
        !(try connection.query("""
            UPDATE jobs SET status = ?2, reason = ?3, ended_at = ?4 WHERE id = ?1 AND status = 'queued' RETURNING id
            """, [.integer(id.rawValue), .text(status.rawValue), .text(reason), SQLValue(at)]).isEmpty)
    }

    /// The latest job each schedule fired (for `runbook schedules`), by schedule.
    public func latestScheduledJobs() throws -> [String: JobRecord] {
        let rows = try connection.query("""
            SELECT \(Self.jobColumns) FROM jobs
            WHERE id IN (SELECT MAX(id) FROM jobs WHERE schedule IS NOT NULL AND trigger IN ('schedule', 'retry') GROUP BY schedule)
            """)
        var latest: [String: JobRecord] = [:]
        for record in rows.map(Self.job) { if let schedule = record.schedule { latest[schedule] = record } }
        return latest
    }

    // MARK: Hosts

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

    public func registerHost(id: String, hostname: String, pid: Int, at: Date) throws {
        try connection.query("""
            INSERT INTO hosts (id, hostname, pid, started_at, heartbeat_at) VALUES (?1, ?2, ?3, ?4, ?4)
            ON CONFLICT (id) DO UPDATE SET started_at = ?4, heartbeat_at = ?4, stopped_at = NULL
            """, [.text(id), .text(hostname), .integer(Int64(pid)), SQLValue(at)])
    }

    public func heartbeat(hostID: String, at: Date) throws {
        try connection.query("UPDATE hosts SET heartbeat_at = ?2 WHERE id = ?1", [.text(hostID), SQLValue(at)])
    }

    /// Makes every record written so far durable: a small synced commit (the
    /// host's heartbeat) flushes the WAL, and with it every earlier commit
    /// written without waiting for the disk.
    public func sync(hostID: String, at: Date) throws {
        try connection.transaction {
            try connection.query("UPDATE hosts SET heartbeat_at = ?2 WHERE id = ?1", [.text(hostID), SQLValue(at)])
        }
    }

    public func stopHost(id: String, at: Date) throws {
        try connection.query("UPDATE hosts SET stopped_at = ?2, heartbeat_at = ?2 WHERE id = ?1", [.text(id), SQLValue(at)])
    }

    /// Hosts by latest heartbeat first.
    public func hosts() throws -> [HostRecord] {
        try connection.query("SELECT id, hostname, pid, started_at, heartbeat_at, stopped_at FROM hosts ORDER BY heartbeat_at DESC").map {
            HostRecord(id: $0[0].string ?? "", hostname: $0[1].string ?? "", pid: $0[2].int ?? 0,
                       startedAt: $0[3].date ?? .distantPast, heartbeatAt: $0[4].date ?? .distantPast, stoppedAt: $0[5].date)
        }
    }
}

extension SQLiteStore {
    /// Jobs of `schedule` still queued or running, in any process.
    public func activeJobs(schedule: String) throws -> [JobRecord] {
        try connection.query(
            "SELECT \(Self.jobColumns) FROM jobs WHERE schedule = ?1 AND status IN ('queued', 'running') ORDER BY id",
            [.text(schedule)]
        ).map(Self.job)
    }
}
