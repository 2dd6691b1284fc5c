import CLibPQ
import FoundationEssentials
import Glibc

/// One libpq connection to a PostgreSQL database, which comes back by
/// itself after the server went away.
///
/// Invariant behind `@unchecked Sendable`: `handle` and the reconnection
/// state are only touched while `lock` is held, so calls from several
/// threads are serialised; a transaction holds the lock from BEGIN to
/// COMMIT, so no other thread's statement slips into it.
///
/// When the server cannot be reached, calls throw `StoreError.unavailable`
/// at once; a new connection is tried on the first call after a backoff
/// (0.25 s, doubling up to 4 s), so a host that keeps asking does not
/// hammer a server that is starting.
final class PostgresConnection: SQLDatabase, @unchecked Sendable {
    let url: DatabaseURL
    var displayName: String { url.description }
    /// libpq's functions, loaded when the first connection is made.
    private let pq: LibPQ
    private let lock = RecursiveLock()
    private var handle: OpaquePointer?
    private let transactions = TransactionNesting()
    private var backoff: TimeInterval = 0
    private var retryAt = Date.distantPast
    private var lastFailure = ""
    /// `?N` statements as PostgreSQL's `$N`, converted once each.
    private var converted: [String: String] = [:]

    static let maximumBackoff: TimeInterval = 4

    /// Connects to `url`, loading libpq first if this is the process's
    /// first PostgreSQL connection.
    /// - Parameters:
    ///   - libraryName: the libpq to `dlopen`; tests name a missing one.
    /// - Throws: `StoreError.open` when libpq cannot be loaded, naming the
    ///   URL (without its password) and the package to install;
    ///   `StoreError.unavailable` naming the URL and libpq's reason: wrong
    ///   password, no server, unknown host.
    init(url: DatabaseURL, libraryName: String = LibPQ.libraryName) throws(StoreError) {
        self.url = url
        switch LibPQ.named(libraryName) {
        case .success(let library): pq = library
        case .failure(let failure):
            throw StoreError(.open, "cannot open the database \(url): PostgreSQL's client library \(libraryName) is not installed or cannot be loaded (\(failure.reason)); install it (Debian/Ubuntu: apt install libpq5; Fedora/RHEL: dnf install libpq)")
        }
        try lock.withLock { () throws(StoreError) in try connect() }
    }

    deinit { if let handle { pq.finish(handle) } }

    // MARK: Connecting

    private func connect() throws(StoreError) {
        if let handle { pq.finish(handle) }
        handle = nil
        // Later keywords win: the URL's own connect_timeout overrides ours.
        let keywords = ["connect_timeout", "application_name", "dbname"]
        let values = ["5", "runbook", url.text]
        let connection = withCStrings(keywords) { keywordPointers in
            withCStrings(values) { valuePointers in pq.connectdbParams(keywordPointers, valuePointers, 1) }
        }
        guard let connection, pq.status(connection) == CONNECTION_OK else {
            let reason = connection.map { Self.oneLine(pq.errorText($0)) } ?? "out of memory"
            if let connection { pq.finish(connection) }
            lastFailure = reason
            backoff = min(Self.maximumBackoff, max(0.25, backoff * 2))
            retryAt = Date().addingTimeInterval(backoff)
            throw StoreError(.unavailable, "cannot connect to the database \(url): \(reason); check the URL and password, and that PostgreSQL runs and accepts connections from this machine")
        }
        // Notices (NOTICE: relation already exists, skipping) would
        // otherwise go to runbook's stderr.
        _ = pq.setNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
        backoff = 0
    }

    /// The live connection, reconnecting when the backoff allows.
    private func live() throws(StoreError) -> OpaquePointer {
        if let handle, pq.status(handle) == CONNECTION_OK { return handle }
        if transactions.depth > 0 {
            throw StoreError(.unavailable, "lost the connection to the database \(url) inside a transaction; it was rolled back")
        }
        if Date() < retryAt {
            throw StoreError(.unavailable, "the database \(url) is unreachable (\(lastFailure)); trying again in \(String(cFormat: "%.1f", retryAt.timeIntervalSinceNow))s")
        }
        try connect()
        guard let handle else { throw StoreError(.unavailable, "cannot connect to the database \(url)") }
        return handle
    }

    // MARK: Statements

    func execute(_ sql: String) throws(StoreError) {
        try lock.withLock { () throws(StoreError) in
            let connection = try live()
            let result = pq.exec(connection, sql)
            defer { pq.clear(result) }
            try check(result, connection: connection)
        }
    }

    @discardableResult
    func query(_ sql: String, _ parameters: [SQLValue]) throws(StoreError) -> [SQLRow] {
        try lock.withLock { () throws(StoreError) in
            let connection = try live()
            let statement = numbered(sql)
            let texts: [String?] = parameters.map(Self.text(of:))
            let result = withOptionalCStrings(texts) { pointers in
                pq.execParams(connection, statement, Int32(texts.count), nil, pointers, nil, nil, 0)
            }
            defer { pq.clear(result) }
            try check(result, connection: connection)
            return rows(of: result)
        }
    }

    func transaction<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock { () throws -> T in
            try transactions.run(begin: { try execute("BEGIN") }, commit: { try execute("COMMIT") }, rollback: {
                if let handle, pq.status(handle) == CONNECTION_OK { pq.clear(pq.exec(handle, "ROLLBACK")) }
            }, body)
        }
    }

    /// Commits inside `body` return before the server's WAL reaches its
    /// disk (`synchronous_commit = off`): a crash of the server can lose
    /// the last fraction of a second of them, never corrupt anything.
    @discardableResult
    func relaxed<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock { () throws -> T in
            guard transactions.depth == 0 else { return try body() }
            try execute("SET synchronous_commit TO off")
            defer { if let handle, pq.status(handle) == CONNECTION_OK { pq.clear(pq.exec(handle, "SET synchronous_commit TO on")) } }
            return try body()
        }
    }

    // MARK: Results

    /// Throws the failure `result` reports; a lost connection is dropped so
    /// the next call connects again.
    private func check(_ result: OpaquePointer?, connection: OpaquePointer) throws(StoreError) {
        let status = result.map { pq.resultStatus($0) } ?? PGRES_FATAL_ERROR
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY: return
        default: break
        }
        let message = Self.oneLine(result.flatMap { pq.resultErrorMessage($0) }.map { String(cString: $0) }
            ?? pq.errorText(connection))
        let state = result.flatMap { pq.resultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) }
        if pq.status(connection) != CONNECTION_OK || state?.hasPrefix("08") == true || state?.hasPrefix("57P") == true {
            pq.finish(connection)
            handle = nil
            lastFailure = message.isEmpty ? "connection lost" : message
            retryAt = Date()
            throw StoreError(.unavailable, "lost the connection to the database \(url): \(lastFailure); runbook connects again by itself", sqlState: state)
        }
        switch state {
        case "23505", "23503":
            throw StoreError(.conflict, "the database \(url) refused a write: \(message)", sqlState: state)
        case "40001", "40P01", "55P03":
            throw StoreError(.busy, "the database \(url) gave up on a locked row: \(message); try again", sqlState: state)
        default:
            throw StoreError(.query, "the database \(url) failed: \(message)", sqlState: state)
        }
    }

    private func rows(of result: OpaquePointer?) -> [SQLRow] {
        guard let result else { return [] }
        let count = pq.ntuples(result), columns = pq.nfields(result)
        let types = (0..<columns).map { pq.ftype(result, $0) }
        var rows: [SQLRow] = []
        rows.reserveCapacity(Int(count))
        for row in 0..<count {
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columns))
            for column in 0..<columns {
                guard pq.getisnull(result, row, column) == 0, let raw = pq.getvalue(result, row, column) else {
                    values.append(.null)
                    continue
                }
                switch types[Int(column)] {
                case 20, 21, 23, 26: // int8, int2, int4, oid
                    values.append(Int64(String(cString: raw)).map(SQLValue.integer) ?? .null)
                case 700, 701, 1700: // float4, float8, numeric
                    values.append(Double(String(cString: raw)).map(SQLValue.real) ?? .null)
                case 16: // bool
                    values.append(.integer(raw.pointee == CChar(UInt8(ascii: "t")) ? 1 : 0))
                case 17: // bytea, in the hex output format
                    values.append(.blob(Self.hexDecoded(raw, length: Int(pq.getlength(result, row, column)))))
                default:
                    values.append(.text(String(cString: raw)))
                }
            }
            rows.append(SQLRow(values: values))
        }
        return rows
    }

    /// `\x0a1b...` to bytes.
    private static func hexDecoded(_ raw: UnsafePointer<CChar>, length: Int) -> Data {
        guard length >= 2 else { return Data() }
        var data = Data(capacity: (length - 2) / 2)
        func nibble(_ c: CChar) -> UInt8 {
            let v = UInt8(bitPattern: c)
            switch v {
            case 0x30...0x39: return v - 0x30
            case 0x61...0x66: return v - 0x61 + 10
            case 0x41...0x46: return v - 0x41 + 10
            default: return 0
            }
        }
        var index = 2
        while index + 1 < length {
            data.append(nibble(raw[index]) << 4 | nibble(raw[index + 1]))
            index += 2
        }
        return data
    }

    /// A parameter in PostgreSQL's text format (nil for NULL); the server
    /// gives it the type of the column or expression it meets.
    private static func text(of value: SQLValue) -> String? {
        switch value {
        case .integer(let number): return String(number)
        case .real(let number): return "\(number)"
        case .text(let text): return text
        case .blob(let data):
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            var bytes: [UInt8] = [0x5c, 0x78]
            bytes.reserveCapacity(2 + data.count * 2)
            for byte in data {
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0f)])
            }
            return String(decoding: bytes, as: UTF8.self)
        case .null: return nil
        }
    }

    /// `?1` → `$1` outside quoted strings (the stores' SQL is written with
    /// SQLite's placeholders).
    private func numbered(_ sql: String) -> String {
        if let done = converted[sql] { return done }
        var output = ""
        output.reserveCapacity(sql.utf8.count)
        var quoted = false
        for character in sql {
            if character == "'" { quoted.toggle() }
            output.append(character == "?" && !quoted ? "$" : character)
        }
        converted[sql] = output
        return output
    }

    /// libpq's messages run over several lines ("FATAL: ...\nDETAIL: ..."): one line for logs.
    static func oneLine(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty }.joined(separator: "; ")
    }
}

/// Calls `body` with NUL-terminated copies of `strings` and a trailing NULL.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStrings(strings) { body($0) }
}

/// Calls `body` with NUL-terminated copies of `strings` (NULL for nil),
/// followed by a NULL (libpq's keyword lists end with one; parameter
/// lists ignore it, and it gives an empty list an address).
private func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } } + [nil]
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer { buffer in
        body(buffer.baseAddress.unsafelyUnwrapped)
    }
}
