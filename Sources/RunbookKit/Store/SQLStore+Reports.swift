import FoundationEssentials

/// What the reports read and what retention deletes: cancel requests, the
/// per-runbook figures of a time window, last successes, and pruning.
extension SQLStore {
    // MARK: Cancelling

    /// Asks whoever runs job `id` to stop it: a queued job ends `cancelled`
    /// at once; a running one keeps `reason` in `cancel_requested` until its
    /// owner stops it and records it. Returns the job as it now stands.
    public func requestCancel(_ id: JobID, reason: String, at: Date) throws -> JobRecord? {
        try transaction {
            _ = try connection.query("""
                UPDATE jobs SET status = 'cancelled', reason = ?2, ended_at = ?3 WHERE id = ?1 AND status = 'queued'
                """, [.integer(id.rawValue), .text(reason), SQLValue(at)])
            _ = try connection.query("""
                UPDATE jobs SET cancel_requested = ?2 WHERE id = ?1 AND status = 'running' AND cancel_requested IS NULL
                """, [.integer(id.rawValue), .text(reason)])
            return try job(id)
        }
    }

    /// Why job `id` was asked to stop, if it was.
    public func cancelRequest(_ id: JobID) throws -> String? {
        try connection.query("SELECT cancel_requested FROM jobs WHERE id = ?1", [.integer(id.rawValue)]).first?[0].string
    }

    /// The running jobs of the process `ownerPID` on `host` that someone
    /// asked to stop, with why.
    public func cancelRequests(host: String, ownerPID: Int) throws -> [(JobID, String)] {
        try connection.query("""
            SELECT id, cancel_requested FROM jobs
            WHERE status = 'running' AND cancel_requested IS NOT NULL AND host = ?1 AND owner_pid = ?2
            """, [.text(host), .integer(Int64(ownerPID))]
        ).compactMap { row in row[0].int64.map { (JobID(rawValue: $0), row[1].string ?? "cancelled") } }
    }

    // MARK: Figures

    /// Every job queued at or after `since`, read from one covering index
    /// (`jobs_by_queued_at`; SQLite is told so) without touching the table.
    public func jobSamples(since: Date) throws -> [JobSample] {
        try connection.query("""
            SELECT runbook, status, queued_at, started_at, ended_at FROM jobs\(queuedAtIndexHint)
            WHERE queued_at >= ?1
            """, [SQLValue(since)]
        ).map { row in
            let duration: Double? = if let start = row[3].double, let end = row[4].double { max(0, end - start) } else { nil }
            return JobSample(runbook: row[0].string ?? "", status: JobStatus(rawValue: row[1].string ?? "") ?? .interrupted,
                             queuedAt: row[2].date ?? .distantPast, duration: duration)
        }
    }

    /// The latest job of `runbook` with one of `statuses`.
    public func latestJob(of runbook: String, statuses: [JobStatus]) throws -> JobRecord? {
        let list = statuses.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return try connection.query("""
            SELECT \(Self.jobColumns) FROM jobs WHERE id = (
                SELECT MAX(id) FROM jobs WHERE runbook = ?1 AND status IN (\(list)))
            """, [.text(runbook)]
        ).first.map(Self.job)
    }

    /// The slot time of `schedule`'s latest successful job (by id, from
    /// `jobs_by_schedule_status`, however long the history).
    public func lastSuccessfulSlot(schedule: String) throws -> Date? {
        try connection.query("""
            SELECT slot FROM jobs WHERE schedule = ?1 AND status = 'succeeded' ORDER BY id DESC LIMIT 1
            """, [.text(schedule)]).first?[0].date
    }

    /// How many jobs are in each unfinished status (queued, running).
    public func unfinishedCounts() throws -> [JobStatus: Int] {
        var counts: [JobStatus: Int] = [:]
        for row in try connection.query("SELECT status, COUNT(*) FROM jobs WHERE status IN ('queued', 'running') GROUP BY status") {
            if let status = JobStatus(rawValue: row[0].string ?? "") { counts[status] = row[1].int ?? 0 }
        }
        return counts
    }

    // MARK: Retention

    /// Every runbook that has jobs, in name order. A loose index scan: one
    /// probe of `jobs_by_runbook` per name, however many jobs each has.
    public func runbooksWithJobs() throws -> [String] {
        try connection.query("""
            WITH RECURSIVE names(name) AS (
                SELECT MIN(runbook) FROM jobs
                UNION ALL
                SELECT (SELECT MIN(runbook) FROM jobs WHERE runbook > names.name) FROM names WHERE names.name IS NOT NULL
            )
            SELECT name FROM names WHERE name IS NOT NULL
            """).compactMap { $0[0].string }
    }

    /// The jobs of `runbook` that a retention of `keep` newest jobs and of
    /// jobs queued after `after` lets go, oldest first. Never an unfinished
    /// job, nor the runbook's latest failure.
    public func expiredJobs(of runbook: String, keep: Int?, after: Date?) throws -> [JobID] {
        guard keep != nil || after != nil else { return [] }
        let latestFailure = try latestJob(of: runbook, statuses: JobStatus.failures)?.id.rawValue ?? -1
        // Only the parameters a condition uses: PostgreSQL must know each one's type.
        var conditions: [String] = []
        var parameters: [SQLValue] = [.text(runbook), .integer(latestFailure)]
        if let keep {
            parameters.append(.integer(Int64(max(keep, 1))))
            conditions.append("id < COALESCE((SELECT id FROM jobs WHERE runbook = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?\(parameters.count) - 1), -1)")
        }
        if let after {
            parameters.append(SQLValue(after))
            conditions.append("queued_at < ?\(parameters.count)")
        }
        return try connection.query("""
            SELECT id FROM jobs
            WHERE runbook = ?1 AND status NOT IN ('queued', 'running') AND id != ?2 AND (\(conditions.joined(separator: " OR ")))
            ORDER BY id
            """, parameters
        ).compactMap { $0[0].int64.map(JobID.init(rawValue:)) }
    }

    /// Deletes the records of `ids` (in one transaction); their logs are the
    /// caller's to remove after this returns.
    public func deleteJobs(_ ids: [JobID]) throws {
        guard !ids.isEmpty else { return }
        try transaction {
            for batch in stride(from: 0, to: ids.count, by: 500) {
                let slice = ids[batch..<min(batch + 500, ids.count)]
                let list = slice.map { String($0.rawValue) }.joined(separator: ",")
                try connection.execute("DELETE FROM jobs WHERE id IN (\(list))")
                if let outputTable { try connection.execute("DELETE FROM \(outputTable) WHERE job IN (\(list))") }
            }
        }
    }

    /// Deletes slot claims that ended before `before`, keeping each
    /// schedule's newest (where a restarted host resumes). Returns how many.
    public func pruneSlots(before: Date) throws -> Int {
        try connection.query("""
            DELETE FROM slots WHERE until < ?1
              AND until < (SELECT MAX(newer.until) FROM slots AS newer WHERE newer.schedule = slots.schedule)
            RETURNING 1
            """, [SQLValue(before)]).count
    }

    /// Which of `ids` have a record.
    public func existingJobs(_ ids: [JobID]) throws -> Set<JobID> {
        var found: Set<JobID> = []
        for batch in stride(from: 0, to: ids.count, by: 500) {
            let slice = ids[batch..<min(batch + 500, ids.count)]
            for row in try connection.query("SELECT id FROM jobs WHERE id IN (\(slice.map { String($0.rawValue) }.joined(separator: ",")))") {
                if let id = row[0].int64 { found.insert(JobID(rawValue: id)) }
            }
        }
        return found
    }
}
