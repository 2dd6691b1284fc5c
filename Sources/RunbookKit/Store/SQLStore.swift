import FoundationEssentials

/// The SQL both stores share: `SQLiteStore` and `PostgresStore` conform
/// and differ only in their connection, migrations, where snapshot content
/// and output are kept, and the row locks PostgreSQL takes.
protocol SQLStore: Store {
    var connection: any SQLDatabase { get }
    /// Appended to a `SELECT` of rows the caller is about to change when
    /// other hosts may be changing them too (`FOR UPDATE SKIP LOCKED`);
    /// empty where a transaction already excludes every other writer.
    var skipLockedClause: String { get }
    /// How a read of the jobs of a time window names its covering index
    /// (SQLite's `INDEXED BY`; PostgreSQL's planner finds it alone).
    var queuedAtIndexHint: String { get }
    /// The table holding copies of job output, whose rows go with their job.
    var outputTable: String? { get }
}

extension SQLStore {
    public var location: String { connection.displayName }

    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try connection.transaction(body)
    }

    @discardableResult

    public func relaxed<T>(_ body: () throws -> T) throws -> T {
        try connection.relaxed(body)
    }

    // MARK: Revisions

    static var revisionColumns: String { #"runbook, number, hash, filename, origin, created_at, "user", message, git_commit, git_dirty"# }

    static func revision(_ row: SQLRow) -> Revision {
        Revision(
            runbook: row[0].string ?? "", number: row[1].int ?? 0, hash: row[2].string ?? "",
            filename: row[3].string ?? "", origin: Revision.Origin(rawValue: row[4].string ?? "") ?? .published,
            createdAt: row[5].date ?? .distantPast, user: row[6].string ?? "", message: row[7].string,
            gitCommit: row[8].string, gitDirty: row[9].int.map { $0 != 0 })
    }

    /// Every revision of `runbook`, oldest first.
    public func revisions(of runbook: String) throws -> [Revision] {
        try connection.query(
            "SELECT \(Self.revisionColumns) FROM revisions WHERE runbook = ?1 ORDER BY number", [.text(runbook)]
        ).map(Self.revision)
    }

    public func revision(of runbook: String, number: Int) throws -> Revision? {
        try connection.query(
            "SELECT \(Self.revisionColumns) FROM revisions WHERE runbook = ?1 AND number = ?2",
            [.text(runbook), .integer(Int64(number))]
        ).first.map(Self.revision)
    }

    /// Adds a revision with the next number for its runbook; call inside a
    /// transaction. Returns the number given.
    public func addRevision(
        runbook: String, hash: String, filename: String, origin: Revision.Origin, at: Date,
        user: String, message: String?, gitCommit: String?, gitDirty: Bool?
    ) throws -> Int {
        let next = (try connection.query(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM revisions WHERE runbook = ?1", [.text(runbook)]
        ).first?[0].int) ?? 1
        try connection.query(
            "INSERT INTO revisions (\(Self.revisionColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            [.text(runbook), .integer(Int64(next)), .text(hash), .text(filename), .text(origin.rawValue),
             SQLValue(at), .text(user), SQLValue(message), SQLValue(gitCommit), SQLValue(gitDirty)])
        return next
    }

    /// Records a change of the live revision (or a retirement).
    public func addPublication(_ publication: Publication) throws {
        try connection.query(
            #"INSERT INTO publications (runbook, revision, action, at, "user", message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"#,
            [.text(publication.runbook), SQLValue(publication.revision), .text(publication.action.rawValue),
             SQLValue(publication.at), .text(publication.user), SQLValue(publication.message)])
    }

    /// Every publication of `runbook`, oldest first.
    public func publications(of runbook: String) throws -> [Publication] {
        try connection.query(
            #"SELECT runbook, revision, action, at, "user", message FROM publications WHERE runbook = ?1 ORDER BY id"#,
            [.text(runbook)]
        ).map(Self.publication)
    }

    /// The latest publication of every runbook that was ever published, by name.
    public func livePublications() throws -> [String: Publication] {
        let rows = try connection.query("""
            SELECT p.runbook, p.revision, p.action, p.at, p."user", p.message
            FROM publications p
            JOIN (SELECT runbook, MAX(id) AS id FROM publications GROUP BY runbook) latest ON latest.id = p.id
            """)
        var live: [String: Publication] = [:]
        for row in rows {
            let publication = Self.publication(row)
            live[publication.runbook] = publication
        }
        return live
    }

    /// The published revision of `runbook`, nil if never published or retired.
    public func publishedRevision(of runbook: String) throws -> Revision? {
        let rows = try connection.query("""
            SELECT r.runbook, r.number, r.hash, r.filename, r.origin, r.created_at, r."user", r.message, r.git_commit, r.git_dirty
            FROM publications p JOIN revisions r ON r.runbook = p.runbook AND r.number = p.revision
            WHERE p.id = (SELECT MAX(id) FROM publications WHERE runbook = ?1)
            """, [.text(runbook)])
        return rows.first.map(Self.revision)
    }

    static func publication(_ row: SQLRow) -> Publication {
        Publication(
            runbook: row[0].string ?? "", revision: row[1].int,
            action: Publication.Action(rawValue: row[2].string ?? "") ?? .publish,
            at: row[3].date ?? .distantPast, user: row[4].string ?? "", message: row[5].string)
    }

    // MARK: Jobs

    static var jobColumns: String { """
        id, runbook, revision, snapshot, trigger, schedule, slot, attempt, parent, status, reason, exit_code, signal,
        queued_at, started_at, ended_at, peak_memory_kb, cpu_us, host, owner_pid, output_bytes, truncated, parameters,
        owner_start, cpu_user_us, cpu_system_us
        """ }

    /// A job's parameters as stored: sorted JSON, `{}` for none.
    static func parametersJSON(_ parameters: [String: String]) -> String {
        guard !parameters.isEmpty else { return "{}" }
        return String(decoding: (try? JSONEncoder.sorted.encode(parameters)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func job(_ row: SQLRow) -> JobRecord {
        // Most jobs have no parameters: "{}" needs no JSON decoder (which
        // was a tenth of the host's own time per job).
        let text = row[22].string
        let parameters = text == "{}" ? [:] : (text?.data(using: .utf8)).flatMap {
            try? JSONDecoder().decode([String: String].self, from: $0)
        } ?? [:]
        return JobRecord(
            id: JobID(rawValue: row[0].int64 ?? 0), runbook: row[1].string ?? "", revision: row[2].int,
            snapshot: row[3].string, trigger: JobTrigger(rawValue: row[4].string ?? "") ?? .manual,
            schedule: row[5].string, slot: row[6].date, attempt: row[7].int ?? 1,
            parent: row[8].int64.map(JobID.init(rawValue:)),
            status: JobStatus(rawValue: row[9].string ?? "") ?? .interrupted, reason: row[10].string,
            exitCode: row[11].int, signal: row[12].int, queuedAt: row[13].date ?? .distantPast,
            startedAt: row[14].date, endedAt: row[15].date, peakMemoryKB: row[16].int, cpuMicroseconds: row[17].int,
            host: row[18].string ?? "", ownerPID: row[19].int, outputBytes: row[20].int,
            truncated: (row[21].int ?? 0) != 0, parameters: parameters, ownerStart: row[23].string,
            userCPUMicroseconds: row[24].int, systemCPUMicroseconds: row[25].int)
    }

    /// Records a job as `running`, owned by `host` and `ownerPID`, before its
    /// process starts. Returns the new record.
    /// - Parameter ownerStart: the owner's boot id and start time
    ///   (`ProcessIdentity`), so a reused pid is never taken for the owner.
    ///
    /// The record is not synced to disk on its own (it survives a crash of
    /// runbook, not a power failure in the job's first seconds); the job's
    /// completion syncs both.
    public func startJob(_ job: NewJob, host: String, ownerPID: Int, ownerStart: String? = nil, at: Date) throws -> JobRecord {
        try connection.relaxed {
            try insertJob(job, status: .running, reason: nil, host: host, ownerPID: ownerPID, ownerStart: ownerStart, at: at)
        }
    }

    /// Records a job that ends before it starts (a missing credential, a
    /// skipped slot): it still gets a record saying why.
    public func recordEndedJob(_ job: NewJob, status: JobStatus, reason: String, host: String, at: Date) throws -> JobRecord {
        precondition(status.isFinal, "recordEndedJob takes a final status")
        return try insertJob(job, status: status, reason: reason, host: host, ownerPID: nil, ownerStart: nil, at: at)
    }

    private func insertJob(
        _ job: NewJob, status: JobStatus, reason: String?, host: String, ownerPID: Int?, ownerStart: String?, at: Date
    ) throws -> JobRecord {
        let parameters = Self.parametersJSON(job.parameters)
        let rows = try connection.query("""
            INSERT INTO jobs (runbook, revision, snapshot, trigger, schedule, slot, attempt, parent, status, reason,
                              queued_at, started_at, ended_at, host, owner_pid, parameters, owner_start)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13, ?14, ?15, ?16)
            RETURNING \(Self.jobColumns)
            """,
            [.text(job.runbook), SQLValue(job.revision), SQLValue(job.snapshot), .text(job.trigger.rawValue),
             SQLValue(job.schedule), SQLValue(job.slot), .integer(Int64(job.attempt)), SQLValue(job.parent?.rawValue),
             .text(status.rawValue), SQLValue(reason), SQLValue(at), SQLValue(status.isFinal ? at : nil),
             .text(host), SQLValue(ownerPID), .text(parameters), SQLValue(ownerStart)])
        guard let row = rows.first else { throw StoreError(.query, "the job store \(location) did not return the new job") }
        return Self.job(row)
    }

    /// Writes how a running job ended. A job already final (marked
    /// `interrupted` by another process, say) is left as it is.
    @discardableResult
    public func completeJob(_ id: JobID, _ completion: JobCompletion) throws -> Bool {
        let updated = try connection.query("""
            UPDATE jobs SET status = ?2, reason = ?3, exit_code = ?4, signal = ?5, ended_at = ?6,
                            peak_memory_kb = ?7, cpu_us = ?8, output_bytes = ?9, truncated = ?10,
                            cpu_user_us = ?11, cpu_system_us = ?12
            WHERE id = ?1 AND status IN ('queued', 'running')
            RETURNING id
            """,
            [.integer(id.rawValue), .text(completion.status.rawValue), .text(completion.reason),
             SQLValue(completion.exitCode), SQLValue(completion.signal), SQLValue(completion.endedAt),
             SQLValue(completion.peakMemoryKB), SQLValue(completion.cpuMicroseconds),
             .integer(Int64(completion.outputBytes)), SQLValue(completion.truncated),
             SQLValue(completion.userCPUMicroseconds), SQLValue(completion.systemCPUMicroseconds)])
        return !updated.isEmpty
    }

    public func job(_ id: JobID) throws -> JobRecord? {
        try connection.query("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?1", [.integer(id.rawValue)]).first.map(Self.job)
    }

    /// Jobs matching `filter`, newest first.
    public func jobs(_ filter: JobFilter) throws -> [JobRecord] {
        var clauses: [String] = []
        var parameters: [SQLValue] = []
        /// `column operator ?N`, N the value's place among the parameters.
        func add(_ column: String, _ comparison: String, _ value: SQLValue) {
            parameters.append(value)
            clauses.append("\(column) \(comparison) ?\(parameters.count)")
        }
        if let runbook = filter.runbook { add("runbook", "=", .text(runbook)) }
        if !filter.statuses.isEmpty { clauses.append("status IN (\(filter.statuses.map { "'\($0.rawValue)'" }.joined(separator: ", ")))") }
        if let schedule = filter.schedule { add("schedule", "=", .text(schedule)) }
        if let since = filter.since { add("queued_at", ">=", SQLValue(since)) }
        if let trigger = filter.trigger { add("trigger", "=", .text(trigger.rawValue)) }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let limit = filter.limit.map { "LIMIT \(max(0, $0))" } ?? ""
        return try connection.query(
            "SELECT \(Self.jobColumns) FROM jobs \(whereClause) ORDER BY id DESC \(limit)", parameters
        ).map(Self.job)
    }

    /// Jobs still `running` or `queued` that `host` owns.
    public func unfinishedJobs(host: String) throws -> [JobRecord] {
        try connection.query(
            "SELECT \(Self.jobColumns) FROM jobs WHERE host = ?1 AND status IN ('queued', 'running') ORDER BY id",
            [.text(host)]
        ).map(Self.job)
    }

    /// Marks a job that nobody will finish as `interrupted`, with why.
    @discardableResult
    public func interruptJob(_ id: JobID, reason: String, at: Date) throws -> Bool {
        try connection.query(
            "UPDATE jobs SET status = 'interrupted', reason = ?2, ended_at = ?3 WHERE id = ?1 AND status IN ('queued', 'running') RETURNING id",
            [.integer(id.rawValue), .text(reason), SQLValue(at)]).isEmpty == false
    }

    public func jobCount() throws -> Int {
        try connection.query("SELECT COUNT(*) FROM jobs").first?[0].int ?? 0
    }
}

extension JSONEncoder {
    /// The encoder for everything runbook writes as JSON: stable key order, so
    /// output can be diffed and tested byte for byte.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
