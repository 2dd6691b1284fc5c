import FoundationEssentials
import Glibc

/// How much job history to keep per runbook: the newest `keep` jobs, and
/// jobs younger than `maxAge` seconds. A job goes when it falls outside
/// either bound. Never pruned: a queued or running job, and a runbook's
/// latest failure (so the overview can always show it).
///
/// Written `history = 1000`, `history = 30d`, `history = 1000, 30d` or
/// `history = unlimited`, in `runbook.conf` (for every runbook) or in a
/// runbook's header (for that runbook). Default: 1,000 jobs per runbook.
public struct Retention: Sendable, Equatable, Codable, CustomStringConvertible {
    public var keep: Int?
    public var maxAge: Int?

    public init(keep: Int?, maxAge: Int?) {
        self.keep = keep
        self.maxAge = maxAge
    }

    public static let standard = Retention(keep: 1000, maxAge: nil)
    public static let unlimited = Retention(keep: nil, maxAge: nil)

    enum CodingKeys: String, CodingKey {
        case keep
        case maxAge = "max_age_seconds"
    }

    public struct ParseError: Error, Sendable, Equatable {
        public var message: String
    }

    /// Parses the value of a `history` setting.
    public static func parse(_ text: String) throws(ParseError) -> Retention {
        let hint = "write a number of jobs, an age, or both: 'history = 1000', 'history = 30d', 'history = 1000, 30d', or 'unlimited'"
        let trimmed = text.trimmingWhitespace().lowercased()
        if ["unlimited", "off", "none", "all"].contains(trimmed) { return .unlimited }
        var retention = Retention(keep: nil, maxAge: nil)
        let parts = trimmed.split(separator: ",").map { $0.trimmingWhitespace() }
        guard !parts.isEmpty, parts.count <= 2 else { throw ParseError(message: "history '\(text)' is not valid: \(hint)") }
        for part in parts {
            let words = part.split(separator: " ")
            if let count = Int(words.first ?? ""), words.count == 1 || (words.count == 2 && ["jobs", "job", "runs"].contains(words[1])) {
                guard count > 0, retention.keep == nil else { throw ParseError(message: "history '\(text)': the number of jobs must be above 0 and given once: \(hint)") }
                retention.keep = count
                continue
            }
            let age: Int
            do { age = try DurationText.seconds(part) } catch { throw ParseError(message: "history '\(text)': \(error.message); \(hint)") }
            guard age > 0, retention.maxAge == nil else { throw ParseError(message: "history '\(text)': the age must be above 0 and given once: \(hint)") }
            retention.maxAge = age
        }
        return retention
    }

    /// `1000 jobs`, `30d`, `1000 jobs, 30d` or `unlimited`.
    public var description: String {
        let parts = [keep.map { "\($0) jobs" }, maxAge.map { DurationText.format(seconds: $0) }].compactMap { $0 }
        return parts.isEmpty ? "unlimited" : parts.joined(separator: ", ")
    }
}

/// Applies retention: deletes expired job records and their logs together.
/// Records go first, in one transaction, then their logs; a log left by a
/// crash in between (or by any earlier accident) has no record and is
/// removed by the next prune, so in the end there is no log without a
/// record. A job's record never loses its log while it stays.
public struct Pruner: Sendable {
    public var store: any Store
    public var logs: URL

    public init(store: any Store, logs: URL) {
        self.store = store
        self.logs = logs
    }

    /// What a prune did (or, dry, would do).
    public struct Result: Sendable, Encodable, Equatable {
        public var jobs = 0
        public var logs = 0
        /// Logs that had no record (left by an interrupted prune).
        public var strayLogs = 0
        public var slots = 0
        /// Jobs removed per runbook.
        public var byRunbook: [String: Int] = [:]

        enum CodingKeys: String, CodingKey {
            case jobs, logs, slots
            case strayLogs = "stray_logs", byRunbook = "by_runbook"
        }
    }

    /// Slot claims are kept this long: they are what stops a slot firing
    /// twice, and only the newest of each schedule is read after this.
    public static let slotRetention: TimeInterval = 30 * 86_400

    /// Prunes every runbook's jobs by `retention(runbook)`.
    /// - Parameter dryRun: count, delete nothing.
    public func prune(retention: (String) -> Retention, now: Date, dryRun: Bool = false) throws -> Result {
        var result = Result()
        var expired: [JobID] = []
        for runbook in try store.runbooksWithJobs() {
            let policy = retention(runbook)
            let ids = try store.expiredJobs(of: runbook, keep: policy.keep,
                                            after: policy.maxAge.map { now.addingTimeInterval(-Double($0)) })
            if !ids.isEmpty { result.byRunbook[runbook] = ids.count }
            expired += ids
        }
        result.jobs = expired.count
        guard !dryRun else { return result }
        try store.deleteJobs(expired)
        for id in expired where unlink(logFile(id).path) == 0 { result.logs += 1 }
        result.strayLogs = try removeStrayLogs()
        result.slots = try store.pruneSlots(before: now.addingTimeInterval(-Self.slotRetention))
        return result
    }

    private func logFile(_ id: JobID) -> URL { logs.appendingPathComponent("\(id.rawValue).log") }

    /// Removes logs whose job has no record.
    private func removeStrayLogs() throws -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: logs.path)) ?? []
        let ids = names.compactMap { name -> JobID? in
            guard name.hasSuffix(".log"), let number = Int64(name.dropLast(4)) else { return nil }
            return JobID(rawValue: number)
        }
        let existing = try store.existingJobs(ids)
        var removed = 0
        for id in ids where !existing.contains(id) && unlink(logFile(id).path) == 0 { removed += 1 }
        return removed
    }
}

extension Retention {
    /// Each runbook's retention: its published header's `history`, else
    /// `runbook.conf`'s. A runbook that is not published (retired, or only
    /// ever tested) takes `runbook.conf`'s.
    public static func resolver(workspace: Workspace, store: any Store, host: HostConfig) -> @Sendable (String) -> Retention {
        let (registry, _) = Catalog.runtimes(workspace)
        return { runbook in
            let published = try? PublishedRunbook.load(runbook, workspace: workspace, store: store, registry: registry)
            return published?.settings.history ?? host.history
        }
    }
}
