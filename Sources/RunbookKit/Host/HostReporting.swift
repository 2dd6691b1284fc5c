import FoundationEssentials

/// What the host publishes about itself as jobs end, and the history it
/// prunes: the Prometheus textfile (`--metrics`), the HTML report
/// (`--report`) and retention (`history`). Writes are coalesced: the
/// metrics at most once a second, the report at most every 10 seconds, so
/// a burst of hundreds of jobs costs a handful of writes; each is also
/// written when the host starts and when it stops.
struct HostReporting: Sendable {
    var metricsFile: URL?
    var reportFile: URL?
    var reportWindow: Int
    /// Each runbook's retention; nil prunes nothing.
    var retention: (@Sendable (String) -> Retention)?

    static let metricsInterval: TimeInterval = 1
    static let reportInterval: TimeInterval = 10
    static let pruneInterval: TimeInterval = 600

    private(set) var metrics = HostMetrics()
    /// Slot time of each schedule's last success, read from the store once
    /// per schedule and then kept up to date from the jobs that end here.
    private var lastSuccess: [String: Date] = [:]
    private var seeded: Set<String> = []
    private var metricsDirty = true
    private var reportDirty = true
    private var lastMetrics = Date.distantPast
    private var lastReport = Date.distantPast
    private var lastPrune = Date.distantPast
    /// A report or prune runs on a thread of its own; one at a time.
    var housekeeping = false

    init(options: HostOptions) {
        metricsFile = options.metricsFile
        reportFile = options.reportFile
        reportWindow = options.reportWindow
        retention = options.retention
    }

    mutating func jobEnded(_ record: JobRecord, now: Date) {
        metrics.record(record, now: now)
        if record.status == .succeeded, let schedule = record.schedule, let slot = record.slot {
            lastSuccess[schedule] = max(lastSuccess[schedule] ?? slot, slot)
        }
        metricsDirty = true
        reportDirty = true
    }

    /// Writes the metrics file if it is due (or `force`d).
    mutating func writeMetrics(store: any Store, schedules: [String], snapshot: HostMetrics.Snapshot, now: Date, force: Bool) throws {
        guard let metricsFile, force || (metricsDirty && now.timeIntervalSince(lastMetrics) >= Self.metricsInterval) else { return }
        for name in schedules where !seeded.contains(name) {
            seeded.insert(name)
            if let slot = try store.lastSuccessfulSlot(schedule: name) { lastSuccess[name] = max(lastSuccess[name] ?? slot, slot) }
        }
        var snapshot = snapshot
        snapshot.lastSuccess = lastSuccess.filter { schedules.contains($0.key) }
        try HostMetrics.write(metrics.render(snapshot), to: metricsFile)
        metricsDirty = false
        lastMetrics = now
    }

    /// The housekeeping due now on a thread of its own: the report, the prune.
    mutating func dueHousekeeping(now: Date, force: Bool = false) -> (report: URL?, prune: Bool) {
        guard !housekeeping else { return (nil, false) }
        let report = reportFile.flatMap { file in
            force || (reportDirty && now.timeIntervalSince(lastReport) >= Self.reportInterval) ? file : nil
        }
        let prune = retention != nil && now.timeIntervalSince(lastPrune) >= Self.pruneInterval
        if report != nil {
            reportDirty = false
            lastReport = now
        }
        if prune { lastPrune = now }
        housekeeping = report != nil || prune
        return (report, prune)
    }

    /// When the host must wake next for a coalesced write, if any.
    func nextDeadline() -> Date? {
        var deadlines: [Date] = []
        if metricsFile != nil && metricsDirty { deadlines.append(lastMetrics.addingTimeInterval(Self.metricsInterval)) }
        if reportFile != nil && reportDirty && !housekeeping { deadlines.append(lastReport.addingTimeInterval(Self.reportInterval)) }
        if retention != nil && !housekeeping { deadlines.append(lastPrune.addingTimeInterval(Self.pruneInterval)) }
        return deadlines.min()
    }
}
