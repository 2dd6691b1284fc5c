/// Durations as users write them in headers and schedules: `30s`, `10m`,
/// `2h`, `1d`, and sums of those such as `1h30m`. A bare number is refused,
/// so that `timeout = 10` can never silently mean ten seconds to one reader
/// and ten minutes to another.
public enum DurationText {
    /// Why a duration was refused; `message` is a sentence with the fix.
    public struct ParseError: Error, Sendable, Equatable {
        public var message: String
    }

    /// Parses `text` into whole seconds.
    /// - Throws: `ParseError` naming the input and the accepted spellings.
    public static func seconds(_ text: String) throws(ParseError) -> Int {
        let trimmed = text.trimmingWhitespace()
        let hint = "write a number followed by s, m, h or d, e.g. 30s, 10m, 2h, 1d or 1h30m"
        guard !trimmed.isEmpty else { throw ParseError(message: "empty duration: \(hint)") }
        var total = 0
        var number: Int? = nil
        var sawUnit = false
        for character in trimmed.lowercased() {
            if let digit = character.wholeNumberValue, character.isASCII {
                let (product, overflow1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = product.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else {
                    throw ParseError(message: "duration '\(trimmed)' is too large")
                }
                number = sum
                continue
            }
            let unit: Int
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            default:
                throw ParseError(message: "duration '\(trimmed)' has an unexpected '\(character)': \(hint)")
            }
            guard let value = number else {
                throw ParseError(message: "duration '\(trimmed)' has a unit without a number: \(hint)")
            }
            let (part, overflow1) = value.multipliedReportingOverflow(by: unit)
            let (sum, overflow2) = total.addingReportingOverflow(part)
            guard !overflow1, !overflow2 else {
                throw ParseError(message: "duration '\(trimmed)' is too large")
            }
            total = sum
            number = nil
            sawUnit = true
        }
        if number != nil {
            throw ParseError(message: "duration '\(trimmed)' has no unit: \(hint)")
        }
        guard sawUnit else { throw ParseError(message: "duration '\(trimmed)' is not valid: \(hint)") }
        return total
    }

    /// The shortest spelling of `seconds` in the same notation: `90` → `1m30s`.
    public static func format(seconds: Int) -> String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var text = ""
        for (unit, letter) in [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")] where rest >= unit {
            text += "\(rest / unit)\(letter)"
            rest %= unit
        }
        return text
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line ends.
    func trimmingWhitespace() -> String {
        trimming(while: \.isWhitespace)
    }

    /// The text without the leading and trailing characters `drop` accepts.
    func trimming(while drop: (Character) -> Bool) -> String {
        var slice = self[...]
        while let first = slice.first, drop(first) { slice = slice.dropFirst() }
        while let last = slice.last, drop(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

extension Character {
    /// A line break as editors see one: `\n`, `\r\n` (one Character in Swift) or a lone `\r`.
    var isLineEnd: Bool { self == "\n" || self == "\r\n" || self == "\r" }
}
