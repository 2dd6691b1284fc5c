import FoundationEssentials
import Glibc

/// Waiting out a database that went away, for records that must not be
/// lost: a job that ran while PostgreSQL was down still gets its result
/// written once the server is back.
public enum StoreRetry {
    /// Runs `body` until it succeeds, trying again while it fails with
    /// `StoreError.unavailable` (0.25 s, doubling up to 2 s, between
    /// tries) for at most `seconds`; any other failure is thrown at once.
    public static func whileUnavailable<T>(for seconds: TimeInterval, _ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        var delay = 0.25
        while true {
            do {
                return try body()
            } catch where StoreError.isUnavailable(error) && Date() < deadline {
                usleep(useconds_t(delay * 1_000_000))
                delay = min(delay * 2, 2)
            }
        }
    }
}
