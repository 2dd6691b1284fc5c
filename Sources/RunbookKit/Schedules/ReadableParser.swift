/// Reads the readable forms of DESIGN.md §1 (`every 15 minutes`,
/// `every monday, thursday at 09:15`, `every month on the first monday at
/// 09:00`, `at 2026-12-01 10:00`, ...) into a `Recurrence` or a single wall time.
///
/// Words are case-insensitive, singular and plural both read, and lists take
/// commas and `and`. Every error quotes the input and suggests the nearest
/// valid form.
struct ReadableParser {
    /// What a readable spec compiles to.
    enum Result {
        case recurrence(Recurrence)
        /// `at DATE TIME`: a local wall-clock second.
        case once(wall: Int64)
    }

    struct Word {
        var text: String   // lower-cased
        var column: Int    // 1-based
    }

    let input: String
    var words: [Word]
    var position = 0

    init(_ text: String) {
        input = text
        var words: [Word] = []
        var current = ""
        var start = 0
        var column = 0
        func flush() {
            if !current.isEmpty { words.append(Word(text: current.lowercased(), column: start)); current = "" }
        }
        for character in text {
            column += 1
            if character.isWhitespace {
                flush()
            } else if character == "," {
                flush()
                words.append(Word(text: ",", column: column))
            } else {
                if current.isEmpty { start = column }
                current.append(character)
            }
        }
        flush()
        self.words = words
    }

    // MARK: - Vocabulary

    static let dayWords: [String: Int] = {
        var table: [String: Int] = [:]
        let names = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
        for (i, name) in names.enumerated() {
            table[name] = i
            table[name + "s"] = i
            table[String(name.prefix(3))] = i
        }
        table["tues"] = 2
        table["thur"] = 4
        table["thurs"] = 4
        return table
    }()
    static let dayNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
    static let ordinals: [String: Int] = [
        "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": 5,
    ]
    static let vocabulary = ["every", "at", "on", "and", "the", "day", "days", "week", "weeks", "month", "months",
                             "second", "seconds", "minute", "minutes", "hour", "hours", "weekday", "weekdays",
                             "weekend", "weekends", "other", "last", "first", "third", "fourth", "noon", "midnight"]
        + dayNames

    // MARK: - Errors

    func error(_ code: ScheduleParseError.Code, _ problem: String, at column: Int?, try suggestion: String?) -> ScheduleParseError {
        var message = "'\(input)': \(problem)"
        if let suggestion { message += "; try '\(suggestion)'" }
        return ScheduleParseError(code: code, message: message, column: column)
    }

    var current: Word? { position < words.count ? words[position] : nil }
    var endColumn: Int { input.count + 1 }

    mutating func skipSeparators() {
        while let w = current, w.text == "," || w.text == "and" { position += 1 }
    }

    func unknownWordError(_ word: Word, expected: String, suggestion: String) -> ScheduleParseError {
        let near = Self.vocabulary.map { ($0, Spelling.editDistance($0, word.text)) }.min { $0.1 < $1.1 }
        if let near, near.1 <= 2, near.0 != word.text {
            return error(.unknownWord, "'\(word.text)' is not a word this schedule language knows (did you mean '\(near.0)'?); expected \(expected)", at: word.column, try: suggestion)
        }
        return error(.unknownWord, "expected \(expected), found '\(word.text)'", at: word.column, try: suggestion)
    }

    // MARK: - Grammar

    /// Parses the spec. `starts` (a UTC second and its local day) anchors
    /// multi-day/week/month steps and non-dividing intervals.
    mutating func parse(startsUTC: Int64?, startsLocalDay: Int?) throws(ScheduleParseError) -> Result {
        guard let first = current else {
            throw error(.empty, "the schedule is empty", at: nil, try: "every 15 minutes")
        }
        if first.text == "at" || first.text.first?.isNumber == true && first.text.contains("-") && words.count <= 3 {
            if first.text == "at" { position += 1 }
            return try parseOnce()
        }
        if first.text == "every" { position += 1 }
        guard let unitWord = current else {
            throw error(.empty, "'every' needs what to repeat", at: endColumn, try: "every 15 minutes")
        }
        var count = 1
        var countWord: Word? = nil
        if unitWord.text == "other" {
            count = 2
            countWord = unitWord
            position += 1
        } else if unitWord.text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard unitWord.text.count <= 7, let n = Int(unitWord.text) else {
                throw error(.invalidInterval, "\(unitWord.text) is too large", at: unitWord.column, try: "every 15 minutes")
            }
            count = n
            countWord = unitWord
            position += 1
        } else if let n = Int(unitWord.text.prefix(while: { $0.isNumber })), !unitWord.text.isEmpty {
            // `every 15min`, `every 2h`: split the number from its unit.
            let unit = String(unitWord.text.drop(while: { $0.isNumber }))
            words[position] = Word(text: unit, column: unitWord.column + String(n).count)
            count = n
            countWord = Word(text: String(n), column: unitWord.column)
        }
        guard let unit = current else {
            throw error(.missingTime, "a number needs a unit", at: endColumn, try: "every \(count) minutes")
        }
        position += 1
        let n = count
        if let countWord, n == 0 {
            throw error(.invalidInterval, "the interval must be at least 1", at: countWord.column,
                        try: "every 1 \(Self.singular(unit.text))' or 'every 15 minutes")
        }
        switch unit.text {
        case "second", "seconds", "sec", "secs", "s":
            return try parseInterval(seconds: n, unitName: "seconds", unit: unit, countWord: countWord, startsUTC: startsUTC)
        case "minute", "minutes", "min", "mins", "m":
            return try parseInterval(seconds: n * 60, unitName: "minutes", unit: unit, countWord: countWord, startsUTC: startsUTC)
        case "hour", "hours", "hr", "hrs", "h":
            return try parseInterval(seconds: n * 3600, unitName: "hours", unit: unit, countWord: countWord, startsUTC: startsUTC)
        case "day", "days", "d":
            let anchor = startsLocalDay ?? Self.anchorDay
            let times = try parseAtClause(required: true, prefix: "every \(n == 1 ? "day" : "\(n) days")")
            try expectEnd(suggestion: "every \(n == 1 ? "day" : "\(n) days") at 06:00")
            return .recurrence(Recurrence(dates: .days(step: n, anchorDay: anchor), times: .at(times)))
        case "weekday", "weekdays", "weekend", "weekends":
            if let countWord, n != 1 {
                throw error(.invalidInterval, "'\(unit.text)' takes no count", at: countWord.column, try: "every 2 weeks on monday, tuesday, wednesday, thursday, friday at 07:00")
            }
            let mask: UInt8 = unit.text.hasPrefix("weekday") ? 0b0111110 : 0b1000001
            let times = try parseAtClause(required: true, prefix: "every \(Self.singular(unit.text))")
            try expectEnd(suggestion: "every \(Self.singular(unit.text)) at 07:00")
            return .recurrence(Recurrence(dates: .weekdays(mask: mask, step: 1, anchorMonday: 0), times: .at(times)))
        case "week", "weeks", "wk", "wks":
            let anchor = Self.mondayOf(startsLocalDay ?? Self.anchorDay)
            let prefix = "every \(n == 1 ? "week" : "\(n) weeks")"
            guard let on = current, on.text == "on" else {
                throw error(.missingTime, "say which days of the week", at: current?.column ?? endColumn, try: "\(prefix) on friday at 17:00")
            }
            position += 1
            let mask = try parseDayList(suggestion: "\(prefix) on friday at 17:00")
            let times = try parseAtClause(required: true, prefix: "\(prefix) on \(Self.describe(mask))")
            try expectEnd(suggestion: "\(prefix) on friday at 17:00")
            return .recurrence(Recurrence(dates: .weekdays(mask: mask, step: n, anchorMonday: anchor), times: .at(times)))
        case "month", "months", "mo":
            let anchorDate = CivilDate(dayNumber: startsLocalDay ?? Self.anchorDay)
            let anchorMonth = anchorDate.year * 12 + anchorDate.month - 1
            let prefix = "every \(n == 1 ? "month" : "\(n) months")"
            guard let on = current, on.text == "on" else {
                throw error(.missingTime, "say which days of the month", at: current?.column ?? endColumn, try: "\(prefix) on day 1 at 00:05")
            }
            position += 1
            let (days, lastDay, nth) = try parseMonthDays(prefix: prefix)
            let times = try parseAtClause(required: true, prefix: "\(prefix) on day 1")
            try expectEnd(suggestion: "\(prefix) on day 1 at 00:05")
            return .recurrence(Recurrence(dates: .monthDays(days: days, lastDay: lastDay, nth: nth, step: n, anchorMonth: anchorMonth), times: .at(times)))
        default:
            if Self.dayWords[unit.text] != nil {
                if let countWord, n != 1 {
                    throw error(.invalidInterval, "a count before a day name is not a form", at: countWord.column, try: "every \(n) weeks on \(Self.dayNames[Self.dayWords[unit.text]!]) at 09:00")
                }
                position -= 1
                let mask = try parseDayList(suggestion: "every monday, thursday at 09:15")
                let times = try parseAtClause(required: true, prefix: "every \(Self.describe(mask))")
                try expectEnd(suggestion: "every \(Self.describe(mask)) at 09:15")
                return .recurrence(Recurrence(dates: .weekdays(mask: mask, step: 1, anchorMonday: 0), times: .at(times)))
            }
            if ["year", "years", "yearly", "annually", "annual"].contains(unit.text) {
                throw error(.unknownWord, "there is no yearly form; count months instead", at: unit.column, try: "every 12 months on day 1 at 00:00")
            }
            if unit.text == "fortnight" || unit.text == "fortnights" {
                throw error(.unknownWord, "say 'every 2 weeks' and the days", at: unit.column, try: "every 2 weeks on friday at 17:00")
            }
            if unit.text.contains(":") {
                throw error(.missingTime, "a time needs a day rule before it", at: unit.column, try: "every day at \(unit.text)")
            }
            throw unknownWordError(unit, expected: "seconds, minutes, hours, day(s), weekday, weekend, week(s), month(s) or a day name", suggestion: "every \(n == 1 ? "" : "\(n) ")\(n == 1 ? "day at 08:00" : "minutes")")
        }
    }

    /// 2000-01-01, the default anchor for multi-day/week/month steps.
    static let anchorDay = CivilDate.dayNumber(year: 2000, month: 1, day: 1)

    static func mondayOf(_ day: Int) -> Int {
        let weekday = CivilDate.weekday(dayNumber: day)
        return day - (weekday == 0 ? 6 : weekday - 1)
    }

    static func singular(_ unit: String) -> String {
        switch unit {
        case "seconds", "secs", "sec", "s": "second"
        case "minutes", "mins", "min", "m": "minute"
        case "hours", "hrs", "hr", "h": "hour"
        case "days", "d": "day"
        case "weeks", "wks", "wk": "week"
        case "months", "mo": "month"
        case "weekdays": "weekday"
        case "weekends": "weekend"
        default: unit
        }
    }

    static func describe(_ mask: UInt8) -> String {
        (0..<7).map { ($0 + 1) % 7 }.filter { mask & (1 << UInt8($0)) != 0 }.map { dayNames[$0] }.joined(separator: ", ")
    }

    mutating func expectEnd(suggestion: String) throws(ScheduleParseError) {
        if let extra = current {
            throw error(.unknownWord, "unexpected '\(extra.text)' at the end", at: extra.column, try: suggestion)
        }
    }

    mutating func parseInterval(seconds: Int, unitName: String, unit: Word, countWord: Word?, startsUTC: Int64?) throws(ScheduleParseError) -> Result {
        var dates: Recurrence.Dates = .days(step: 1, anchorDay: 0)
        if let on = current, on.text == "on" {
            position += 1
            let mask = try parseDayList(suggestion: "every 15 minutes on weekdays")
            dates = .weekdays(mask: mask, step: 1, anchorMonday: 0)
        }
        if let at = current, at.text == "at" {
            throw error(.unknownWord, "an interval runs all day, so it takes no 'at'", at: at.column, try: "every day at \(words.count > position + 1 ? words[position + 1].text : "08:00")")
        }
        try expectEnd(suggestion: "every 15 minutes")
        let n = seconds
        if 86_400 % n == 0 {
            return .recurrence(Recurrence(dates: dates, times: .interval(n)))
        }
        guard let startsUTC else {
            let value = countWord.map { Int($0.text) ?? 0 } ?? 1
            let unitSeconds = seconds / max(value, 1)
            var lower = value, upper = value
            while lower > 1 && 86_400 % (lower * unitSeconds) != 0 { lower -= 1 }
            while upper < 100_000 && 86_400 % (upper * unitSeconds) != 0 { upper += 1 }
            let suggestion = lower == upper ? "every \(lower) \(unitName)" : "every \(lower) \(unitName)' or 'every \(upper) \(unitName)"
            throw error(.invalidInterval, "\(value) \(unitName) does not divide a day, so the times would drift from day to day; set 'starts' to count elapsed time from it, or pick a divisor of a day", at: countWord?.column ?? unit.column, try: suggestion)
        }
        if case .weekdays = dates {
            throw error(.invalidInterval, "an interval that does not divide a day cannot be limited to some days", at: unit.column, try: "every 6 hours on weekdays")
        }
        return .recurrence(Recurrence(dates: dates, times: .elapsed(n, from: startsUTC)))
    }

    /// `monday, thursday`, `weekdays`, `weekend`, `mon and fri`.
    mutating func parseDayList(suggestion: String) throws(ScheduleParseError) -> UInt8 {
        var mask: UInt8 = 0
        skipSeparators()
        while let w = current, w.text != "at" {
            if w.text == "," || w.text == "and" { position += 1; continue }
            if w.text == "weekday" || w.text == "weekdays" { mask |= 0b0111110 }
            else if w.text == "weekend" || w.text == "weekends" { mask |= 0b1000001 }
            else if let d = Self.dayWords[w.text] { mask |= 1 << UInt8(d) }
            else { throw unknownWordError(w, expected: "a day name such as monday", suggestion: suggestion) }
            position += 1
        }
        guard mask != 0 else {
            throw error(.missingTime, "name at least one day", at: current?.column ?? endColumn, try: suggestion)
        }
        return mask
    }

    /// `day 1, 15`, `days 1 and 15`, `the last day`, `the first monday`, `the 1st and 15th`.
    mutating func parseMonthDays(prefix: String) throws(ScheduleParseError) -> (UInt32, Bool, UInt64) {
        var days: UInt32 = 0
        var lastDay = false
        var nth: UInt64 = 0
        var pendingOrdinals: [(Int, Word)] = []
        let suggestion = "\(prefix) on day 1, 15 at 06:00"
        while let w = current, w.text != "at" {
            position += 1
            switch w.text {
            case ",", "and", "the", "of", "day", "days":
                if w.text == "day" || w.text == "days", !pendingOrdinals.isEmpty {
                    for (o, ow) in pendingOrdinals {
                        guard o == 5 else {
                            throw error(.invalidDate, "'\(ow.text) day' is a day number", at: ow.column, try: "\(prefix) on day \(o) at 06:00")
                        }
                        lastDay = true
                    }
                    pendingOrdinals = []
                }
                continue
            case "fifth", "5th":
                throw error(.invalidDate, "a fifth weekday is missing from most months", at: w.column, try: "\(prefix) on the last friday at 09:00")
            default:
                break
            }
            // `the 1st monday` is an ordinal; `the 1st and 15th` are day numbers.
            let numericOrdinal = w.text.first?.isNumber == true
            let dayNameFollows = current.map { Self.dayWords[$0.text] != nil || $0.text == "day" } ?? false
            if let o = Self.ordinals[w.text], !numericOrdinal || dayNameFollows {
                pendingOrdinals.append((o, w))
                continue
            }
            if let d = Self.dayWords[w.text] {
                guard !pendingOrdinals.isEmpty else {
                    throw error(.invalidDate, "say which \(Self.dayNames[d]) of the month", at: w.column, try: "\(prefix) on the first \(Self.dayNames[d]) at 09:00")
                }
                for (o, _) in pendingOrdinals { nth |= 1 << UInt64(d * 8 + o) }
                // `the first and third monday, friday`: ordinals stay for a list of names.
                if let next = current, next.text == "," || next.text == "and",
                   position + 1 < words.count, Self.dayWords[words[position + 1].text] != nil {
                    continue
                }
                pendingOrdinals = []
                continue
            }
            let digits = w.text.prefix(while: { $0.isNumber })
            let suffix = w.text.dropFirst(digits.count)
            if !digits.isEmpty, ["", "st", "nd", "rd", "th"].contains(String(suffix)) {
                guard digits.count <= 2, let d = Int(digits), (1...31).contains(d) else {
                    throw error(.invalidDate, "day \(w.text) is not a day of a month (1–31)", at: w.column, try: "\(prefix) on the last day at 23:00")
                }
                days |= 1 << UInt32(d)
                continue
            }
            throw unknownWordError(w, expected: "'day N', 'the last day' or 'the first monday'", suggestion: suggestion)
        }
        if let (_, ow) = pendingOrdinals.first {
            throw error(.invalidDate, "'\(ow.text)' needs 'day' or a day name after it", at: ow.column, try: "\(prefix) on the \(ow.text) monday at 09:00")
        }
        guard days != 0 || lastDay || nth != 0 else {
            throw error(.invalidDate, "say which days of the month", at: current?.column ?? endColumn, try: suggestion)
        }
        return (days, lastDay, nth)
    }

    /// `at 08:00, 20:00`: sorted, distinct seconds of the day.
    mutating func parseAtClause(required: Bool, prefix: String) throws(ScheduleParseError) -> [Int] {
        guard let at = current, at.text == "at" else {
            if let w = current {
                if w.text.contains(":") || Self.parseTime(w.text) != nil {
                    throw error(.missingTime, "a time needs 'at' before it", at: w.column, try: "\(prefix) at \(w.text)")
                }
                throw unknownWordError(w, expected: "'at HH:MM'", suggestion: "\(prefix) at 08:00")
            }
            throw error(.missingTime, "say at what time", at: endColumn, try: "\(prefix) at 08:00")
        }
        position += 1
        var times: [Int] = []
        while let w = current {
            if w.text == "," || w.text == "and" { position += 1; continue }
            // A bare hour reads as that hour on the dot: `at 9` is 09:00.
            if w.text.count <= 2, w.text.allSatisfy({ $0.isASCII && $0.isNumber }), let hour = Int(w.text), hour < 24 {
                times.append(hour * 3600)
                position += 1
                continue
            }
            guard let seconds = Self.parseTime(w.text) else {
                if w.text.first?.isNumber == true {
                    throw error(.invalidTime, "'\(w.text)' is not a time of day (00:00–23:59)", at: w.column, try: "\(prefix) at \(Self.nearestTime(w.text))")
                }
                break
            }
            times.append(seconds)
            position += 1
        }
        guard !times.isEmpty else {
            throw error(.missingTime, "'at' needs a time such as 08:00", at: current?.column ?? endColumn, try: "\(prefix) at 08:00")
        }
        return Array(Set(times)).sorted()
    }

    static func nearestTime(_ text: String) -> String {
        let parts = text.split(separator: ":")
        let hour = parts.first.flatMap { Int($0) }.map { min($0, 23) } ?? 8
        let minute = parts.count > 1 ? (Int(parts[1]).map { min($0, 59) } ?? 0) : 0
        return pad(hour) + ":" + pad(minute)
    }

    static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// `08:00`, `8:00`, `08:00:30`, `8am`, `8:30pm`, `noon`, `midnight`.
    static func parseTime(_ raw: String) -> Int? {
        if raw == "noon" { return 12 * 3600 }
        if raw == "midnight" { return 0 }
        var text = Substring(raw)
        var meridiem: Int? = nil
        if text.hasSuffix("am") { meridiem = 0; text = text.dropLast(2) } else if text.hasSuffix("pm") { meridiem = 12; text = text.dropLast(2) }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.count <= 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
        if parts.count == 1 && meridiem == nil { return nil }
        if parts.count > 1 && parts[1].count != 2 { return nil }
        guard var hour = Int(parts[0]) else { return nil }
        let minute = parts.count > 1 ? Int(parts[1]) ?? 99 : 0
        let second = parts.count > 2 ? Int(parts[2]) ?? 99 : 0
        if let meridiem {
            guard (1...12).contains(hour) else { return nil }
            hour = hour % 12 + meridiem
        }
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        return hour * 3600 + minute * 60 + second
    }

    /// `2026-12-01 10:00` (also `2026-12-01T10:00`, seconds optional).
    mutating func parseOnce() throws(ScheduleParseError) -> Result {
        let suggestion = "at 2026-12-01 10:00"
        guard let dateWord = current else {
            throw error(.invalidDate, "'at' needs a date and a time", at: endColumn, try: suggestion)
        }
        position += 1
        var dateText = dateWord.text
        var timeText: String
        var timeColumn: Int
        if let t = dateText.firstIndex(of: "t") {
            timeText = String(dateText[dateText.index(after: t)...])
            timeColumn = dateWord.column + dateText.distance(from: dateText.startIndex, to: t) + 1
            dateText = String(dateText[..<t])
        } else {
            guard let timeWord = current else {
                if Self.parseTime(dateWord.text) != nil {
                    throw error(.invalidDate, "'at' with only a time is not a once-off date", at: dateWord.column, try: "every day at \(dateWord.text)")
                }
                throw error(.missingTime, "say at what time on \(dateText)", at: endColumn, try: "at \(dateText) 10:00")
            }
            position += 1
            timeText = timeWord.text
            timeColumn = timeWord.column
        }
        guard let date = Self.parseDate(dateText) else {
            if Self.parseTime(dateText) != nil {
                throw error(.invalidDate, "'at' with only a time is not a once-off date", at: dateWord.column, try: "every day at \(dateText)")
            }
            let parts = dateText.split(separator: "-").compactMap { Int($0) }
            if parts.count == 3, (1...12).contains(parts[1]), parts[2] > 0 {
                let dim = CivilDate.daysInMonth(year: parts[0], month: parts[1])
                let name = CronParser.fullMonthNames[parts[1] - 1]
                throw error(.invalidDate, "\(dateText) does not exist: \(name) \(parts[0]) has \(dim) days", at: dateWord.column,
                            try: "at \(parts[0])-\(Self.pad(parts[1]))-\(Self.pad(dim)) \(timeText)")
            }
            throw error(.invalidDate, "'\(dateText)' is not a calendar date (YYYY-MM-DD)", at: dateWord.column, try: suggestion)
        }
        guard let seconds = Self.parseTime(timeText) else {
            throw error(.invalidTime, "'\(timeText)' is not a time of day (00:00–23:59)", at: timeColumn, try: "at \(dateText) \(Self.nearestTime(timeText))")
        }
        try expectEnd(suggestion: "at \(dateText) \(timeText)")
        return .once(wall: Int64(date.dayNumber) * 86_400 + Int64(seconds))
    }

    /// `YYYY-MM-DD` with a real day of that month, else nil.
    static func parseDate(_ text: String) -> CivilDate? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), d >= 1, d <= CivilDate.daysInMonth(year: y, month: m) else { return nil }
        return CivilDate(year: y, month: m, day: d)
    }
}
