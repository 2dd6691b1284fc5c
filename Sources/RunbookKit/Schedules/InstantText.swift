import FoundationEssentials

/// `2026-03-29T03:00:00+02:00`: an instant as ISO 8601 with the zone's offset
/// at that instant (`+00:00` for UTC, never `Z`), whole seconds.
public func iso8601(_ date: Date, in zone: TimeZone) -> String {
    let utc = Int64(date.timeIntervalSince1970.rounded(.down))
    let rules = ZoneRules.rules(for: zone)
    let wall = rules.wall(forUTC: utc).wall
    let offset = wall - utc
    let day = CivilDate(dayNumber: Int(floorDiv(wall, 86_400)))
    let sod = Int(floorMod(wall, 86_400))
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    var year = String(abs(day.year))
    while year.count < 4 { year = "0" + year }
    if day.year < 0 { year = "-" + year }
    let sign = offset < 0 ? "-" : "+"
    let magnitude = Int(abs(offset))
    var text = "\(year)-\(two(day.month))-\(two(day.day))T\(two(sod / 3600)):\(two(sod / 60 % 60)):\(two(sod % 60))"
    text += "\(sign)\(two(magnitude / 3600)):\(two(magnitude / 60 % 60))"
    if magnitude % 60 != 0 { text += ":\(two(magnitude % 60))" }
    return text
}

/// Reads an instant as users write one for `--from`, `starts` and `expires`:
/// `2026-03-29T03:00:00+02:00`, `2026-03-29T01:00:00Z`, or a local
/// `2026-03-29 03:00` / `2026-03-29T03:00[:SS]` / `2026-03-29` (midnight) in
/// `timeZone`. A local time in a spring-forward gap means the end of the gap,
/// a repeated one its first occurrence.
///
/// - Throws: `ScheduleParseError` `.invalidDate` or `.invalidTime`.
public func parseInstant(_ raw: String, timeZone: TimeZone) throws(ScheduleParseError) -> Date {
    let text = raw.trimmingWhitespace()
    let hint = "write e.g. 2026-03-29T03:00:00+02:00, 2026-03-29T01:00:00Z or 2026-03-29 03:00"
    var datePart = Substring(text)
    var timePart: Substring = ""
    if let separator = text.firstIndex(where: { $0 == "T" || $0 == "t" || $0 == " " }) {
        datePart = text[..<separator]
        timePart = text[text.index(after: separator)...].drop(while: { $0 == " " })
    }
    guard let date = ReadableParser.parseDate(String(datePart)) else {
        throw ScheduleParseError(code: .invalidDate, message: "'\(text)' is not a date and time: \(hint)", column: 1)
    }
    var offset: Int64? = nil
    if timePart.hasSuffix("Z") || timePart.hasSuffix("z") {
        offset = 0
        timePart = timePart.dropLast()
    } else if let sign = timePart.lastIndex(where: { $0 == "+" || $0 == "-" }) {
        let zoneText = timePart[timePart.index(after: sign)...]
        let pieces = zoneText.split(separator: ":")
        let digits = pieces.count == 1 && zoneText.count == 4
            ? [zoneText.prefix(2), zoneText.suffix(2)] : pieces
        guard (1...2).contains(digits.count), let h = Int(digits[0]), h <= 18,
              let m = digits.count > 1 ? Int(digits[1]) : 0, m < 60 else {
            throw ScheduleParseError(code: .invalidTime, message: "'\(text)' has an unreadable UTC offset: \(hint)", column: 1)
        }
        let magnitude = Int64(h * 3600 + m * 60)
        offset = timePart[sign] == "-" ? -magnitude : magnitude
        timePart = timePart[..<sign]
    }
    var seconds = 0
    if !timePart.isEmpty {
        guard let parsed = ReadableParser.parseTime(String(timePart).lowercased()) else {
            throw ScheduleParseError(code: .invalidTime, message: "'\(text)' has no valid time of day (00:00–23:59): \(hint)", column: 1)
        }
        seconds = parsed
    }
    let wall = Int64(date.dayNumber) * 86_400 + Int64(seconds)
    if let offset { return Date(timeIntervalSince1970: TimeInterval(wall - offset)) }
    return Date(timeIntervalSince1970: TimeInterval(ZoneRules.rules(for: timeZone).firstInstant(forWall: wall)))
}
