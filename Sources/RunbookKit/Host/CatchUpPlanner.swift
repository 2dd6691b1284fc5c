import FoundationEssentials

/// Which slots of a schedule to run now: a pure function of the schedule,
/// the last slot handled, the current time and the catch-up policy.
///
/// Slots come due one at a time while the host runs; several fall due at
/// once only after downtime, a suspend or a wall-clock jump. A backlog whose
/// oldest slot is at most `tolerance` late is simply run (the host was
/// briefly busy); an older backlog goes through the schedule's `catch-up`:
/// - `none`: run nothing, every slot is `missed`;
/// - `latest` (the default): run the newest slot if it lies within
///   `catch-up-window` of now, the rest are `missed`;
/// - `all`: run every slot within the window, older ones are `missed`.
/// Caught-up jobs keep their own slot time (`RUNBOOK_SCHEDULED_TIME`).
public enum CatchUpPlanner {
    /// A run of consecutive slots not run, recorded as one `missed` job.
    public struct Missed: Sendable, Equatable {
        public var first: Date
        public var last: Date
        public var count: Int
    }

    public struct Plan: Sendable, Equatable {
        /// Slots to run, oldest first.
        public var run: [Date] = []
        /// Slots the policy chose not to run.
        public var missed: Missed? = nil
    }

    /// A backlog at most this late is run as it is, whatever the policy.
    public static let tolerance: TimeInterval = 5

    /// How many due slots are looked at, at most: a 1-second schedule after a
    /// week of downtime has 604,800; the oldest beyond this are counted as
    /// one missed run starting at the first of them.
    public static let scanLimit = 200_000

    /// The plan for the slots of `schedule` after `cursor` up to `now`.
    public static func plan(_ schedule: Schedule, after cursor: Date, now: Date,
                            policy: ScheduleFile.CatchUp, window: TimeInterval) -> Plan {
        var due: [Date] = []
        var next = schedule.nextFireDate(after: cursor)
        var skippedEarly = 0
        var firstSkipped: Date?
        while let slot = next, slot <= now {
            if due.count == scanLimit {
                // Keep the newest scanLimit slots; count the older ones.
                if firstSkipped == nil { firstSkipped = due[0] }
                due.removeFirst(due.count / 2)
                skippedEarly += scanLimit - due.count
            }
            due.append(slot)
            next = schedule.nextFireDate(after: slot)
        }
        guard let oldest = firstSkipped ?? due.first, let newest = due.last else { return Plan() }
        if skippedEarly == 0 && now.timeIntervalSince(oldest) <= tolerance {
            return Plan(run: due)
        }
        let inWindow = due.filter { now.timeIntervalSince($0) <= window }
        var run: [Date]
        switch policy {
        case .none: run = []
        case .latest: run = inWindow.last.map { [$0] } ?? []
        case .all: run = inWindow
        }
        let missedCount = due.count + skippedEarly - run.count
        guard missedCount > 0 else { return Plan(run: run) }
        let missedSlots = due.filter { !run.contains($0) }
        let first = firstSkipped ?? missedSlots.first ?? oldest
        let last = missedSlots.last ?? newest
        return Plan(run: run, missed: Missed(first: first, last: last, count: missedCount))
    }
}
