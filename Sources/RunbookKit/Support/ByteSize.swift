/// Sizes as users write them: `512K`, `64M`, `2G`, `1T` (powers of 1024;
/// a trailing `B`/`iB` is accepted). A bare number is refused: `memory = 512`
/// is ambiguous.
public enum ByteSize {
    public struct ParseError: Error, Sendable, Equatable {
        public var message: String
    }

    public static func bytes(_ text: String) throws(ParseError) -> Int {
        let trimmed = text.trimmingWhitespace()
        let hint = "write a number followed by K, M, G or T, e.g. 512K, 64M or 2G"
        var upper = trimmed.uppercased()
        if upper.hasSuffix("IB") { upper.removeLast(2) } else if upper.hasSuffix("B") { upper.removeLast() }
        guard let unitCharacter = upper.last, let value = Int(upper.dropLast()), value >= 0 else {
            throw ParseError(message: "size '\(trimmed)' is not valid: \(hint)")
        }
        let shift: Int
        switch unitCharacter {
        case "K": shift = 10
        case "M": shift = 20
        case "G": shift = 30
        case "T": shift = 40
        default: throw ParseError(message: "size '\(trimmed)' has no unit: \(hint)")
        }
        guard value <= (Int.max >> shift) else { throw ParseError(message: "size '\(trimmed)' is too large") }
        return value << shift
    }

    /// `10485760` → `10M`; exact multiples only, else the byte count with `B`.
    public static func format(bytes: Int) -> String {
        for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] where bytes != 0 && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)B"
    }
}
