/// A place in a user's file: what every input error points at.
///
/// Lines and columns are 1-based, as editors show them. `column` is nil when
/// the error concerns a whole line.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int?

    public init(file: String, line: Int, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `runbooks/backup.sh:3:14`, or `runbooks/backup.sh:3` without a column.
    public var description: String {
        if let column { return "\(file):\(line):\(column)" }
        return "\(file):\(line)"
    }
}
