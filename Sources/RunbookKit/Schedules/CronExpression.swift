/// A parsed five-field cron expression in Debian cron's dialect, plus `L`,
/// `LW`, `xL` and `x#n`, stored as bit sets.
///
/// Matching and stepping reproduce cronsim (the reference named in DESIGN.md
/// "Time semantics") step for step, including its DST behaviour:
/// - a *fixed-time* job (minute and hour fields both start with a digit) is
///   searched on the naive local clock; a result in a spring-forward gap is
///   moved forward minute by minute to the first real time, and a repeated
///   time resolves to its first occurrence;
/// - any other job walks real time and reads the wall clock as it is, so gap
///   times never happen and repeated times happen twice.
///
/// Exception (documented choice): in zones whose transitions are not whole-hour
/// shifts at whole local hours (Australia/Lord_Howe, Pacific/Chatham), cronsim's
/// hour stepping lands on half hours and skips real matching times. There,
/// clock-following jobs use the DESIGN rule directly: every real instant whose
/// wall-clock reading matches fires, in order.
struct CronExpression: Sendable, Hashable {
    var minutes: UInt64 = 0      // bits 0...59
    var hours: UInt32 = 0        // bits 0...23
    var days: UInt32 = 0         // bits 1...31
    var lastDay = false          // `L` in day-of-month
    var lastWeekday = false      // `LW` in day-of-month
    var months: UInt16 = 0       // bits 1...12
    var weekdays: UInt8 = 0      // bits 0...7 (0 and 7 are Sunday)
    var lastOfWeekday: UInt8 = 0 // `xL`: bits 0...7
    var nthWeekday: UInt64 = 0   // `x#n`: bit x * 8 + n
    /// Day-of-month and day-of-week must both match (either field starts with `*`).
    var dayAnd = true
    /// Minute and hour both start with a digit: Debian's fixed-time DST handling.
    var fixedTime = false

    // MARK: - Matching

    @inline(__always) func matchesDay(year: Int, month: Int, day: Int, weekday: Int, daysInMonth: Int) -> Bool {
        let dom = matchesDayOfMonth(year: year, month: month, day: day, weekday: weekday, daysInMonth: daysInMonth)
        if dayAnd && !dom { return false }
        if !dayAnd && dom { return true }
        return matchesDayOfWeek(day: day, weekday: weekday, daysInMonth: daysInMonth)
    }

    @inline(__always) func matchesDayOfMonth(year: Int, month: Int, day: Int, weekday: Int, daysInMonth: Int) -> Bool {
        if days & (1 << UInt32(day)) != 0 { return true }
        if lastWeekday && day >= 26 {
            // The last Monday-to-Friday day of the month.
            let lastDow = (weekday + daysInMonth - day) % 7
            let target = lastDow == 0 ? daysInMonth - 2 : (lastDow == 6 ? daysInMonth - 1 : daysInMonth)
            if day == target { return true }
        }
        if lastDay && day == daysInMonth { return true }
        return false
    }

    @inline(__always) func matchesDayOfWeek(day: Int, weekday: Int, daysInMonth: Int) -> Bool {
        let sunday7: UInt8 = weekday == 0 ? 0x80 : 0
        let bit = UInt8(1) << UInt8(weekday) | sunday7
        if weekdays & bit != 0 { return true }
        if lastOfWeekday & bit != 0 && day + 7 > daysInMonth { return true }
        if nthWeekday != 0 {
            let n = UInt64((day + 6) / 7)
            if nthWeekday & (1 << (UInt64(weekday) * 8 + n)) != 0 { return true }
            if weekday == 0 && nthWeekday & (1 << (7 * 8 + n)) != 0 { return true }
        }
        return false
    }

    /// Whether a naive local wall-clock second matches every field.
    func matches(wall: Int64) -> Bool {
        if floorMod(wall, 60) != 0 { return false }
        let minute = Int(floorMod(wall, 3600) / 60)
        let hour = Int(floorMod(wall, 86_400) / 3600)
        guard minutes & (1 << UInt64(minute)) != 0, hours & (1 << UInt32(hour)) != 0 else { return false }
        let dn = Int(floorDiv(wall, 86_400))
        let date = CivilDate(dayNumber: dn)
        guard months & (1 << UInt16(date.month)) != 0 else { return false }
        return matchesDay(year: date.year, month: date.month, day: date.day,
                          weekday: CivilDate.weekday(dayNumber: dn),
                          daysInMonth: CivilDate.daysInMonth(year: date.year, month: date.month))
    }

    /// Whether some date in a full 400-year Gregorian cycle satisfies the day
    /// and month fields (the calendar repeats after that, so otherwise never).
    func canEverMatchDay() -> Bool {
        let first = CivilDate.dayNumber(year: 2000, month: 1, day: 1)
        var date = CivilDate(year: 2000, month: 1, day: 1)
        var weekday = CivilDate.weekday(dayNumber: first)
        var dim = 31
        for _ in 0..<146_097 {
            if months & (1 << UInt16(date.month)) != 0,
               matchesDay(year: date.year, month: date.month, day: date.day, weekday: weekday, daysInMonth: dim) {
                return true
            }
            weekday = weekday == 6 ? 0 : weekday + 1
            date.day += 1
            if date.day > dim {
                date.day = 1
                date.month += 1
                if date.month > 12 { date.month = 1; date.year += 1 }
                dim = CivilDate.daysInMonth(year: date.year, month: date.month)
            }
        }
        return false
    }

    // MARK: - Next fire

    /// The first fire strictly after UTC second `after`, or nil when cronsim
    /// would give up (no match within 50 years).
    func next(after: Int64, rules: ZoneRules) -> Int64? {
        if fixedTime {
            // A start inside a repeated hour can resolve to the first occurrence,
            // before `after` (cronsim would return it); keep searching the naive
            // clock from there so results stay strictly later.
            var wall = rules.wall(forUTC: after).wall
            for _ in 0..<1500 {
                var cursor = NaiveCursor(wall: wall)
                cursor.tick(1)
                guard advance(&cursor) else { return nil }
                while rules.isImaginary(wall: cursor.wall) { cursor.wall += 60 }
                let utc = cursor.wall - rules.offset(forWall: cursor.wall, fold: false)
                if utc > after { return utc }
                wall = cursor.wall
            }
            return nil
        }
        let (wall, fold) = rules.wall(forUTC: after)
        var cursor = ZonedCursor(rules: rules, wall: wall, fold: fold, utc: after)
        cursor.tick(1)
        let found = advance(&cursor) ? cursor.utc : nil
        if rules.hasIrregularTransitions {
            // Where the search crossed a transition cronsim mis-steps, the
            // documented clock rule decides instead.
            let end = (found ?? after + 51 * 366 * 86_400) + 86_400
            if rules.hasIrregularTransition(in: (after - 86_400)...end) {
                return nextFollowingClock(after: after, rules: rules)
            }
        }
        return found
    }

    /// DESIGN's clock rule: the first real instant after `after` whose wall
    /// reading matches, found period by period of constant UTC offset.
    func nextFollowingClock(after: Int64, rules: ZoneRules) -> Int64? {
        var from = after + 1
        var index = rules.period(containing: from)
        let limit = after + 51 * 366 * 86_400
        while from < limit {
            let offset = rules.offsets[index]
            var cursor = NaiveCursor(wall: from + offset - 1)
            cursor.tick(1)
            guard advance(&cursor) else { return nil }
            let utc = cursor.wall - offset
            if utc < rules.periodEnd(index) { return utc }
            from = rules.periodEnd(index)
            index += 1
        }
        return nil
    }

    /// cronsim's `advance()`: roll the cursor forward until all fields match.
    @inline(__always) func advance<C: CronCursor>(_ c: inout C) -> Bool {
        let startYear = CivilDate(dayNumber: Int(floorDiv(c.wall, 86_400))).year
        while true {
            let date = CivilDate(dayNumber: Int(floorDiv(c.wall, 86_400)))
            var y = date.year
            if months & (1 << UInt16(date.month)) == 0 {
                var m = date.month
                repeat {
                    m += 1
                    if m > 12 { m = 1; y += 1 }
                } while months & (1 << UInt16(m)) == 0
                c.combine(wall: Int64(CivilDate.dayNumber(year: y, month: m, day: 1)) * 86_400)
            }
            if y > startYear + 50 { return false }
            if advanceDay(&c) { continue }
            if advanceHour(&c) { continue }
            if advanceMinute(&c) { continue }
            if advanceSecond(&c) { continue }
            return true
        }
    }

    @inline(__always) func advanceDay<C: CronCursor>(_ c: inout C) -> Bool {
        var dn = Int(floorDiv(c.wall, 86_400))
        let date = CivilDate(dayNumber: dn)
        var day = date.day
        var weekday = CivilDate.weekday(dayNumber: dn)
        var dim = CivilDate.daysInMonth(year: date.year, month: date.month)
        var year = date.year, month = date.month
        if matchesDay(year: year, month: month, day: day, weekday: weekday, daysInMonth: dim) { return false }
        while true {
            dn += 1
            day += 1
            weekday = weekday == 6 ? 0 : weekday + 1
            if day > dim {
                day = 1
                month += 1
                if month > 12 { month = 1; year += 1 }
                dim = CivilDate.daysInMonth(year: year, month: month)
                break
            }
            if matchesDay(year: year, month: month, day: day, weekday: weekday, daysInMonth: dim) { break }
        }
        c.combine(wall: Int64(dn) * 86_400)
        return true
    }

    @inline(__always) func advanceHour<C: CronCursor>(_ c: inout C) -> Bool {
        let hour = Int(floorMod(c.wall, 86_400) / 3600)
        if hours & (1 << UInt32(hour)) != 0 { return false }
        c.replace(wall: c.wall - floorMod(c.wall, 3600))
        while true {
            let h = Int(floorMod(c.wall, 86_400) / 3600)
            if hours & (1 << UInt32(h)) != 0 { break }
            // Jump straight to the next listed hour (or midnight) when the
            // offset cannot change on the way; otherwise step like cronsim.
            let above = h == 23 ? 0 : hours >> UInt32(h + 1)
            let target = above == 0 ? 24 : h + 1 + above.trailingZeroBitCount
            let span = Int64(target - h) * 3600
            if c.isLinear(for: span) { c.tick(span) } else { c.tick(3600) }
            if floorMod(c.wall, 86_400) / 3600 == 0 { break }
        }
        return true
    }

    @inline(__always) func advanceMinute<C: CronCursor>(_ c: inout C) -> Bool {
        let minute = Int(floorMod(c.wall, 3600) / 60)
        if minutes & (1 << UInt64(minute)) != 0 { return false }
        c.replace(wall: c.wall - floorMod(c.wall, 60))
        if minutes.nonzeroBitCount == 1 {
            let target = minutes.trailingZeroBitCount
            let delta = ((target - minute) % 60 + 60) % 60
            c.tick(Int64(delta) * 60)
        }
        while true {
            let m = Int(floorMod(c.wall, 3600) / 60)
            if minutes & (1 << UInt64(m)) != 0 { break }
            let above = m == 59 ? 0 : minutes >> UInt64(m + 1)
            let target = above == 0 ? 60 : m + 1 + above.trailingZeroBitCount
            let span = Int64(target - m) * 60
            if c.isLinear(for: span) { c.tick(span) } else { c.tick(60) }
            if floorMod(c.wall, 3600) / 60 == 0 { break }
        }
        return true
    }

    @inline(__always) func advanceSecond<C: CronCursor>(_ c: inout C) -> Bool {
        let second = floorMod(c.wall, 60)
        if second == 0 { return false }
        c.tick(60 - second)
        while floorMod(c.wall, 60) != 0 {
            c.tick(1)
            if floorMod(c.wall, 60) == 0 { break }
        }
        return true
    }
}

/// cronsim's `self.dt`: a wall-clock reading that can be stepped in real time
/// (`tick`), or have its fields replaced (`replace` keeps the fold, `combine`
/// — `datetime.combine` — resets it).
protocol CronCursor {
    var wall: Int64 { get }
    mutating func tick(_ seconds: Int64)
    mutating func replace(wall: Int64)
    mutating func combine(wall: Int64)
    /// True when ticking `seconds` ahead crosses no offset change, so the wall
    /// clock moves exactly as far.
    func isLinear(for seconds: Int64) -> Bool
}

/// A naive local clock (cronsim with `fixup_tz`): no zone while searching.
struct NaiveCursor: CronCursor {
    var wall: Int64
    @inline(__always) mutating func tick(_ seconds: Int64) { wall += seconds }
    @inline(__always) mutating func replace(wall: Int64) { self.wall = wall }
    @inline(__always) mutating func combine(wall: Int64) { self.wall = wall }
    @inline(__always) func isLinear(for seconds: Int64) -> Bool { true }
}

/// An aware local clock (Python datetime with a zoneinfo tzinfo).
struct ZonedCursor: CronCursor {
    let rules: ZoneRules
    var wall: Int64
    var fold: Bool
    /// `wall` converted with `fold`, as Python's `astimezone(UTC)` would.
    var utc: Int64
    var period: Int

    init(rules: ZoneRules, wall: Int64, fold: Bool, utc: Int64) {
        self.rules = rules
        self.wall = wall
        self.fold = fold
        self.utc = utc
        self.period = rules.period(containing: utc)
    }

    @inline(__always) mutating func tick(_ seconds: Int64) {
        utc += seconds
        if utc >= rules.periodEnd(period) || utc < rules.periodStart(period) {
            period = rules.period(containing: utc)
        }
        let offset = rules.offsets[period]
        wall = utc + offset
        fold = period > 0 && rules.offsets[period - 1] - offset > utc - rules.transitions[period - 1]
    }

    @inline(__always) mutating func replace(wall: Int64) {
        self.wall = wall
        utc = wall - rules.offset(forWall: wall, fold: fold)
        period = rules.period(containing: utc)
    }

    @inline(__always) mutating func combine(wall: Int64) {
        fold = false
        replace(wall: wall)
    }

    @inline(__always) func isLinear(for seconds: Int64) -> Bool {
        wall == utc + rules.offsets[period] && utc + seconds < rules.periodEnd(period)
    }
}
