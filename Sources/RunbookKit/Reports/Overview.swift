import FoundationEssentials
import Glibc

/// The state of the service over a window of time: per runbook, how many
/// jobs ran and how they ended, how long they took, the last failure and
/// the next run; and whether a host is running. `runbook overview`, the
/// HTML report and the metrics are all drawn from it.
public struct Overview: Sendable, Encodable {
    public var since: Date
    public var generatedAt: Date
    public var runbooks: [RunbookFigures]
    public var hosts: [HostState]

    enum CodingKeys: String, CodingKey {
        case since, runbooks, hosts
        case generatedAt = "generated_at"
    }

    /// Builds the overview of the jobs queued since `since`.
    /// - Parameter samples: the window's jobs, if the caller already read them.
    public static func build(store: any Store, workspace: Workspace, since: Date, now: Date,
                             samples: [JobSample]? = nil) throws -> Overview {
        var figures = Self.figures(of: try samples ?? store.jobSamples(since: since))
        // Every runbook and every schedule's runbook appears, with no jobs too.
        let schedules = ScheduleCatalog.scan(workspace)
        let live = try store.livePublications()
        for name in Array(Catalog.scan(workspace).runbooks.keys) + schedules.schedules.values.map(\.runbook)
        where figures[name] == nil {
            figures[name] = RunbookFigures(runbook: name)
        }
        for (name, _) in figures {
            if let failure = try store.latestJob(of: name, statuses: JobStatus.failures) {
                let log = JobLog(file: workspace.logs.appendingPathComponent("\(failure.id.rawValue).log"))
                let firstError = (try? log.firstLine(of: .stderr))?.text
                figures[name]?.lastFailure = .init(job: failure.id, status: failure.status, at: failure.endedAt ?? failure.queuedAt,
                                                   reason: failure.reason ?? failure.status.rawValue, firstError: firstError)
            }
            figures[name]?.nextRun = schedules.schedules.values
                .filter { $0.runbook == name && $0.enabled && live[name]?.revision != nil }
                .compactMap { $0.schedule.nextFireDate(after: now) }
                .min()
        }
        return Overview(since: since, generatedAt: now, runbooks: figures.values.sorted { $0.runbook < $1.runbook },
                        hosts: try HostState.all(store: store, now: now))
    }

    /// Counts, rates and duration percentiles per runbook: a pure function
    /// of the window's jobs.
    public static func figures(of samples: [JobSample]) -> [String: RunbookFigures] {
        var figures: [String: RunbookFigures] = [:]
        var durations: [String: [Double]] = [:]
        for sample in samples {
            figures[sample.runbook, default: RunbookFigures(runbook: sample.runbook)].count(sample.status)
            if sample.status.isFinal, let duration = sample.duration { durations[sample.runbook, default: []].append(duration) }
        }
        for (name, values) in durations {
            let sorted = values.sorted()
            figures[name]?.medianSeconds = percentile(sorted, 0.5)
            figures[name]?.p95Seconds = percentile(sorted, 0.95)
        }
        return figures
    }

    /// The nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }
}

/// One runbook's line of the overview.
public struct RunbookFigures: Sendable, Encodable, Equatable {
    public var runbook: String
    /// Jobs that ran to an end: succeeded, failures and cancelled.
    public var runs = 0
    public var succeeded = 0
    /// Failures by status (`failed`, `timed-out`, `limit-exceeded`, `interrupted`).
    public var failures: [JobStatus: Int] = [:]
    public var cancelled = 0
    public var skipped = 0
    public var missed = 0
    /// Jobs queued or running now.
    public var active = 0
    public var medianSeconds: Double?
    public var p95Seconds: Double?
    public var lastFailure: LastFailure?
    public var nextRun: Date?

    public init(runbook: String) { self.runbook = runbook }

    /// The latest failed job of a runbook, whatever the window.
    public struct LastFailure: Sendable, Encodable, Equatable {
        public var job: JobID
        public var status: JobStatus
        public var at: Date
        public var reason: String
        /// The first line the job wrote to stderr, if any.
        public var firstError: String?

        enum CodingKeys: String, CodingKey {
            case job, status, at, reason
            case firstError = "first_error"
        }
    }

    public var failed: Int { failures.values.reduce(0, +) }

    /// `timed-out 2, failed 1`: the failures by status, in `JobStatus.failures` order.
    public var failureSummary: String {
        JobStatus.failures.compactMap { status in failures[status].map { "\(status.rawValue) \($0)" } }.joined(separator: ", ")
    }

    /// Succeeded over succeeded and failed; nil when nothing ran.
    public var successRate: Double? {
        let decided = succeeded + failed
        return decided == 0 ? nil : Double(succeeded) / Double(decided)
    }

    mutating func count(_ status: JobStatus) {
        switch status {
        case .succeeded: succeeded += 1; runs += 1
        case .failed, .timedOut, .limitExceeded, .interrupted: failures[status, default: 0] += 1; runs += 1
        case .cancelled: cancelled += 1; runs += 1
        case .skipped: skipped += 1
        case .missed: missed += 1
        case .queued, .running: active += 1
        }
    }

    enum CodingKeys: String, CodingKey {
        case runbook, runs, succeeded, failed, failures, cancelled, skipped, missed, active
        case medianSeconds = "median_seconds", p95Seconds = "p95_seconds", lastFailure = "last_failure"
        case nextRun = "next_run", successRate = "success_rate"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(runbook, forKey: .runbook)
        try container.encode(runs, forKey: .runs)
        try container.encode(succeeded, forKey: .succeeded)
        try container.encode(failed, forKey: .failed)
        try container.encode(Dictionary(uniqueKeysWithValues: failures.map { ($0.key.rawValue, $0.value) }), forKey: .failures)
        try container.encode(cancelled, forKey: .cancelled)
        try container.encode(skipped, forKey: .skipped)
        try container.encode(missed, forKey: .missed)
        try container.encode(active, forKey: .active)
        try container.encode(medianSeconds, forKey: .medianSeconds)
        try container.encode(p95Seconds, forKey: .p95Seconds)
        try container.encode(successRate, forKey: .successRate)
        try container.encode(lastFailure, forKey: .lastFailure)
        try container.encode(nextRun, forKey: .nextRun)
    }
}

/// A host that has run on this state: alive when it has not stopped and
/// its heartbeat is recent (hosts beat every 5 s; 30 s of silence is gone).
public struct HostState: Sendable, Encodable, Equatable {
    public var host: HostRecord
    public var alive: Bool

    public static let silence: TimeInterval = 30

    public static func all(store: any Store, now: Date, localHost: String = HostState.localName) throws -> [HostState] {
        try store.hosts().map { host in
            var alive = host.stoppedAt == nil && now.timeIntervalSince(host.heartbeatAt) < silence
            if alive && host.hostname == localHost && kill(pid_t(host.pid), 0) != 0 && errno == ESRCH { alive = false }
            return HostState(host: host, alive: alive)
        }
    }

    /// This machine's name.
    public static var localName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `running`, `stopped` or `gone (no heartbeat)`.
    public var state: String { alive ? "running" : host.stoppedAt != nil ? "stopped" : "gone (no heartbeat)" }
}
