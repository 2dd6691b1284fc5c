/// Reads Debian cron's five fields into a `CronExpression`, refusing other
/// dialects with the Debian spelling to use instead.
enum CronParser {
    /// The `@` macros Debian cron knows, as five-field text.
    static let macros: [String: String] = [
        "@hourly": "0 * * * *",
        "@daily": "0 0 * * *",
        "@midnight": "0 0 * * *",
        "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *",
        "@yearly": "0 0 1 1 *",
        "@annually": "0 0 1 1 *",
    ]

    enum Field: Int, CaseIterable {
        case minute, hour, day, month, weekday

        var name: String {
            switch self {
            case .minute: "minute"
            case .hour: "hour"
            case .day: "day-of-month"
            case .month: "month"
            case .weekday: "day-of-week"
            }
        }
        var range: ClosedRange<Int> {
            switch self {
            case .minute: 0...59
            case .hour: 0...23
            case .day: 1...31
            case .month: 1...12
            case .weekday: 0...7
            }
        }
        var rangeText: String { "\(range.lowerBound)–\(range.upperBound)" }
    }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
    static let fullMonthNames = ["January", "February", "March", "April", "May", "June", "July",
                                 "August", "September", "October", "November", "December"]

    /// A piece of the spec with its 1-based column.
    struct Token {
        var text: String
        var column: Int
    }

    static func tokens(_ text: String) -> [Token] {
        var result: [Token] = []
        var current = ""
        var start = 0
        var column = 0
        for character in text {
            column += 1
            if character.isWhitespace {
                if !current.isEmpty { result.append(Token(text: current, column: start)); current = "" }
            } else {
                if current.isEmpty { start = column }
                current.append(character)
            }
        }
        if !current.isEmpty { result.append(Token(text: current, column: start)) }
        return result
    }

    static func parse(_ text: String) throws(ScheduleParseError) -> CronExpression {
        var parts = tokens(text)
        guard !parts.isEmpty else {
            throw ScheduleParseError(code: .empty, message: "the cron expression is empty; write five fields, e.g. '5 * * * *'")
        }
        if parts.count == 1, parts[0].text.hasPrefix("@") {
            let macro = parts[0].text.lowercased()
            guard let expansion = macros[macro] else {
                let hint = macro == "@reboot"
                    ? "'@reboot' has no place in a schedule; run the runbook by hand or at a fixed time"
                    : "use one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually"
                throw ScheduleParseError(code: .unsupportedSyntax,
                                         message: "'\(parts[0].text)' is not a cron macro: \(hint)", column: parts[0].column)
            }
            parts = tokens(expansion).map { Token(text: $0.text, column: parts[0].column) }
        }
        guard parts.count == 5 else {
            let hint: String
            switch parts.count {
            case 6: hint = "six fields look like a seconds field (or a year field); Debian cron has exactly five: minute hour day-of-month month day-of-week, e.g. '\(parts.dropFirst().map(\.text).joined(separator: " "))'"
            case 7: hint = "seven fields (seconds and year) are not cron; keep the five fields minute hour day-of-month month day-of-week"
            default: hint = "write five fields: minute hour day-of-month month day-of-week, e.g. '5 * * * *' or '30 2 * * 1-5'"
            }
            let column = parts.count > 5 ? parts[5].column : nil
            throw ScheduleParseError(code: .wrongFieldCount,
                                     message: "'\(text)' has \(parts.count) field\(parts.count == 1 ? "" : "s"); \(hint)",
                                     column: column)
        }
        var expression = CronExpression()
        expression.dayAnd = parts[2].text.hasPrefix("*") || parts[4].text.hasPrefix("*")
        expression.fixedTime = !parts[0].text.hasPrefix("*") && !parts[1].text.hasPrefix("*")
        for field in Field.allCases {
            let token = parts[field.rawValue]
            var offset = 0
            for term in token.text.split(separator: ",", omittingEmptySubsequences: false) {
                try parseTerm(String(term), field: field, column: token.column + offset, into: &expression)
                offset += term.count + 1
            }
        }
        if !expression.canEverMatchDay() {
            throw ScheduleParseError(code: .neverFires,
                                     message: neverFiresMessage(text: text, parts: parts, expression: expression),
                                     column: parts[2].column)
        }
        return expression
    }

    static func neverFiresMessage(text: String, parts: [Token], expression e: CronExpression) -> String {
        var monthList: [String] = []
        for m in 1...12 where e.months & (1 << UInt16(m)) != 0 { monthList.append(fullMonthNames[m - 1]) }
        let monthText = monthList.count == 12 ? "any month" : monthList.joined(separator: " or ")
        if e.dayAnd && parts[4].text.hasPrefix("*") && e.days != 0 {
            return "'\(text)' can never fire: day \(parts[2].text) never occurs in \(monthText); use 'L' for the last day of the month (e.g. '\(parts[0].text) \(parts[1].text) L \(parts[3].text) *')"
        }
        return "'\(text)' can never fire: no date satisfies day-of-month '\(parts[2].text)', month '\(parts[3].text)' and day-of-week '\(parts[4].text)' together (when either day field starts with '*', both must match)"
    }

    static func fail(_ code: ScheduleParseError.Code, _ message: String, _ column: Int) -> ScheduleParseError {
        ScheduleParseError(code: code, message: message, column: column)
    }

    /// A single value: a number in range, or a month/day name for those fields.
    static func value(_ text: String, field: Field, column: Int) throws(ScheduleParseError) -> Int {
        let upper = text.uppercased()
        if field == .month, let index = monthNames.firstIndex(of: upper) { return index + 1 }
        if field == .weekday, let index = dayNames.firstIndex(of: upper) { return index }
        guard !text.isEmpty else {
            throw fail(.invalidValue, "\(field.name) field has an empty value; write a number in \(field.rangeText)", column)
        }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw unknownValue(text, field: field, column: column)
        }
        guard text.count <= 4, let number = Int(text), field.range.contains(number) else {
            var hint = ""
            if field == .day && text == "0" { hint = "; days count from 1" }
            if field == .month && text == "0" { hint = "; months count from 1 (January)" }
            if field == .month && text == "13" { hint = "; December is 12" }
            if field == .minute && text == "60" { hint = "; the hour after 59 is minute 0 of the next hour" }
            if field == .hour && text == "24" { hint = "; midnight is hour 0" }
            if hint.isEmpty { hint = "; use a value in \(field.rangeText), a range such as \(field.range.lowerBound)-\(field.range.lowerBound + 5) or a step such as */\(field == .minute ? 15 : 2)" }
            throw fail(.valueOutOfRange, "\(field.name) value \(text) is out of range (\(field.rangeText))\(hint)", column)
        }
        return number
    }

    static func unknownValue(_ text: String, field: Field, column: Int) -> ScheduleParseError {
        let upper = text.uppercased()
        if text == "?" {
            return fail(.unsupportedSyntax, "'?' is Quartz syntax, not Debian cron; write '*' in the \(field.name) field", column)
        }
        if upper.hasPrefix("H") && (upper == "H" || upper.hasPrefix("H(") || upper.hasPrefix("H/")) {
            return fail(.unsupportedSyntax, "'H' (Jenkins' hashed value) is not Debian cron; pick a fixed \(field.name), e.g. '7'", column)
        }
        if field == .day && upper.hasSuffix("W") {
            return fail(.unsupportedSyntax, "'\(text)' (nearest weekday) is not supported; only 'LW' (last weekday of the month) is, or list the days with a day-of-week range such as '1-5'", column)
        }
        if field == .weekday || field == .month {
            let names = field == .month ? monthNames : dayNames
            if let near = nearest(upper, in: names) {
                return fail(.invalidValue, "'\(text)' is not a \(field.name) value; did you mean '\(near)'? Use \(field.rangeText) or \(names.first!)–\(names.last!)", column)
            }
            return fail(.invalidValue, "'\(text)' is not a \(field.name) value; use \(field.rangeText) or the three-letter names \(names.joined(separator: " "))", column)
        }
        return fail(.invalidValue, "'\(text)' is not a \(field.name) value; write a number in \(field.rangeText), a range (1-5), a list (1,15) or a step (*/10)", column)
    }

    static func nearest(_ word: String, in names: [String]) -> String? {
        if word.count >= 3, let hit = names.first(where: { word.hasPrefix($0) }) { return hit }
        let best = names.map { ($0, Spelling.editDistance($0, word)) }.min { $0.1 < $1.1 }
        if let best, best.1 <= 1 { return best.0 }
        return nil
    }

    /// A sorted set of plain values (no L or #), for steps.
    static func plainValues(_ term: String, field: Field, column: Int) throws(ScheduleParseError) -> [Int] {
        if term == "*" { return Array(field.range) }
        if let dash = term.firstIndex(of: "-") {
            let lowText = String(term[..<dash]), highText = String(term[term.index(after: dash)...])
            let low = try value(lowText, field: field, column: column)
            let high = try value(highText, field: field, column: column + lowText.count + 1)
            guard low <= high else {
                let wrap = "\(lowText)-\(field.range.upperBound),\(field.range.lowerBound)-\(highText)"
                throw fail(.reversedRange, "\(field.name) range \(term) runs backwards; Debian cron has no wrap-around ranges, write '\(wrap)'", column)
            }
            return Array(low...high)
        }
        return [try value(term, field: field, column: column)]
    }

    static func parseTerm(_ term: String, field: Field, column: Int, into e: inout CronExpression) throws(ScheduleParseError) {
        let upper = term.uppercased()
        guard !term.isEmpty else {
            throw fail(.invalidValue, "\(field.name) field has an empty list item; remove the extra comma", column)
        }
        if field == .weekday, upper.hasSuffix("L"), !upper.contains("/"), !upper.contains("#"), !upper.contains("-") {
            let body = String(term.dropLast())
            guard !body.isEmpty else {
                throw fail(.unsupportedSyntax, "'L' alone in the day-of-week field is not supported; use 'L' in the day-of-month field for the last day, or e.g. '5L' for the last Friday", column)
            }
            let day = try value(body, field: field, column: column)
            e.lastOfWeekday |= 1 << UInt8(day)
            return
        }
        if field == .weekday, let hash = term.firstIndex(of: "#") {
            let dayText = String(term[..<hash]), nText = String(term[term.index(after: hash)...])
            let day = try value(dayText, field: field, column: column)
            guard let n = Int(nText), nText.allSatisfy({ $0.isASCII && $0.isNumber }), (1...5).contains(n) else {
                throw fail(.valueOutOfRange, "'\(term)': the occurrence after '#' must be 1 to 5 (e.g. '1#2' for the second Monday); for the last one write '\(dayText)L'", column + dayText.count + 1)
            }
            e.nthWeekday |= 1 << (UInt64(day) * 8 + UInt64(n))
            return
        }
        if term.contains("#") {
            throw fail(.unsupportedSyntax, "'#' belongs in the day-of-week field (e.g. '1#2' for the second Monday)", column)
        }
        if let slash = term.firstIndex(of: "/") {
            let base = String(term[..<slash]), stepText = String(term[term.index(after: slash)...])
            let stepColumn = column + base.count + 1
            guard !stepText.isEmpty, stepText.allSatisfy({ $0.isASCII && $0.isNumber }), stepText.count <= 6, let step = Int(stepText) else {
                throw fail(.invalidValue, "step '\(stepText)' in \(field.name) field '\(term)' is not a whole number; write e.g. '*/5'", stepColumn)
            }
            guard step > 0 else {
                throw fail(.zeroStep, "step 0 in \(field.name) field '\(term)' would never advance; use a step of 1 or more, e.g. '*/5', or '*' for every \(field == .minute ? "minute" : "value")", stepColumn)
            }
            let upperBase = base.uppercased()
            if upperBase == "L" || upperBase == "LW" || base.contains("#") || upperBase.hasSuffix("L") && field == .weekday {
                throw fail(.unsupportedSyntax, "a step cannot follow '\(base)'; write '\(base)' alone", column)
            }
            let values = try plainValues(base, field: field, column: column)
            var chosen: [Int] = []
            if values.count == 1 {
                // cronsim: `N/S` means `N-max/S`.
                chosen = Array(stride(from: values[0], through: field.range.upperBound, by: step))
            } else {
                chosen = stride(from: 0, to: values.count, by: step).map { values[$0] }
            }
            for v in chosen { set(v, field: field, in: &e) }
            return
        }
        if field == .day && (upper == "L" || upper == "LW") {
            if upper == "L" { e.lastDay = true } else { e.lastWeekday = true }
            return
        }
        if upper == "L" || upper == "LW" {
            throw fail(.unsupportedSyntax, "'\(term)' is only allowed in the day-of-month field (and 'xL' in day-of-week)", column)
        }
        for v in try plainValues(term, field: field, column: column) { set(v, field: field, in: &e) }
    }

    static func set(_ v: Int, field: Field, in e: inout CronExpression) {
        switch field {
        case .minute: e.minutes |= 1 << UInt64(v)
        case .hour: e.hours |= 1 << UInt32(v)
        case .day: e.days |= 1 << UInt32(v)
        case .month: e.months |= 1 << UInt16(v)
        case .weekday: e.weekdays |= 1 << UInt8(v)
        }
    }
}
