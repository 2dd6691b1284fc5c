/// Why the store could not do something. The message names the database
/// file and, where known, what to do about it.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case open, busy, corrupt, schema, query, notFound, conflict
    }

    public var code: Code
    public var message: String
    /// The SQLite result code behind the failure, if any.
    public var sqliteCode: Int32?

    public init(_ code: Code, _ message: String, sqliteCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
    }

    public var description: String { message }
}
