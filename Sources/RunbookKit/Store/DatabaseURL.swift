import Foundation

/// A PostgreSQL connection URL (`postgres://USER:PASSWORD@HOST:PORT/DB?...`)
/// as given by `RUNBOOK_DATABASE` or `--database`. Its `description` hides
/// the password, so the URL can go into every message and log line.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    /// The URL as given, password included: for libpq only.
    let text: String

    /// Whether `value` names a PostgreSQL database (`postgres://` or
    /// `postgresql://`); anything else means the SQLite file in the state
    /// directory.
    public static func isPostgres(_ value: String) -> Bool {
        value.hasPrefix("postgres://") || value.hasPrefix("postgresql://")
    }

    /// - Throws: `StoreError.open` when `text` is not a postgres URL.
    public init(_ text: String) throws(StoreError) {
        guard Self.isPostgres(text) else {
            throw StoreError(.open, "'\(Self.redact(text))' is not a PostgreSQL URL; write postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        self.text = text
    }

    /// The URL with its password (in the user part or a `password=`
    /// parameter) replaced by `***`.
    public var description: String { Self.redact(text) }

    /// The same server and credentials, another database.
    public func replacingDatabase(_ name: String) -> DatabaseURL {
        let (head, rest) = Self.splitAuthority(text)
        let query = rest.firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        // Built from a valid URL, so it is one too.
        return DatabaseURL(unchecked: "\(head)/\(name)\(query)")
    }

    /// The database the URL names, nil for the server's default.
    public var databaseName: String? {
        let (_, rest) = Self.splitAuthority(text)
        let path = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let name = path.hasPrefix("/") ? String(path.dropFirst()) : path
        return name.isEmpty ? nil : name.removingPercentEncoding ?? name
    }

    private init(unchecked text: String) { self.text = text }

    /// `scheme://authority` and what follows it (`/db?params`).
    private static func splitAuthority(_ text: String) -> (String, Substring) {
        guard let schemeEnd = text.range(of: "://") else { return (text, "") }
        let afterScheme = text[schemeEnd.upperBound...]
        let end = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
        return (String(text[..<end]), text[end...])
    }

    static func redact(_ text: String) -> String {
        var result = text
        if let schemeEnd = result.range(of: "://") {
            let afterScheme = result[schemeEnd.upperBound...]
            let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
            let authority = result[schemeEnd.upperBound..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                result.replaceSubrange(result.index(after: colon)..<at, with: "***")
            }
        }
        // password=... in the query string, up to the next & (or the end).
        var searchStart = result.startIndex
        while let found = result.range(of: "password=", options: .caseInsensitive, range: searchStart..<result.endIndex) {
            let end = result[found.upperBound...].firstIndex(of: "&") ?? result.endIndex
            result.replaceSubrange(found.upperBound..<end, with: "***")
            searchStart = result.index(found.upperBound, offsetBy: 3)
        }
        return result
    }
}
