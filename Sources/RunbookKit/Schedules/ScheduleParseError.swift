/// Why a schedule spec or a schedule file was refused.
///
/// Every error names what is wrong, where (a column in the spec, and a
/// `SourceLocation` when it came from a file) and, when one is known, the
/// spelling to use instead. `description` prints the compiler-style line
/// `schedules/nightly.schedule:3:14: error: minute value 75 is out of range (0–59); ...`.
public struct ScheduleParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A machine-checkable reason.
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        case empty
        case wrongFieldCount
        case valueOutOfRange
        case invalidValue
        case reversedRange
        case zeroStep
        case unsupportedSyntax
        case neverFires
        case unknownTimeZone
        case invalidTime
        case invalidDate
        case invalidInterval
        case unknownWord
        case missingTime
        case invalidDuration
        case unknownKey
        case duplicateKey
        case missingSpec
        case conflictingSpecs
        case invalidName
        case invalidSetting
        case unknownRunbook
        case undeclaredParameter
        case missingParameter
        case unreadable
    }

    public var code: Code
    /// A sentence a user can act on, including the fix when one is known.
    public var message: String
    /// 1-based column in the spec text (or, with `location`, in the file line).
    public var column: Int?
    /// Where in a file the problem is, when the spec came from a file.
    public var location: SourceLocation?

    public init(code: Code, message: String, column: Int? = nil, location: SourceLocation? = nil) {
        self.code = code
        self.message = message
        self.column = column
        self.location = location
    }

    public var description: String {
        if let location { return "\(location): error: \(message)" }
        if let column { return "column \(column): error: \(message)" }
        return "error: \(message)"
    }

    /// This error placed in a file: the spec started at `valueColumn` of `line`.
    func located(file: String, line: Int, valueColumn: Int) -> ScheduleParseError {
        var copy = self
        let col = valueColumn + (column.map { $0 - 1 } ?? 0)
        copy.location = SourceLocation(file: file, line: line, column: col)
        copy.column = col
        return copy
    }
}
