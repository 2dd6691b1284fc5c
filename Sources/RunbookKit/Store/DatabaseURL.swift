import FoundationEssentials

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
        return name.isEmpty ? nil : Self.percentDecoded(name) ?? name
    }

    /// `%XX` escapes decoded; nil when one is malformed or the result is not UTF-8.
    static func percentDecoded(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var rest = text.utf8[...]
        while let byte = rest.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            let digits = rest.prefix(2)
            guard digits.count == 2, digits.allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
                  let value = UInt8(String(decoding: digits, as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
            rest = rest.dropFirst(2)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private init(unchecked text: String) { self.text = text }

    /// `scheme://authority` and what follows it (`/db?params`).
    private static func splitAuthority(_ text: String) -> (String, Substring) {
        guard let schemeEnd = text.firstRange(of: "://") else { return (text, "") }
        let afterScheme = text[schemeEnd.upperBound...]
        let end = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
        return (String(text[..<end]), text[end...])
    }

    /// Where `needle` (lowercase ASCII) first occurs in `text`, in any case.
    private static func caseInsensitiveRange(of needle: String, in text: Substring) -> Range<String.Index>? {
        var start = text.startIndex
        while start < text.endIndex {
            let candidate = text[start...].prefix(needle.count)
            if candidate.count == needle.count, candidate.lowercased() == needle { return start..<candidate.endIndex }
            start = text.index(after: start)
        }
        return nil
    }

    static func redact(_ text: String) -> String {
        var result = text
        if let schemeEnd = result.firstRange(of: "://") {
            let afterScheme = result[schemeEnd.upperBound...]
            let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
            let authority = result[schemeEnd.upperBound..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                result.replaceSubrange(result.index(after: colon)..<at, with: "***")
            }
        }
        // password=... in the query string, up to the next & (or the end).
        var searchStart = result.startIndex
        while let found = caseInsensitiveRange(of: "password=", in: result[searchStart...]) {
            let end = result[found.upperBound...].firstIndex(of: "&") ?? result.endIndex
            result.replaceSubrange(found.upperBound..<end, with: "***")
            searchStart = result.index(found.upperBound, offsetBy: 3)
        }
        return result
    }
}
