import FoundationEssentials

/// Fast UTC timestamps for log lines: `2026-11-23T03:43:51.123Z`, written
/// with integer arithmetic (a log may carry thousands of lines a second).
public enum Timestamp {
    /// The timestamp of `date` to the millisecond.
    public static func utc(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        return utc(milliseconds: milliseconds)
    }

    public static func utc(milliseconds: Int64) -> String {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let millis = Int(milliseconds - seconds * 1000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let date = CivilDate(dayNumber: Int(days))
        let (year, month, day) = (date.year, date.month, date.day)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func append(_ value: Int, width: Int) {
            var digits = [UInt8](repeating: 0x30, count: width)
            var rest = value
            for index in stride(from: width - 1, through: 0, by: -1) {
                digits[index] = UInt8(0x30 + rest % 10)
                rest /= 10
            }
            bytes += digits
        }
        append(Int(year), width: 4); bytes.append(0x2d)
        append(month, width: 2); bytes.append(0x2d)
        append(day, width: 2); bytes.append(0x54)
        append(secondOfDay / 3600, width: 2); bytes.append(0x3a)
        append(secondOfDay / 60 % 60, width: 2); bytes.append(0x3a)
        append(secondOfDay % 60, width: 2); bytes.append(0x2e)
        append(millis, width: 3); bytes.append(0x5a)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses what `utc` writes (also without milliseconds).
    public static func parse(_ text: some StringProtocol) -> Date? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 20, utf8.last == 0x5a else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard index < utf8.count, (0x30...0x39).contains(utf8[index]) else { return nil }
                value = value * 10 + Int(utf8[index] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        let millis = utf8.count >= 24 ? number(20..<23) ?? 0 : 0
        let days = Int64(CivilDate.dayNumber(year: year, month: month, day: day))
        let total = Double(days * 86_400 + Int64(hour * 3600 + minute * 60 + second)) + Double(millis) / 1000
        return Date(timeIntervalSince1970: total)
    }
}
