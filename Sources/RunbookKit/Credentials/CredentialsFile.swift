import FoundationEssentials
import Glibc

/// The parsed `credentials` file at the root: INI sections of fields.
///
/// The syntax, line by line (LF or CRLF line ends, UTF-8, a leading BOM ignored):
/// ```
/// # a comment (also ; at the start of a line)
/// [crm]   # a comment       a credential: 1-64 of A-Z a-z 0-9 - _
/// user = ops-bot            a literal: the rest of the line, trimmed
/// password = 'p#ss = "x"'   quoted ('...' or "..."): kept exactly, quotes
///                           removed, never a reference; no escapes, so use
///                           the other quote to include one
/// token = env:CRM_TOKEN     read from the host's environment at job start
/// key = file:secrets/crm    read from a file at job start (relative to the
///                           credentials file's directory)
/// note = abc # comment      in an unquoted value, `#` after a space or tab
///                           starts a comment; `a#b` keeps its `#`
/// [crm@test]                what a test run uses instead of [crm]
/// cert = """                a multi-line value: the lines up to a line that
/// -----BEGIN CERTIFICATE-----   is `"""` alone, kept verbatim (no trimming,
/// ...                       no comments, no quotes); the value ends with a
/// -----END CERTIFICATE----- newline after its last line, as a file does
/// """
/// ```
/// A section or a field defined twice is an error, and so is a field before
/// any section. Errors carry file:line (and column) and never quote the
/// line, since it may hold a secret.
public struct CredentialsFile: Sendable {
    /// One `[name]` or `[name@test]` section.
    public struct Section: Sendable {
        public var name: String
        /// True for `[name@test]`.
        public var isTest: Bool
        public var location: SourceLocation
        public var fields: [Field]

        /// `crm` or `crm@test`, as written between the brackets.
        public var title: String { isTest ? name + CredentialName.testSuffix : name }

        public func field(named name: String) -> Field? { fields.first { $0.name == name } }
    }

    /// One `field = value` line (or block).
    public struct Field: Sendable {
        public var name: String
        public var value: Value
        public var location: SourceLocation
    }

    /// Where a field's value comes from.
    public enum Value: Sendable, Hashable, CustomStringConvertible {
        /// Written in the file; the secret itself.
        case literal(Secret)
        /// `env:VAR`: the host's environment variable, read at job start.
        case environment(String)
        /// `file:PATH`: the file's contents, read at job start.
        case file(String)

        /// `***`, `env:VAR` or `file:PATH`: never the value.
        public var description: String {
            switch self {
            case .literal: Secret.redacted
            case .environment(let variable): "env:" + variable
            case .file(let path): "file:" + path
            }
        }
    }

    /// The path errors show (as the user would type it).
    public var path: String
    /// Sections in file order.
    public var sections: [Section]

    public init(path: String, sections: [Section]) {
        self.path = path
        self.sections = sections
    }

    /// The production (`test == false`) or test section of a credential.
    public func section(named name: String, test: Bool) -> Section? {
        sections.first { $0.name == name && $0.isTest == test }
    }

    /// The credential names the file defines (with or without a test
    /// section), each once, in file order: what `runbook credentials` lists.
    public var names: [String] {
        var seen = Set<String>()
        return sections.compactMap { seen.insert($0.name).inserted ? $0.name : nil }
    }

    /// Non-empty literal values under `SecretMasker.minimumLength`
    /// characters, which are not masked: `runbook check` warns about them. (Values from
    /// `env:`/`file:` are only known at job start; see
    /// `CredentialInjection.unmaskedFields`.)
    public var shortLiterals: [(section: String, field: String)] {
        sections.flatMap { section in
            section.fields.compactMap { field in
                if case .literal(let secret) = field.value, !SecretMasker.isMaskable(secret) {
                    return (section.title, field.name)
                }
                return nil
            }
        }
    }

    // MARK: Parsing

    /// Parses the file's bytes.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - path: the path to show in errors.
    /// - Throws: `CredentialsError` with code `notUTF8`, `syntax`, `badName`,
    ///   `badReference`, `fieldOutsideSection`, `duplicateSection`,
    ///   `duplicateField`, `unterminatedQuote` or `unterminatedBlock`, and
    ///   the location; the message never contains the line's text.
    public static func parse(_ bytes: [UInt8], path: String) throws(CredentialsError) -> CredentialsFile {
        var lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false)
        if bytes.last == 0x0a { lines.removeLast() }
        if let first = lines.first, first.starts(with: [0xef, 0xbb, 0xbf]) { lines[0] = first.dropFirst(3) }

        var sections: [Section] = []
        var block: (field: String, location: SourceLocation, lines: [String])? = nil

        func at(_ line: Int, _ column: Int? = nil) -> SourceLocation { SourceLocation(file: path, line: line, column: column) }

        for (index, rawLine) in lines.enumerated() {
            let number = index + 1
            var lineBytes = rawLine
            if lineBytes.last == 0x0d { lineBytes = lineBytes.dropLast() }
            guard let line = String(validating: lineBytes, as: UTF8.self) else {
                throw CredentialsError(.notUTF8, at: at(number),
                                       "line \(number) is not valid UTF-8 text: save the file as UTF-8")
            }

            if let open = block {
                if line.trimmingWhitespace() == "\"\"\"" {
                    let value = open.lines.map { $0 + "\n" }.joined()
                    sections[sections.count - 1].fields.append(Field(name: open.field, value: .literal(Secret(value)), location: open.location))
                    block = nil
                } else {
                    block?.lines.append(line)
                }
                continue
            }

            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }

            if trimmed.hasPrefix("[") {
                guard let close = trimmed.firstIndex(of: "]") else {
                    throw CredentialsError(.syntax, at: at(number),
                                           "a section header must end with ']': write [name] or [name@test]")
                }
                let after = trimmed[trimmed.index(after: close)...].trimmingWhitespace()
                guard after.isEmpty || after.hasPrefix("#") || after.hasPrefix(";") else {
                    throw CredentialsError(.syntax, at: at(number),
                                           "a section header must end with ']' (or a comment): write [name] or [name@test]")
                }
                let inner = trimmed[trimmed.index(after: trimmed.startIndex)..<close].trimmingWhitespace()
                var name = inner
                var isTest = false
                if let sign = inner.firstIndex(of: "@") {
                    guard inner[sign...] == CredentialName.testSuffix else {
                        throw CredentialsError(.badName, at: at(number),
                                               "a section name may only end in '@test': write [name] or [name@test]")
                    }
                    name = String(inner[..<sign])
                    isTest = true
                }
                guard CredentialName.isValid(name) else {
                    throw CredentialsError(.badName, at: at(number),
                                           "a credential name must be 1-64 letters, digits, '-' or '_': write [name] or [name@test]")
                }
                if let first = sections.first(where: { $0.name == name && $0.isTest == isTest }) {
                    let title = isTest ? name + CredentialName.testSuffix : name
                    throw CredentialsError(.duplicateSection, at: at(number), credential: name,
                                           "credential [\(title)] is already defined at line \(first.location.line): merge the two sections")
                }
                sections.append(Section(name: name, isTest: isTest, location: at(number), fields: []))
                continue
            }

            guard let equals = line.firstIndex(of: "=") else {
                throw CredentialsError(.syntax, at: at(number),
                                       "line \(number) is not a [section], a 'field = value' line or a comment")
            }
            let fieldName = line[..<equals].trimmingWhitespace()
            guard CredentialName.isValid(fieldName) else {
                throw CredentialsError(.badName, at: at(number, 1),
                                       "a field name must be 1-64 letters, digits, '-' or '_', followed by '='")
            }
            guard let section = sections.last else {
                throw CredentialsError(.fieldOutsideSection, at: at(number, 1), field: fieldName,
                                       "field '\(fieldName)' comes before any section: put it under a [name] header")
            }
            if let first = section.field(named: fieldName) {
                throw CredentialsError(.duplicateField, at: at(number, 1), credential: section.name, field: fieldName,
                                       "field '\(fieldName)' of [\(section.title)] is already set at line \(first.location.line): keep one")
            }

            let valueText = line[line.index(after: equals)...]
            let valueColumn = line[...equals].count + 1 + valueText.prefix { $0 == " " || $0 == "\t" }.count
            let value = try parseValue(valueText, location: at(number, valueColumn), credential: section.title, field: fieldName)
            if let value {
                sections[sections.count - 1].fields.append(Field(name: fieldName, value: value, location: at(number, 1)))
            } else {
                block = (fieldName, at(number, 1), [])
            }
        }
        if let open = block {
            throw CredentialsError(.unterminatedBlock, at: open.location, credential: sections.last?.title, field: open.field,
                                   "the multi-line value of '\(open.field)' is never closed: end it with a line holding only \"\"\"")
        }
        return CredentialsFile(path: path, sections: sections)
    }

    /// The value after `=`; nil when it opens a `"""` block.
    private static func parseValue(_ text: Substring, location: SourceLocation, credential: String, field: String) throws(CredentialsError) -> Value? {
        let value = text.trimmingWhitespace()
        if value == "\"\"\"" { return nil }
        if let quote = value.first, quote == "\"" || quote == "'" {
            let body = value.dropFirst()
            guard let close = body.firstIndex(of: quote) else {
                throw CredentialsError(.unterminatedQuote, at: location, credential: credential, field: field,
                                       "the value of '\(field)' opens a \(quote == "'" ? "single" : "double") quote that the line never closes")
            }
            let rest = body[body.index(after: close)...].trimmingWhitespace()
            guard rest.isEmpty || rest.hasPrefix("#") || rest.hasPrefix(";") else {
                throw CredentialsError(.syntax, at: location, credential: credential, field: field,
                                       "the value of '\(field)' has text after its closing quote: quote the whole value")
            }
            return .literal(Secret(String(body[..<close])))
        }
        let uncommented = withoutComment(value)
        if uncommented.hasPrefix("env:") {
            let variable = uncommented.dropFirst(4).trimmingWhitespace()
            guard CredentialName.isValidVariable(variable) else {
                throw CredentialsError(.badReference, at: location, credential: credential, field: field,
                                       "the value of '\(field)' starts with env: but no valid variable name follows: write env:NAME, or quote a literal value")
            }
            return .environment(variable)
        }
        if uncommented.hasPrefix("file:") {
            let filePath = uncommented.dropFirst(5).trimmingWhitespace()
            guard !filePath.isEmpty else {
                throw CredentialsError(.badReference, at: location, credential: credential, field: field,
                                       "the value of '\(field)' starts with file: but names no file: write file:PATH, or quote a literal value")
            }
            return .file(filePath)
        }
        return .literal(Secret(uncommented))
    }

    /// Cuts a `#` comment that follows a space or tab.
    private static func withoutComment(_ value: String) -> String {
        var previous: Character = " "
        for index in value.indices {
            let character = value[index]
            if character == "#", previous == " " || previous == "\t", index != value.startIndex {
                return value[..<index].trimmingWhitespace()
            }
            previous = character
        }
        return value
    }

    // MARK: Loading

    /// The largest credentials file read (and the largest `file:` value).
    public static let maximumSize = 1 << 20

    /// Reads and parses the credentials file at `path` after checking, on
    /// the open descriptor, that only the host's user can read it.
    /// - Parameters:
    ///   - path: the file (absolute, or relative to the current directory).
    ///   - displayPath: how errors name it; defaults to `path`.
    ///   - effectiveUID: the user that must own it; defaults to `geteuid()`.
    /// - Returns: nil when there is no file (no credentials; only an error
    ///   once a runbook declares one).
    /// - Throws: `CredentialsError` with code `unreadable`, `notRegularFile`,
    ///   `insecurePermissions`, `wrongOwner` or `tooLarge`, or a parse error.
    public static func load(path: String, displayPath: String? = nil, effectiveUID: uid_t = geteuid()) throws(CredentialsError) -> CredentialsFile? {
        let shown = displayPath ?? path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        if descriptor < 0 {
            let error = Glibc.errno
            if error == ENOENT { return nil }
            throw CredentialsError(.unreadable, errno: error, "cannot open \(shown): \(String(cString: strerror(error)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let error = Glibc.errno
            throw CredentialsError(.unreadable, errno: error, "cannot inspect \(shown): \(String(cString: strerror(error)))")
        }
        try CredentialsPermissions.check(status, path: shown, effectiveUID: effectiveUID)
        guard Int(status.st_size) <= maximumSize else {
            throw CredentialsError(.tooLarge, "\(shown) is larger than \(maximumSize / 1024) KiB: is it the right file?")
        }
        let bytes: [UInt8]
        do { bytes = try CredentialResolver.readAll(descriptor, limit: maximumSize) } catch {
            throw CredentialsError(.unreadable, errno: error.errno, "cannot read \(shown): \(error)")
        }
        return try parse(bytes, path: shown)
    }
}
