import FoundationEssentials
import Glibc

/// A value bound to, or read from, an SQL statement.
enum SQLValue: Sendable, Equatable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
    case null

    var int: Int? { if case .integer(let value) = self { return Int(value) }; return nil }
    var int64: Int64? { if case .integer(let value) = self { return value }; return nil }
    var double: Double? {
        switch self {
        case .real(let value): return value
        case .integer(let value): return Double(value)
        default: return nil
        }
    }
    var string: String? { if case .text(let value) = self { return value }; return nil }
    var data: Data? { if case .blob(let value) = self { return value }; return nil }
    var date: Date? { double.map { Date(timeIntervalSince1970: $0) } }

    init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
    init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    init(_ value: Date?) { self = value.map { .real($0.timeIntervalSince1970) } ?? .null }
    init(_ value: Bool?) { self = value.map { .integer($0 ? 1 : 0) } ?? .null }
}

/// One row of a result, read by column index.
struct SQLRow: Sendable {
    var values: [SQLValue]
    subscript(_ index: Int) -> SQLValue { values[index] }
}

/// What the stores' shared SQL needs from a connection: SQLite's and
/// PostgreSQL's. Statements are written once, in the dialect both speak:
/// parameters as `?1`, `?2`, ... (PostgreSQL's connection turns them into
/// `$1`, `$2`), instants as seconds since 1970 in floating point, flags as
/// 0/1 integers, `INSERT ... ON CONFLICT ... RETURNING`.
protocol SQLDatabase: Sendable {
    /// Names the database in messages: a file path, or a URL without its password.
    var displayName: String { get }
    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws(StoreError)
    /// Runs `sql` with `parameters` bound to `?1`, `?2`, ... and returns every row.
    @discardableResult
    func query(_ sql: String, _ parameters: [SQLValue]) throws(StoreError) -> [SQLRow]
    /// Runs `body` in one write transaction; nested calls join the outer one.
    func transaction<T>(_ body: () throws -> T) throws -> T
    /// Runs `body` with commits that need not wait for the disk (see
    /// `Store.relaxed`).
    @discardableResult
    func relaxed<T>(_ body: () throws -> T) throws -> T
}

extension SQLDatabase {
    @discardableResult
    func query(_ sql: String) throws(StoreError) -> [SQLRow] { try query(sql, []) }
}

/// A lock the same thread may take again (a transaction's statements run
/// while the transaction holds it): a recursive pthread mutex.
final class RecursiveLock: @unchecked Sendable {
    // Invariant: the mutex is only used through pthread_mutex_lock/unlock,
    // which are themselves thread-safe; it lives as long as the object.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        return mutex
    }()

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// The transaction a connection has open: the outermost `run` begins and
/// commits it (or rolls it back when `body` throws); a `run` inside it
/// joins it. Both connections keep one, touched only under their lock.
final class TransactionNesting: @unchecked Sendable {
    // Invariant: used only while the owning connection's lock is held.
    /// Transactions open, the outermost included; 0 when none is.
    private(set) var depth = 0

    func run<T>(begin: () throws -> Void, commit: () throws -> Void, rollback: () -> Void, _ body: () throws -> T) throws -> T {
        if depth > 0 {
            depth += 1
            defer { depth -= 1 }
            return try body()
        }
        try begin()
        depth = 1
        defer { depth = 0 }
        do {
            let value = try body()
            try commit()
            return value
        } catch {
            rollback()
            throw error
        }
    }
}
