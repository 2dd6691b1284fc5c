/// How long a process keeps its store open. SQLite's write-ahead log is
/// kept to the length that suits it (`SQLiteConnection`); PostgreSQL has
/// nothing to tune for it.
public enum StoreLifetime: Sendable, Equatable {
    /// One command (`run`, `jobs`, `publish`...): the store is opened,
    /// used for a moment and closed, often by a process that is the first
    /// to open it since the last one ended.
    case command
    /// `runbook serve`: the store stays open for as long as the host runs.
    case service
}
