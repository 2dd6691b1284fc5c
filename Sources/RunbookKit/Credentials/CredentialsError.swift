/// Everything that can go wrong with credentials: the file (permissions,
/// syntax), resolving `env:`/`file:` references, and injecting them into a
/// job. The message is a sentence with the fix where one is known.
///
/// No error ever contains a credential value: syntax errors point at the
/// line (and column) instead of quoting it, and resolution errors name the
/// credential, field, variable or path, never what they hold.
public struct CredentialsError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable {
        // The file as a whole.
        case unreadable, insecurePermissions, wrongOwner, notRegularFile, tooLarge
        // Syntax, with a location.
        case notUTF8, syntax, badName, badReference, fieldOutsideSection
        case duplicateSection, duplicateField, unterminatedQuote, unterminatedBlock
        // Resolution and injection, naming the credential and field.
        case missingCredential, missingVariable, missingFile, unreadableFile, badValue
        case collision, cannotWriteFile
    }

    public var code: Code
    /// Where in the credentials file, for syntax errors.
    public var location: SourceLocation?
    /// The credential (section name) concerned, when there is one.
    public var credential: String?
    /// The field concerned, when there is one.
    public var field: String?
    /// The errno behind a failed system call, if any.
    public var errno: Int32?
    public var message: String

    public init(_ code: Code, at location: SourceLocation? = nil, credential: String? = nil, field: String? = nil,
                errno: Int32? = nil, _ message: String) {
        self.code = code
        self.location = location
        self.credential = credential
        self.field = field
        self.errno = errno
        self.message = message
    }

    /// `credentials:3:7: error: ...` for syntax errors, `error: ...` otherwise.
    public var description: String {
        if let location { return "\(location): error: \(message)" }
        return "error: \(message)"
    }
}
