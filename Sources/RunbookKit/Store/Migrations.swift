/// The SQLite store's schema, one step per version. `PRAGMA user_version` holds the
/// number of steps applied; a newer binary applies the missing ones at open,
/// inside one write transaction, so two processes opening at once cannot
/// both migrate. Steps are append-only: never edit a released one.
enum Migrations {
    static let steps: [String] = [
        // 1: revisions, publications, jobs.
        """
        CREATE TABLE revisions (
            runbook    TEXT    NOT NULL,
            number     INTEGER NOT NULL,
            hash       TEXT    NOT NULL,
            filename   TEXT    NOT NULL,
            origin     TEXT    NOT NULL,
            created_at REAL    NOT NULL,
            user       TEXT    NOT NULL,
            message    TEXT,
            git_commit TEXT,
            git_dirty  INTEGER,
            PRIMARY KEY (runbook, number)
        );
        CREATE TABLE publications (
            id       INTEGER PRIMARY KEY AUTOINCREMENT,
            runbook  TEXT NOT NULL,
            revision INTEGER,
            action   TEXT NOT NULL,
            at       REAL NOT NULL,
            user     TEXT NOT NULL,
            message  TEXT
        );
        CREATE INDEX publications_by_runbook ON publications (runbook, id);
        CREATE TABLE jobs (
            id             INTEGER PRIMARY KEY AUTOINCREMENT,
            runbook        TEXT    NOT NULL,
            revision       INTEGER,
            snapshot       TEXT,
            trigger        TEXT    NOT NULL,
            schedule       TEXT,
            slot           REAL,
            attempt        INTEGER NOT NULL DEFAULT 1,
            parent         INTEGER,
            status         TEXT    NOT NULL,
            reason         TEXT,
            exit_code      INTEGER,
            signal         INTEGER,
            queued_at      REAL    NOT NULL,
            started_at     REAL,
            ended_at       REAL,
            peak_memory_kb INTEGER,
            cpu_us         INTEGER,
            host           TEXT    NOT NULL,
            owner_pid      INTEGER,
            owner_start    TEXT,
            output_bytes   INTEGER,
            truncated      INTEGER NOT NULL DEFAULT 0,
            parameters     TEXT    NOT NULL DEFAULT '{}'
        );
        CREATE INDEX jobs_by_runbook ON jobs (runbook, id);
        CREATE INDEX jobs_by_status ON jobs (status);
        """,
        // 2: the host. A slot (schedule, instant) is claimed by inserting its
        // row: the primary key makes the claim exactly-once across processes.
        // `until` is the last slot a row covers (a range of missed slots is
        // one row). Hosts heartbeat into `hosts`.
        """
        CREATE TABLE slots (
            schedule   TEXT NOT NULL,
            slot       REAL NOT NULL,
            until      REAL NOT NULL,
            claimed_at REAL NOT NULL,
            host       TEXT NOT NULL,
            PRIMARY KEY (schedule, slot)
        );
        CREATE INDEX slots_by_until ON slots (schedule, until);
        CREATE TABLE hosts (
            id           TEXT PRIMARY KEY,
            hostname     TEXT NOT NULL,
            pid          INTEGER NOT NULL,
            started_at   REAL NOT NULL,
            heartbeat_at REAL NOT NULL,
            stopped_at   REAL
        );
        CREATE INDEX jobs_by_schedule ON jobs (schedule, id);
        """,
        // 3: user and system CPU apart (the sandbox reads them from the job's cgroup).
        """
        ALTER TABLE jobs ADD COLUMN cpu_user_us INTEGER;
        ALTER TABLE jobs ADD COLUMN cpu_system_us INTEGER;
        """,
        // 4: the host asks, at every slot, for a schedule's queued and
        // running jobs, and at every job for its last success (newest first);
        // without this index those reads grow with the schedule's history.
        """
        CREATE INDEX jobs_by_schedule_status ON jobs (schedule, status, id);
        """,
        // 5: reports (issue 7). `runbook cancel` leaves its reason in
        // `cancel_requested` for the process that owns the running job.
        // The overview reads a window of jobs by time from one covering
        // index; retention and "last failure" read a runbook's jobs by status.
        """
        ALTER TABLE jobs ADD COLUMN cancel_requested TEXT;
        CREATE INDEX jobs_by_queued_at ON jobs (queued_at, runbook, status, started_at, ended_at);
        CREATE INDEX jobs_by_runbook_status ON jobs (runbook, status, id);
        """,
        // 6: the serving host whose heartbeat keeps a queued or running job
        // (its lease); other hosts take the job over when it stops beating,
        // and note when they did in `lease_expired_at`.
        """
        ALTER TABLE jobs ADD COLUMN lease TEXT;
        CREATE INDEX jobs_by_lease ON jobs (lease, status);
        ALTER TABLE hosts ADD COLUMN lease_expired_at REAL;
        """,
    ]
}
