import FoundationEssentials

/// A job's number in the store; shown to users as `#42`.
public struct JobID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }
    public static func < (lhs: JobID, rhs: JobID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Where a job stands. Every job ends in exactly one of the final states,
/// and none vanishes without one (DESIGN §3).
public enum JobStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed
    case timedOut = "timed-out"
    case limitExceeded = "limit-exceeded"
    case cancelled, skipped, missed, interrupted

    /// True once the job can change no more.
    public var isFinal: Bool { self != .queued && self != .running }

    /// The statuses of a job that ran and did not do its work. `cancelled`
    /// (someone chose to stop it), `skipped` and `missed` (a policy chose not
    /// to run it) are not failures.
    public static let failures: [JobStatus] = [.failed, .timedOut, .limitExceeded, .interrupted]
}

/// What started a job.
public enum JobTrigger: String, Sendable, Codable, CaseIterable {
    case schedule, manual, test, retry
    case onFailure = "on-failure"

    /// The `RUNBOOK_MODE` a job of this trigger sees.
    public var mode: String {
        switch self {
        case .test: return "test"
        case .manual: return "manual"
        case .schedule, .retry, .onFailure: return "scheduled"
        }
    }
}

/// A job as the store keeps it: written before the process starts and
/// completed after it ends, so a crash leaves an honest trace.
public struct JobRecord: Sendable, Codable, Equatable {
    public var id: JobID
    public var runbook: String
    /// The published revision it ran, or nil for a draft (a test).
    public var revision: Int?
    /// The content hash of what ran.
    public var snapshot: String?
    public var trigger: JobTrigger
    public var schedule: String?
    public var slot: Date?
    public var attempt: Int
    public var parent: JobID?
    public var status: JobStatus
    /// Why the job ended as it did, in words: "exit code 3", "timed out after 10s".
    public var reason: String?
    public var exitCode: Int?
    public var signal: Int?
    public var queuedAt: Date
    public var startedAt: Date?
    public var endedAt: Date?
    public var peakMemoryKB: Int?
    public var cpuMicroseconds: Int?
    /// `hostname:pid` of the process that owns the job while it runs.
    public var host: String
    public var ownerPID: Int?
    public var outputBytes: Int?
    public var truncated: Bool
    public var parameters: [String: String]
    /// The owner process's boot id and start time, see `ProcessIdentity`.
    public var ownerStart: String? = nil
    /// CPU time in user and kernel mode (`cpuMicroseconds` is their sum).
    public var userCPUMicroseconds: Int? = nil
    public var systemCPUMicroseconds: Int? = nil

    enum CodingKeys: String, CodingKey {
        case id, runbook, revision, snapshot, trigger, schedule, slot, attempt, parent, status, reason, signal, host, truncated, parameters
        case exitCode = "exit_code", queuedAt = "queued_at", startedAt = "started_at", endedAt = "ended_at"
        case peakMemoryKB = "peak_memory_kb", cpuMicroseconds = "cpu_us", ownerPID = "owner_pid"
        case outputBytes = "output_bytes", ownerStart = "owner_start"
        case userCPUMicroseconds = "cpu_user_us", systemCPUMicroseconds = "cpu_system_us"
    }

    /// Seconds from start to end (or to now for a running job).
    public func duration(now: Date) -> TimeInterval? {
        guard let startedAt else { return nil }
        return (endedAt ?? now).timeIntervalSince(startedAt)
    }
}

/// A job about to be recorded.
public struct NewJob: Sendable {
    public var runbook: String
    public var revision: Int?
    public var snapshot: String?
    public var trigger: JobTrigger
    public var schedule: String? = nil
    public var slot: Date? = nil
    public var attempt: Int = 1
    public var parent: JobID? = nil
    public var parameters: [String: String] = [:]

    public init(runbook: String, revision: Int?, snapshot: String?, trigger: JobTrigger, parameters: [String: String] = [:]) {
        self.runbook = runbook
        self.revision = revision
        self.snapshot = snapshot
        self.trigger = trigger
        self.parameters = parameters
    }
}

/// How a finished job ended, to be written into its record.
public struct JobCompletion: Sendable {
    public var status: JobStatus
    public var reason: String
    public var exitCode: Int?
    public var signal: Int?
    public var endedAt: Date
    public var peakMemoryKB: Int?
    public var cpuMicroseconds: Int?
    public var outputBytes: Int
    public var truncated: Bool
    public var userCPUMicroseconds: Int? = nil
    public var systemCPUMicroseconds: Int? = nil
}
