/// A problem with one runbook file (or with `runtimes.conf`). It names the
/// file and line, says what is wrong and what to do; other runbooks are
/// never affected by it.
public struct CatalogError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable {
        case badName, duplicateName, unknownRuntime, unreadable, notUTF8
        case unknownKey, duplicateKey, badValue, badRuntimeConfig
    }

    public var code: Code
    public var location: SourceLocation
    public var message: String

    public init(_ code: Code, at location: SourceLocation, _ message: String) {
        self.code = code
        self.location = location
        self.message = message
    }

    /// `runbooks/backup.sh:3:14: error: ...`, as compilers print it.
    public var description: String { "\(location): error: \(message)" }
}

/// Several problems found in one file, reported together.
public struct CatalogErrors: Error, Sendable, Equatable {
    public var errors: [CatalogError]
    public init(_ errors: [CatalogError]) { self.errors = errors }
}
