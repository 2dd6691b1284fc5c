import FoundationEssentials

/// Which store a command uses: PostgreSQL when `--database` or
/// `RUNBOOK_DATABASE` is a `postgres://` URL, else the SQLite file in the
/// state directory.
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(DatabaseURL)

    /// - Parameters:
    ///   - option: the `--database` value, which wins over the environment.
    ///   - environment: where `RUNBOOK_DATABASE` is read.
    ///   - stateDirectory: where the SQLite file lives.
    public static func select(option: String?, environment: [String: String], stateDirectory: URL) throws -> StoreLocation {
        let given = option ?? environment["RUNBOOK_DATABASE"]
        if let given, DatabaseURL.isPostgres(given) { return .postgres(try DatabaseURL(given)) }
        return .sqlite(path: SQLiteStore.path(in: stateDirectory))
    }

    /// Opens the store, migrating it if needed.
    /// - Parameter lifetime: how long the caller keeps it open.
    public func open(lifetime: StoreLifetime = .command) throws -> any Store {
        switch self {
        case .sqlite(let path): return try SQLiteStore(path: path, lifetime: lifetime)
        case .postgres(let url): return try PostgresStore(url: url)
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let url): return url.description
        }
    }
}
