import FoundationEssentials
import FoundationInternationalization
import Glibc

/// A parsed schedule: a cron expression, a readable `every ...` form or a
/// once-off `at ...`, in one time zone, optionally bounded by `starts` and
/// `expires`. It keeps its original text and has one pure function,
/// `nextFireDate(after:)`.
///
/// All forms compile to one engine working on integer seconds and a shared,
/// precomputed table of the zone's UTC-offset transitions (`ZoneRules`), so the
/// hot path neither allocates nor touches Foundation's `Calendar`.
public struct Schedule: Sendable, Hashable, CustomStringConvertible {
    /// Which of the three spellings the schedule was written in.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case cron, every, at
    }

    /// The spec as written (trimmed).
    public let text: String
    public let kind: Kind
    /// The zone the schedule's wall-clock times are read in.
    public let timeZone: TimeZone
    /// No fire before this instant.
    public let starts: Date?
    /// No fire after this instant.
    public let expires: Date?

    enum Rule: Sendable, Hashable {
        case cron(CronExpression)
        case recurrence(Recurrence)
        case once(wall: Int64)
    }

    let rule: Rule
    let rules: ZoneRules
    private let startsSecond: Int64?
    private let expiresSecond: Int64?

    /// Parses a spec.
    ///
    /// - Parameters:
    ///   - spec: `5 * * * *`, `@daily`, `every 15 minutes` (the word `every` may
    ///     be left out, as in the file key `every = 15 minutes`) or
    ///     `at 2026-12-01 10:00`.
    ///   - kind: the spelling when the caller knows it (the file key); nil to detect it.
    ///   - timeZone: the zone wall-clock times are read in.
    ///   - starts: no fire before; also the anchor for multi-day/week/month steps
    ///     and for intervals that do not divide a day.
    ///   - expires: no fire after.
    /// - Throws: `ScheduleParseError` with a code, the column in `spec` and a fix
    ///   (`.wrongFieldCount`, `.valueOutOfRange`, `.zeroStep`, `.neverFires`,
    ///   `.invalidInterval`, `.invalidTime`, `.invalidDate`, ...).
    public static func parse(_ spec: String, kind: Kind? = nil, timeZone: TimeZone,
                             starts: Date? = nil, expires: Date? = nil) throws(ScheduleParseError) -> Schedule {
        let text = spec.trimmingWhitespace()
        guard !text.isEmpty else {
            throw ScheduleParseError(code: .empty, message: "the schedule is empty; write a cron expression such as '5 * * * *', 'every 15 minutes' or 'at 2026-12-01 10:00'")
        }
        let zone = ZoneRules.rules(for: timeZone)
        let startsSecond = starts.map { Int64(ceil($0.timeIntervalSince1970)) }
        let resolvedKind = kind ?? detectKind(text)
        let rule: Rule
        switch resolvedKind {
        case .cron:
            // Leading whitespace was trimmed; columns refer to the trimmed text
            // plus the offset of the first non-blank character.
            let lead = spec.prefix(while: { $0.isWhitespace }).count
            do {
                rule = .cron(try CronParser.parse(text))
            } catch {
                var shifted = error
                shifted.column = error.column.map { $0 + lead }
                throw shifted
            }
        case .every, .at:
            var parser = ReadableParser(text)
            let startsDay = startsSecond.map { Int(floorDiv(zone.wall(forUTC: $0).wall, 86_400)) }
            let lead = spec.prefix(while: { $0.isWhitespace }).count
            let parsed: ReadableParser.Result
            do {
                parsed = try parser.parse(startsUTC: startsSecond, startsLocalDay: startsDay)
            } catch {
                var shifted = error
                shifted.column = error.column.map { $0 + lead }
                throw shifted
            }
            switch parsed {
            case let .recurrence(r): rule = .recurrence(r)
            case let .once(wall): rule = .once(wall: wall)
            }
        }
        let finalKind: Kind
        if case .once = rule { finalKind = .at } else if case .cron = rule { finalKind = .cron } else { finalKind = .every }
        let schedule = Schedule(text: text, kind: finalKind, timeZone: timeZone, starts: starts, expires: expires,
                                rule: rule, rules: zone, startsSecond: startsSecond,
                                expiresSecond: expires.map { Int64(floor($0.timeIntervalSince1970)) })
        if case let .recurrence(r) = rule {
            // Month steps can miss every month that has the day (`every 12 months
            // on day 30` anchored in February): refuse what can never fire.
            let probe = Int64(CivilDate.dayNumber(year: 2000, month: 1, day: 1)) * 86_400
            if r.next(after: max(probe, startsSecond ?? probe), rules: zone) == nil {
                throw ScheduleParseError(code: .neverFires, message: "'\(text)' can never fire: the months it counts never have that day; use 'the last day' or another step")
            }
        }
        return schedule
    }

    /// `every`/`at` when the text reads like a sentence, otherwise cron.
    static func detectKind(_ text: String) -> Kind {
        let lower = text.lowercased()
        if lower.hasPrefix("@") { return .cron }
        if lower.hasPrefix("at ") { return .at }
        if lower.hasPrefix("every") { return .every }
        // Cron uses letters only in names (mon, jan), L, W and H; a unit word or
        // a full day name means a readable form written without `every`.
        let words = lower.split(whereSeparator: { $0.isWhitespace || $0 == "," })
        let sentenceWords: Set<String> = ["second", "seconds", "minute", "minutes", "hour", "hours", "day", "days",
                                          "week", "weeks", "month", "months", "weekday", "weekdays", "weekend",
                                          "weekends", "other", "on", "at", "min", "mins", "sec", "secs", "hr", "hrs"]
        if words.contains(where: { sentenceWords.contains(String($0)) || ReadableParser.dayWords[String($0)] != nil && $0.count > 3 }) {
            return .every
        }
        return .cron
    }

    private init(text: String, kind: Kind, timeZone: TimeZone, starts: Date?, expires: Date?, rule: Rule,
                 rules: ZoneRules, startsSecond: Int64?, expiresSecond: Int64?) {
        self.text = text
        self.kind = kind
        self.timeZone = timeZone
        self.starts = starts
        self.expires = expires
        self.rule = rule
        self.rules = rules
        self.startsSecond = startsSecond
        self.expiresSecond = expiresSecond
    }

    /// The first fire strictly after `after`, exact to the second; nil when
    /// there is none (past `expires`, an `at` in the past, or — for cron, as in
    /// cronsim — nothing within 50 years).
    public func nextFireDate(after: Date) -> Date? {
        let seconds = after.timeIntervalSince1970
        guard seconds.isFinite else { return nil }
        guard let next = nextFireSecond(after: Int64(seconds.rounded(.down))) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(next))
    }

    /// The next `count` fires after `after`, in order.
    public func nextFireDates(after: Date, count: Int) -> [Date] {
        var result: [Date] = []
        var cursor = after
        while result.count < count, let next = nextFireDate(after: cursor) {
            result.append(next)
            cursor = next
        }
        return result
    }

    /// `nextFireDate(after:)` on whole UTC seconds.
    @inline(__always) func nextFireSecond(after: Int64) -> Int64? {
        var a = after
        if let s = startsSecond, a < s - 1 { a = s - 1 }
        let result: Int64?
        switch rule {
        case let .cron(expression): result = expression.next(after: a, rules: rules)
        case let .recurrence(recurrence): result = recurrence.next(after: a, rules: rules)
        case let .once(wall):
            let instant = rules.firstInstant(forWall: wall)
            result = instant > a ? instant : nil
        }
        guard let result else { return nil }
        if let e = expiresSecond, result > e { return nil }
        return result
    }

    /// True for cron jobs Debian treats as fixed-time (minute and hour start with a digit).
    public var isFixedTime: Bool {
        if case let .cron(e) = rule { return e.fixedTime }
        if case let .recurrence(r) = rule, case .at = r.times { return true }
        if case .once = rule { return true }
        return false
    }

    /// The shortest gap between consecutive fires over the next year from
    /// `reference`, for checks such as "jitter must be below the interval";
    /// nil for a once-off schedule or one with fewer than two fires.
    public func shortestInterval(from reference: Date) -> TimeInterval? {
        var previous: Date? = nil
        var shortest: TimeInterval? = nil
        var cursor = reference
        let end = reference.addingTimeInterval(366 * 86_400)
        for _ in 0..<1_000 {
            guard let next = nextFireDate(after: cursor), next <= end else { break }
            if let previous {
                let gap = next.timeIntervalSince(previous)
                shortest = min(shortest ?? gap, gap)
            }
            previous = next
            cursor = next
        }
        return shortest
    }

    /// Resolves an IANA zone name, as `timezone =` and `--tz` take it.
    ///
    /// - Throws: `ScheduleParseError` `.unknownTimeZone`, naming the closest
    ///   known zone when there is one (`europe/berlin` → `Europe/Berlin`).
    public static func timeZone(named name: String) throws(ScheduleParseError) -> TimeZone {
        let trimmed = name.trimmingWhitespace()
        if knownZoneNames.contains(trimmed) || trimmed == "UTC" || trimmed == "GMT", let zone = TimeZone(identifier: trimmed) {
            return zone
        }
        throw ScheduleParseError(code: .unknownTimeZone, message: ScheduleFile.unknownZoneMessage(trimmed), column: 1)
    }

    /// IANA names the host knows, read once.
    static let knownZoneNames = Set(TimeZone.knownTimeZoneIdentifiers)

    /// Advice for `runbook check` that is not an error: month days that some
    /// months lack are skipped there (DESIGN.md), so suggest `last day`/`L`.
    public var hints: [String] {
        switch rule {
        case let .recurrence(r):
            if case let .monthDays(days, _, _, _, _) = r.dates, days >> 29 != 0 {
                return ["'\(text)': months without day \((29...31).filter { days & (1 << UInt32($0)) != 0 }.map(String.init).joined(separator: ", ")) are skipped; write 'on the last day' to run at every month's end"]
            }
        case let .cron(e):
            // Only a short list of month days is advice-worthy: `*` and
            // `*/2` mean "every (other) day", not "the 31st".
            if e.days >> 29 != 0 && e.days.nonzeroBitCount <= 7 {
                return ["'\(text)': months without day \((29...31).filter { e.days & (1 << UInt32($0)) != 0 }.map(String.init).joined(separator: ", ")) are skipped; use 'L' in the day-of-month field for the last day of every month"]
            }
        case .once:
            break
        }
        return []
    }

    public var description: String { "\(text) (\(timeZone.identifier))" }

    public static func == (a: Schedule, b: Schedule) -> Bool {
        a.text == b.text && a.kind == b.kind && a.timeZone.identifier == b.timeZone.identifier
            && a.starts == b.starts && a.expires == b.expires
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(text)
        hasher.combine(kind)
        hasher.combine(timeZone.identifier)
        hasher.combine(starts)
        hasher.combine(expires)
    }
}
