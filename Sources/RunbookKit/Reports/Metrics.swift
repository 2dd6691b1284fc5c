import FoundationEssentials
import Glibc

/// What the host counts for Prometheus: the jobs it ended, by runbook and
/// status, and their durations. Counters start at zero with the host, as
/// Prometheus expects of a process's counters (it handles the reset).
public struct HostMetrics: Sendable {
    /// Upper bounds of the duration histogram, in seconds.
    public static let buckets: [Double] = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600]

    struct Histogram: Sendable {
        var counts = [Int](repeating: 0, count: HostMetrics.buckets.count)
        var count = 0
        var sum = 0.0
    }

    private var ended: [String: [JobStatus: Int]] = [:]
    private var durations: [String: Histogram] = [:]

    public init() {}

    /// Counts a job that ended.
    public mutating func record(_ job: JobRecord, now: Date) {
        ended[job.runbook, default: [:]][job.status, default: 0] += 1
        guard let duration = job.duration(now: now), job.startedAt != nil else { return }
        var histogram = durations[job.runbook] ?? Histogram()
        for (index, bound) in Self.buckets.enumerated() where duration <= bound { histogram.counts[index] += 1 }
        histogram.count += 1
        histogram.sum += duration
        durations[job.runbook] = histogram
    }

    /// The state the store and the host hold when the file is written.
    public struct Snapshot: Sendable {
        public var up: Bool
        public var startedAt: Date
        public var heartbeatAt: Date
        /// Jobs waiting for a place and running, on this host.
        public var queued: Int
        public var running: Int
        /// Slot time of each schedule's last success.
        public var lastSuccess: [String: Date]

        public init(up: Bool, startedAt: Date, heartbeatAt: Date, queued: Int, running: Int, lastSuccess: [String: Date]) {
            self.up = up
            self.startedAt = startedAt
            self.heartbeatAt = heartbeatAt
            self.queued = queued
            self.running = running
            self.lastSuccess = lastSuccess
        }
    }

    /// The Prometheus text exposition format (version 0.0.4), as
    /// node_exporter's textfile collector reads it.
    public func render(_ snapshot: Snapshot) -> String {
        var text = PrometheusText()
        text.family("runbook_host_up", .gauge, "Whether the runbook host is running (0 once it has stopped).")
        text.sample("runbook_host_up", [], snapshot.up ? 1 : 0)
        text.family("runbook_host_start_time_seconds", .gauge, "When the runbook host started, in Unix time.")
        text.sample("runbook_host_start_time_seconds", [], snapshot.startedAt.timeIntervalSince1970)
        text.family("runbook_host_heartbeat_timestamp_seconds", .gauge, "The runbook host's last heartbeat, in Unix time.")
        text.sample("runbook_host_heartbeat_timestamp_seconds", [], snapshot.heartbeatAt.timeIntervalSince1970)
        text.family("runbook_queue_depth", .gauge, "Jobs queued on this host, waiting for a place to run.")
        text.sample("runbook_queue_depth", [], Double(snapshot.queued))
        text.family("runbook_jobs_running", .gauge, "Jobs running on this host.")
        text.sample("runbook_jobs_running", [], Double(snapshot.running))

        text.family("runbook_jobs_total", .counter, "Jobs this host ended since it started, by runbook and final status.")
        for runbook in ended.keys.sorted() {
            for (status, count) in ended[runbook]!.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                text.sample("runbook_jobs_total", [("runbook", runbook), ("status", status.rawValue)], Double(count))
            }
        }
        text.family("runbook_job_duration_seconds", .histogram, "Run time of the jobs this host ended, by runbook.")
        for runbook in durations.keys.sorted() {
            let histogram = durations[runbook]!
            for (index, bound) in Self.buckets.enumerated() {
                text.sample("runbook_job_duration_seconds_bucket", [("runbook", runbook), ("le", PrometheusText.number(bound))],
                            Double(histogram.counts[index]))
            }
            text.sample("runbook_job_duration_seconds_bucket", [("runbook", runbook), ("le", "+Inf")], Double(histogram.count))
            text.sample("runbook_job_duration_seconds_sum", [("runbook", runbook)], histogram.sum)
            text.sample("runbook_job_duration_seconds_count", [("runbook", runbook)], Double(histogram.count))
        }
        text.family("runbook_schedule_last_success_timestamp_seconds", .gauge,
                    "Slot time of the last successful job of each schedule, in Unix time.")
        for (schedule, slot) in snapshot.lastSuccess.sorted(by: { $0.key < $1.key }) {
            text.sample("runbook_schedule_last_success_timestamp_seconds", [("schedule", schedule)], slot.timeIntervalSince1970)
        }
        return text.output
    }

    /// Writes `text` to `file` atomically (a temporary file renamed over
    /// it), so a collector never reads half a file.
    public static func write(_ text: String, to file: URL) throws {
        do { try AtomicFile.write(Data(text.utf8), to: file) } catch { throw RunError("cannot write \(file.path): \(error)") }
    }
}

/// A writer of the Prometheus text format: `# HELP` and `# TYPE` once per
/// family, before its samples; label values escaped.
struct PrometheusText {
    enum Kind: String { case gauge, counter, histogram }

    private(set) var output = ""

    mutating func family(_ name: String, _ kind: Kind, _ help: String) {
        output += "# HELP \(name) \(help.replacing("\\", with: "\\\\").replacing("\n", with: "\\n"))\n"
        output += "# TYPE \(name) \(kind.rawValue)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        output += name
        if !labels.isEmpty {
            output += "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        output += " \(Self.number(value))\n"
    }

    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A value as Prometheus writes it: integers without a fraction.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
