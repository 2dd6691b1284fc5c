import FoundationEssentials

/// What the host keeps: slot claims, queued jobs, heartbeats.
extension SQLStore {
    // MARK: Slots

    public func claimSlot(schedule: String, slot: Date, until: Date?, host: String, at: Date) throws -> Bool {
        !(try connection.query("""
            INSERT INTO slots (schedule, slot, until, claimed_at, host) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT DO NOTHING RETURNING slot
            """, [.text(schedule), SQLValue(slot), SQLValue(until ?? slot), SQLValue(at), .text(host)]).isEmpty)
    }

    public func lastClaimedSlot(schedule: String) throws -> Date? {
        try connection.query("SELECT MAX(until) FROM slots WHERE schedule = ?1", [.text(schedule)]).first?[0].date
    }

    public func claimedSlots(schedule: String) throws -> [Date] {
        try connection.query("SELECT slot FROM slots WHERE schedule = ?1 ORDER BY slot", [.text(schedule)]).compactMap { $0[0].date }
    }

    // MARK: Queued jobs

    public func enqueueJob(_ job: NewJob, host: String, ownerPID: Int, ownerStart: String?, lease: String?, at: Date) throws -> JobRecord {
        let parameters = Self.parametersJSON(job.parameters)
        let rows = try connection.query("""
            INSERT INTO jobs (runbook, revision, snapshot, trigger, schedule, slot, attempt, parent, status,
                              queued_at, host, owner_pid, owner_start, parameters, lease)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?10, ?11, ?12, ?13, ?14)
            RETURNING \(Self.jobColumns)
            """,
            [.text(job.runbook), SQLValue(job.revision), SQLValue(job.snapshot), .text(job.trigger.rawValue),
             SQLValue(job.schedule), SQLValue(job.slot), .integer(Int64(job.attempt)), SQLValue(job.parent?.rawValue),
             SQLValue(at), .text(host), SQLValue(ownerPID), SQLValue(ownerStart), .text(parameters), SQLValue(lease)])
        guard let row = rows.first else { throw StoreError(.query, "the job store \(location) did not return the new job") }
        return Self.job(row)
    }

    /// Not synced to disk on its own: the queued record (and the slot's
    /// claim) already is, and the job's completion syncs this with it.
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

    public func requeueJob(_ id: JobID) throws -> Bool {
        !(try connection.query("UPDATE jobs SET status = 'queued', started_at = NULL WHERE id = ?1 AND status = 'running' RETURNING id",
                               [.integer(id.rawValue)]).isEmpty)
    }

    public func restartJob(_ id: JobID, at: Date) throws -> Bool {
        !(try connection.query("UPDATE jobs SET status = 'running', started_at = ?2 WHERE id = ?1 AND status = 'queued' RETURNING id",
                               [.integer(id.rawValue), SQLValue(at)]).isEmpty)
    }

    public func recordStart(_ id: JobID, at: Date?) throws {
        try connection.query("UPDATE jobs SET started_at = ?2 WHERE id = ?1", [.integer(id.rawValue), SQLValue(at)])
    }

    @discardableResult
    public func endQueuedJob(_ id: JobID, status: JobStatus, reason: String, at: Date) throws -> Bool {
        !(try connection.query("""
            UPDATE jobs SET status = ?2, reason = ?3, ended_at = ?4 WHERE id = ?1 AND status = 'queued' RETURNING id
            """, [.integer(id.rawValue), .text(status.rawValue), .text(reason), SQLValue(at)]).isEmpty)
    }

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

    public func registerHost(id: String, hostname: String, pid: Int, at: Date) throws {
        try connection.query("""
            INSERT INTO hosts (id, hostname, pid, started_at, heartbeat_at) VALUES (?1, ?2, ?3, ?4, ?4)
            ON CONFLICT (id) DO UPDATE SET started_at = ?4, heartbeat_at = ?4, stopped_at = NULL, lease_expired_at = NULL
            """, [.text(id), .text(hostname), .integer(Int64(pid)), SQLValue(at)])
    }

    @discardableResult
    public func heartbeat(hostID: String, at: Date) throws -> Bool {
        try connection.transaction {
            let expired = try connection.query(
                "UPDATE hosts SET heartbeat_at = ?2 WHERE id = ?1 AND lease_expired_at IS NOT NULL RETURNING id",
                [.text(hostID), SQLValue(at)])
            if !expired.isEmpty {
                try connection.query("UPDATE hosts SET lease_expired_at = NULL WHERE id = ?1", [.text(hostID)])
                return false
            }
            try connection.query("UPDATE hosts SET heartbeat_at = ?2 WHERE id = ?1", [.text(hostID), SQLValue(at)])
            return true
        }
    }

    /// A small synced commit (the host's heartbeat) flushes the WAL, and
    /// with it every earlier commit written without waiting for the disk.
    public func sync(hostID: String, at: Date) throws {
        _ = try connection.transaction {
            try connection.query("UPDATE hosts SET heartbeat_at = ?2 WHERE id = ?1", [.text(hostID), SQLValue(at)])
        }
    }

    public func stopHost(id: String, at: Date) throws {
        try connection.query("UPDATE hosts SET stopped_at = ?2, heartbeat_at = ?2 WHERE id = ?1", [.text(id), SQLValue(at)])
    }

    public func hosts() throws -> [HostRecord] {
        try connection.query("SELECT id, hostname, pid, started_at, heartbeat_at, stopped_at FROM hosts ORDER BY heartbeat_at DESC").map {
            HostRecord(id: $0[0].string ?? "", hostname: $0[1].string ?? "", pid: $0[2].int ?? 0,
                       startedAt: $0[3].date ?? .distantPast, heartbeatAt: $0[4].date ?? .distantPast, stoppedAt: $0[5].date)
        }
    }

    public func expireHosts(heartbeatBefore cutoff: Date, by hostID: String, hostname: String, pid: Int, at: Date) throws -> LeaseTakeover {
        try connection.transaction {
            var takeover = LeaseTakeover()
            takeover.expiredHosts = try connection.query(
                """
                SELECT id FROM hosts WHERE stopped_at IS NULL AND lease_expired_at IS NULL AND heartbeat_at < ?1 AND id <> ?2
                ORDER BY id\(skipLockedClause)
                """,
                [SQLValue(cutoff), .text(hostID)]
            ).compactMap { $0[0].string }
            for id in takeover.expiredHosts {
                try connection.query("UPDATE hosts SET lease_expired_at = ?2 WHERE id = ?1", [.text(id), SQLValue(at)])
            }
            // Every job still leased to a host that is gone: just expired,
            // or stopped earlier without finishing it.
            let orphaned = try connection.query("""
                SELECT \(Self.jobColumns) FROM jobs
                WHERE status IN ('queued', 'running') AND lease IS NOT NULL AND lease <> ?1
                  AND lease IN (SELECT id FROM hosts WHERE stopped_at IS NOT NULL OR lease_expired_at IS NOT NULL)
                ORDER BY id\(skipLockedClause)
                """, [.text(hostID)]).map(Self.job)
            for job in orphaned {
                if job.status == .running {
                    let reason = "interrupted: its host \(job.host) (pid \(job.ownerPID.map(String.init) ?? "?")) stopped renewing its lease; noticed by \(hostname)"
                    if let row = try connection.query("""
                        UPDATE jobs SET status = 'interrupted', reason = ?2, ended_at = ?3
                        WHERE id = ?1 AND status = 'running' RETURNING \(Self.jobColumns)
                        """, [.integer(job.id.rawValue), .text(reason), SQLValue(at)]).first {
                        takeover.interrupted.append(Self.job(row))
                    }
                } else if let row = try connection.query("""
                    UPDATE jobs SET lease = ?2, host = ?3, owner_pid = ?4, owner_start = NULL
                    WHERE id = ?1 AND status = 'queued' RETURNING \(Self.jobColumns)
                    """, [.integer(job.id.rawValue), .text(hostID), .text(hostname), .integer(Int64(pid))]).first {
                    takeover.adopted.append(Self.job(row))
                }
            }
            return takeover
        }
    }

    public func queuedJobs(lease hostID: String) throws -> [JobRecord] {
        try connection.query(
            "SELECT \(Self.jobColumns) FROM jobs WHERE lease = ?1 AND status = 'queued' ORDER BY id", [.text(hostID)]
        ).map(Self.job)
    }

    public func activeJobs(schedule: String) throws -> [JobRecord] {
        try connection.query(
            "SELECT \(Self.jobColumns) FROM jobs WHERE schedule = ?1 AND status IN ('queued', 'running') ORDER BY id",
            [.text(schedule)]
        ).map(Self.job)
    }
}
