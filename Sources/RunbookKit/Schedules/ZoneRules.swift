import FoundationEssentials
import Synchronization

/// A time zone's UTC-offset history as a flat table, built once per zone from
/// Foundation's `TimeZone` (the system's tzdata) and shared by every schedule
/// in that zone.
///
/// Conversions follow Python's `zoneinfo` (PEP 495) exactly, because cron
/// behaviour is defined by cronsim, which runs on it:
/// - UTC to wall time gives `fold = true` for the second occurrence of a
///   repeated wall time;
/// - wall time to UTC with `fold = false` uses the offset in force *before* a
///   transition for both gap and overlap wall times, `fold = true` the offset after.
final class ZoneRules: Sendable {
    let identifier: String
    /// UTC seconds of each offset change, ascending.
    let transitions: [Int64]
    /// `offsets[i]` is in force from `transitions[i - 1]` (or the distant past)
    /// up to `transitions[i]`; one more element than `transitions`.
    let offsets: [Int64]
    /// Wall-clock instant of each transition for fold 0 (`t + max(before, after)`).
    private let wallFold0: [Int64]
    /// Wall-clock instant of each transition for fold 1 (`t + min(before, after)`).
    private let wallFold1: [Int64]
    /// UTC seconds of the transitions that are not a whole-hour shift at a whole
    /// local hour (Australia/Lord_Howe's 30-minute shift, Pacific/Chatham's 02:45
    /// change, Asia/Tehran's 1978 change). cronsim mis-steps hours across these;
    /// see `CronExpression`.
    let irregularTransitions: [Int64]

    var hasIrregularTransitions: Bool { !irregularTransitions.isEmpty }

    /// Whether an irregular transition lies in `range` (UTC seconds).
    func hasIrregularTransition(in range: ClosedRange<Int64>) -> Bool {
        guard !irregularTransitions.isEmpty else { return false }
        var lo = 0, hi = irregularTransitions.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if irregularTransitions[mid] < range.lowerBound { lo = mid + 1 } else { hi = mid }
        }
        return lo < irregularTransitions.count && irregularTransitions[lo] <= range.upperBound
    }

    /// The table covers 1900 to 2200; outside it the nearest offset holds.
    static let firstYear = 1900
    static let lastYear = 2200

    init(timeZone: TimeZone) {
        identifier = timeZone.identifier
        let start = Date(timeIntervalSince1970: TimeInterval(CivilDate.dayNumber(year: Self.firstYear, month: 1, day: 1)) * 86_400)
        let end = Date(timeIntervalSince1970: TimeInterval(CivilDate.dayNumber(year: Self.lastYear, month: 1, day: 1)) * 86_400)
        var transitions: [Int64] = []
        var offsets: [Int64] = [Int64(timeZone.secondsFromGMT(for: start))]
        var cursor = start
        while let next = timeZone.nextDaylightSavingTimeTransition(after: cursor), next < end {
            let seconds = Int64(next.timeIntervalSince1970.rounded())
            let after = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
            if after != offsets[offsets.count - 1] {
                transitions.append(seconds)
                offsets.append(after)
            }
            cursor = next.addingTimeInterval(1)
        }
        self.transitions = transitions
        self.offsets = offsets
        var w0: [Int64] = []
        var w1: [Int64] = []
        var irregular: [Int64] = []
        for (i, t) in transitions.enumerated() {
            let before = offsets[i], after = offsets[i + 1]
            w0.append(t + max(before, after))
            w1.append(t + min(before, after))
            if (after - before) % 3600 != 0 || floorMod(t + after, 3600) != 0 || floorMod(t + before, 3600) != 0 {
                irregular.append(t)
            }
        }
        wallFold0 = w0
        wallFold1 = w1
        irregularTransitions = irregular
    }

    /// Index of the offset period holding UTC second `utc` (bisect_right).
    @inline(__always) func period(containing utc: Int64) -> Int {
        var lo = 0, hi = transitions.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if transitions[mid] <= utc { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The UTC second at which period `index` ends (Int64.max for the last).
    @inline(__always) func periodEnd(_ index: Int) -> Int64 {
        index < transitions.count ? transitions[index] : Int64.max
    }

    /// The UTC second at which period `index` starts (Int64.min for the first).
    @inline(__always) func periodStart(_ index: Int) -> Int64 {
        index > 0 ? transitions[index - 1] : Int64.min
    }

    /// The offset for a wall-clock second with the given fold (zoneinfo rules).
    @inline(__always) func offset(forWall wall: Int64, fold: Bool) -> Int64 {
        let list = fold ? wallFold1 : wallFold0
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if list[mid] <= wall { lo = mid + 1 } else { hi = mid }
        }
        return offsets[lo]
    }

    /// Wall-clock second and fold for a UTC second.
    @inline(__always) func wall(forUTC utc: Int64) -> (wall: Int64, fold: Bool) {
        let index = period(containing: utc)
        let off = offsets[index]
        var fold = false
        if index > 0 {
            let shift = offsets[index - 1] - off
            fold = shift > utc - transitions[index - 1]
        }
        return (utc + off, fold)
    }

    /// Whether a wall-clock second does not exist (falls in a spring-forward gap).
    @inline(__always) func isImaginary(wall: Int64) -> Bool {
        let utc = wall - offset(forWall: wall, fold: false)
        return self.wall(forUTC: utc).wall != wall
    }

    /// The instant a fixed wall time stands for: its first occurrence when it is
    /// repeated, the end of the gap when it does not exist.
    func firstInstant(forWall wall: Int64) -> Int64 {
        let utc = wall - offset(forWall: wall, fold: false)
        if self.wall(forUTC: utc).wall == wall { return utc }
        // In a gap: fold 0 used the earlier offset, landing after the transition.
        let index = period(containing: utc)
        return index > 0 ? transitions[index - 1] : utc
    }

    private static let cache = Mutex<[String: ZoneRules]>([:])

    /// The shared table for `timeZone`, built on first use.
    static func rules(for timeZone: TimeZone) -> ZoneRules {
        let id = timeZone.identifier
        if let hit = cache.withLock({ $0[id] }) { return hit }
        let built = ZoneRules(timeZone: timeZone)
        return cache.withLock { table in
            if let raced = table[id] { return raced }
            table[id] = built
            return built
        }
    }
}
