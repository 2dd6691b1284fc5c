/// Why the store could not do something. The message names the database
/// (a file, or a URL without its password) and, where known, what to do.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case open, busy, corrupt, schema, query, notFound, conflict
        /// The database cannot be reached now (PostgreSQL down, the network
        /// gone): the same call may work later.
        case unavailable
    }

    public var code: Code
    public var message: String
    /// The SQLite result code behind the failure, if any.
    public var sqliteCode: Int32?
    /// PostgreSQL's SQLSTATE behind the failure, if any.
    public var sqlState: String?

    public init(_ code: Code, _ message: String, sqliteCode: Int32? = nil, sqlState: String? = nil) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
        self.sqlState = sqlState
    }

    public var description: String { message }

    /// Whether `error` says the database is out of reach for now.
    public static func isUnavailable(_ error: any Error) -> Bool {
        (error as? StoreError)?.code == .unavailable
    }
}
