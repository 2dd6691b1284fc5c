import Foundation
import Testing
@testable import RunbookKit

/// Seeded random valid specs checked against an independent slow matcher that
/// expands fields into sets and reads wall clocks with Foundation's Calendar.
@Suite("Schedule properties")
struct SchedulePropertyTests {

    /// A deliberately naive cron matcher: fields as sets, no shortcuts.
    struct SlowMatcher {
        var minutes: Set<Int>, hours: Set<Int>, days: Set<Int>, months: Set<Int>, weekdays: Set<Int>
        var dayAnd: Bool
        var fixed: Bool

        init(_ spec: String) {
            let f = spec.split(separator: " ").map(String.init)
            func expand(_ field: String, _ low: Int, _ high: Int) -> Set<Int> {
                var out: Set<Int> = []
                for part in field.split(separator: ",") {
                    var range = String(part), step = 1
                    if let slash = part.firstIndex(of: "/") {
                        range = String(part[..<slash])
                        step = Int(part[part.index(after: slash)...])!
                    }
                    var lo = low, hi = high
                    if range != "*" {
                        let ends = range.split(separator: "-").map { Int($0)! }
                        lo = ends[0]
                        hi = ends.count > 1 ? ends[1] : (part.contains("/") ? high : ends[0])
                    }
                    var v = lo
                    while v <= hi { out.insert(v); v += step }
                }
                return out
            }
            minutes = expand(f[0], 0, 59)
            hours = expand(f[1], 0, 23)
            days = expand(f[2], 1, 31)
            months = expand(f[3], 1, 12)
            weekdays = Set(expand(f[4], 0, 7).map { $0 % 7 })
            dayAnd = f[2].hasPrefix("*") || f[4].hasPrefix("*")
            fixed = !f[0].hasPrefix("*") && !f[1].hasPrefix("*")
        }

        func matches(_ date: Date, calendar: Calendar) -> Bool {
            let c = calendar.dateComponents([.minute, .hour, .day, .month, .weekday, .second], from: date)
            guard c.second == 0, minutes.contains(c.minute!), hours.contains(c.hour!), months.contains(c.month!) else { return false }
            let dom = days.contains(c.day!), dow = weekdays.contains(c.weekday! - 1)
            return dayAnd ? (dom && dow) : (dom || dow)
        }
    }

    static func randomSpec(_ rng: inout SplitMix64) -> String {
        func field(_ low: Int, _ high: Int, star: Int) -> String {
            if rng.below(100) < star { return rng.below(4) == 0 ? "*/\(1 + rng.below(max(1, (high - low) / 3)))" : "*" }
            switch rng.below(4) {
            case 0: return "\(low + rng.below(high - low + 1))"
            case 1:
                let a = low + rng.below(high - low + 1)
                return "\(a)-\(a + rng.below(high - a + 1))"
            case 2:
                let a = low + rng.below(high - low + 1), b = low + rng.below(high - low + 1)
                return a == b ? "\(a)" : "\(min(a, b)),\(max(a, b))"
            default:
                return "\(low + rng.below(high - low + 1))-\(high)/\(1 + rng.below(5))"
            }
        }
        return "\(field(0, 59, star: 30)) \(field(0, 23, star: 40)) \(field(1, 31, star: 80)) \(field(1, 12, star: 85)) \(field(0, 7, star: 75))"
    }

    static let zones = ["UTC", "Asia/Tokyo", "America/New_York", "Australia/Sydney", "Europe/London"]

    @Test(.timeLimit(.minutes(5)))
    func nextIsLaterMatchingAndNothingIsSkipped() throws {
        var rng = SplitMix64(seed: 2026)
        var checked = 0
        var minutesStepped = 0
        let windowStart = 1_767_225_600 // 2026-01-01
        while checked < 120 {
            let spec = Self.randomSpec(&rng)
            let zoneName = Self.zones[rng.below(Self.zones.count)]
            let zone = ScheduleTesting.zone(zoneName)
            guard let schedule = try? Schedule.parse(spec, timeZone: zone) else { continue }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let matcher = SlowMatcher(spec)
            let t = Date(timeIntervalSince1970: TimeInterval(windowStart + rng.below(2 * 365 * 86_400) + rng.below(60)))
            guard let next = schedule.nextFireDate(after: t) else {
                Issue.record("\(spec) in \(zoneName) has no fire after \(t)")
                continue
            }
            checked += 1
            #expect(next > t, "\(spec) \(zoneName) \(t)")
            let atTransition = zone.secondsFromGMT(for: next) != zone.secondsFromGMT(for: next.addingTimeInterval(-1))
            #expect(matcher.matches(next, calendar: calendar) || (matcher.fixed && atTransition),
                    "\(spec) in \(zoneName): \(iso8601(next, in: zone)) does not match")
            // Brute force: no earlier real minute fires (fixed-time jobs skip the second pass of a repeated hour).
            var minute = (Int(t.timeIntervalSince1970) / 60 + 1) * 60
            let end = min(Int(next.timeIntervalSince1970), minute + 2 * 86_400)
            while minute < end {
                let date = Date(timeIntervalSince1970: TimeInterval(minute))
                if matcher.matches(date, calendar: calendar) && !(matcher.fixed && Self.isSecondOccurrence(date, zone)) {
                    Issue.record("\(spec) in \(zoneName) after \(iso8601(t, in: zone)): \(iso8601(date, in: zone)) matches before \(iso8601(next, in: zone))")
                    break
                }
                minute += 60
                minutesStepped += 1
            }
        }
        #expect(minutesStepped > 20_000, "the brute force covered \(minutesStepped) minutes")
    }

    /// Whether the wall time of `date` already happened earlier (fall-back).
    static func isSecondOccurrence(_ date: Date, _ zone: TimeZone) -> Bool {
        let now = zone.secondsFromGMT(for: date)
        let before = zone.secondsFromGMT(for: date.addingTimeInterval(-7200))
        guard before > now else { return false }
        let earlier = date.addingTimeInterval(-TimeInterval(before - now))
        return zone.secondsFromGMT(for: earlier) == before
    }

    @Test func consecutiveFiresStrictlyIncrease() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let spec = Self.randomSpec(&rng)
            let zone = ScheduleTesting.zone(Self.zones[rng.below(Self.zones.count)])
            guard let schedule = try? Schedule.parse(spec, timeZone: zone) else { continue }
            let fires = schedule.nextFireDates(after: Date(timeIntervalSince1970: 1_790_000_000), count: 20)
            #expect(zip(fires, fires.dropFirst()).allSatisfy { $0 < $1 }, "\(spec)")
        }
    }

    @Test func readableIntervalsMatchTheirCronEquivalents() throws {
        let pairs = [("every 15 minutes", "*/15 * * * *"), ("every 2 hours", "0 */2 * * *"), ("every day at 02:30", "30 2 * * *"),
                     ("every weekday at 07:00", "0 7 * * 1-5"), ("every month on the last day at 23:00", "0 23 L * *"),
                     ("every month on the first monday at 09:00", "0 9 * * 1#1"), ("every monday, thursday at 09:15", "15 9 * * 1,4")]
        for zoneName in Self.zones + ["Europe/Berlin"] {
            let zone = ScheduleTesting.zone(zoneName)
            for (readable, cron) in pairs {
                let a = try Schedule.parse(readable, timeZone: zone).nextFireDates(after: Date(timeIntervalSince1970: 1_772_000_000), count: 60)
                let b = try Schedule.parse(cron, timeZone: zone).nextFireDates(after: Date(timeIntervalSince1970: 1_772_000_000), count: 60)
                #expect(a == b, "\(readable) vs \(cron) in \(zoneName)")
            }
        }
    }
}
