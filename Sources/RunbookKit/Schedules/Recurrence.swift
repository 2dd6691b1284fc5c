/// A readable (`every ...`) schedule compiled to a date rule and a time rule.
///
/// Time semantics (DESIGN.md "Time semantics"):
/// - `.at` times fire once per matching local date; a time in a spring-forward
///   gap fires at the first instant after the gap, a repeated time at its first
///   occurrence;
/// - `.interval` fires whenever the local time of day is a multiple of the
///   interval since local midnight, following the clock as it is (gap times do
///   not happen, repeated times happen twice);
/// - `.elapsed` fires every interval of real time counted from `starts`.
struct Recurrence: Sendable, Hashable {
    enum Dates: Sendable, Hashable {
        /// Every `step` days counted from day number `anchorDay`.
        case days(step: Int, anchorDay: Int)
        /// Weekdays in `mask` (bit 0 = Sunday), every `step` weeks counted from
        /// the week starting on Monday `anchorMonday` (a day number).
        case weekdays(mask: UInt8, step: Int, anchorMonday: Int)
        /// Month days (`days` bits 1...31, `lastDay`, `nth` bits weekday * 8 + n
        /// with n 1...4, 5 = last) every `step` months counted from `anchorMonth`
        /// (year * 12 + month - 1).
        case monthDays(days: UInt32, lastDay: Bool, nth: UInt64, step: Int, anchorMonth: Int)
    }

    enum Times: Sendable, Hashable {
        case at([Int])
        case interval(Int)
        case elapsed(Int, from: Int64)
    }

    var dates: Dates
    var times: Times

    /// Dates further than this from the query are not searched (400 years).
    static let horizonDays = 146_097

    func isEligible(day dn: Int) -> Bool {
        nextEligible(onOrAfter: dn, limit: dn) == dn
    }

    /// The first eligible day number at or after `dn` and not after `limit`.
    func nextEligible(onOrAfter start: Int, limit: Int) -> Int? {
        switch dates {
        case let .days(step, anchor):
            let r = Int(floorMod(Int64(start - anchor), Int64(step)))
            let d = r == 0 ? start : start + step - r
            return d <= limit ? d : nil
        case let .weekdays(mask, step, anchorMonday):
            var d = start
            while d <= limit {
                let week = Int(floorDiv(Int64(d - anchorMonday), 7))
                let r = Int(floorMod(Int64(week), Int64(step)))
                if r != 0 {
                    d = anchorMonday + (week + step - r) * 7
                    continue
                }
                if mask & (1 << UInt8(CivilDate.weekday(dayNumber: d))) != 0 { return d }
                d += 1
            }
            return nil
        case let .monthDays(days, lastDay, nth, step, anchorMonth):
            let date = CivilDate(dayNumber: start)
            var year = date.year, month = date.month, day = date.day
            var dn = start
            while dn <= limit {
                let index = year * 12 + month - 1
                let r = Int(floorMod(Int64(index - anchorMonth), Int64(step)))
                if r != 0 {
                    let next = index + step - r
                    year = Int(floorDiv(Int64(next), 12))
                    month = Int(floorMod(Int64(next), 12)) + 1
                    day = 1
                    dn = CivilDate.dayNumber(year: year, month: month, day: 1)
                    continue
                }
                let dim = CivilDate.daysInMonth(year: year, month: month)
                var weekday = CivilDate.weekday(dayNumber: dn)
                while day <= dim {
                    if dn > limit { return nil }
                    if days & (1 << UInt32(day)) != 0 || (lastDay && day == dim) { return dn }
                    if nth != 0 {
                        let n = (day + 6) / 7
                        if nth & (1 << UInt64(weekday * 8 + n)) != 0 { return dn }
                        if day + 7 > dim && nth & (1 << UInt64(weekday * 8 + 5)) != 0 { return dn }
                    }
                    day += 1
                    dn += 1
                    weekday = weekday == 6 ? 0 : weekday + 1
                }
                month += 1
                if month > 12 { month = 1; year += 1 }
                day = 1
            }
            return nil
        }
    }

    /// The first fire strictly after UTC second `after`.
    func next(after: Int64, rules: ZoneRules) -> Int64? {
        switch times {
        case let .at(times):
            let localDay = Int(floorDiv(rules.wall(forUTC: after).wall, 86_400))
            var dn = localDay - 1
            let limit = localDay + Self.horizonDays
            while let day = nextEligible(onOrAfter: dn, limit: limit) {
                let base = Int64(day) * 86_400
                for t in times {
                    let instant = rules.firstInstant(forWall: base + Int64(t))
                    if instant > after { return instant }
                }
                dn = day + 1
            }
            return nil
        case let .interval(step):
            var from = after + 1
            var index = rules.period(containing: from)
            let stop = after + Int64(Self.horizonDays) * 86_400
            while from < stop {
                let offset = rules.offsets[index]
                let wall = from + offset
                let day = Int(floorDiv(wall, 86_400))
                var candidate: Int64
                if isEligible(day: day) {
                    let sod = floorMod(wall, 86_400)
                    let up = (sod + Int64(step) - 1) / Int64(step) * Int64(step)
                    if up < 86_400 {
                        candidate = Int64(day) * 86_400 + up
                    } else {
                        guard let d = nextEligible(onOrAfter: day + 1, limit: day + Self.horizonDays) else { return nil }
                        candidate = Int64(d) * 86_400
                    }
                } else {
                    guard let d = nextEligible(onOrAfter: day + 1, limit: day + Self.horizonDays) else { return nil }
                    candidate = Int64(d) * 86_400
                }
                let utc = candidate - offset
                if utc < rules.periodEnd(index) { return utc }
                from = rules.periodEnd(index)
                index += 1
            }
            return nil
        case let .elapsed(step, origin):
            if after < origin { return origin }
            let k = (after - origin) / Int64(step) + 1
            return origin + k * Int64(step)
        }
    }
}
