import FoundationEssentials
import Glibc

/// Turns a field's `Value` into the secret itself at job start: `env:VAR`
/// from an environment dictionary, `file:PATH` through a file reader. Both
/// are injected, so tests need neither a real environment nor real files.
public struct CredentialResolver: Sendable {
    /// Why a file could not be read. `errno == ENOENT` means it is missing.
    public struct ReadFailure: Error, Sendable, CustomStringConvertible {
        public var errno: Int32?
        public var description: String
        public init(errno: Int32?, _ description: String) {
            self.errno = errno
            self.description = description
        }
    }

    /// The host's environment, as runbook was started with it.
    public var environment: [String: String]
    /// The directory relative `file:` paths start from: the credentials
    /// file's directory (the repository root).
    public var directory: String
    /// Reads a whole file (an absolute path); throws `ReadFailure`.
    public var readFile: @Sendable (String) throws(ReadFailure) -> [UInt8]

    public init(environment: [String: String], directory: String,
                readFile: @escaping @Sendable (String) throws(ReadFailure) -> [UInt8]) {
        self.environment = environment
        self.directory = directory
        self.readFile = readFile
    }

    /// A resolver over the real file system, reading at most
    /// `CredentialsFile.maximumSize` bytes of a file.
    public static func host(environment: [String: String], directory: String) -> CredentialResolver {
        CredentialResolver(environment: environment, directory: directory) { path throws(ReadFailure) in
            let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
            guard descriptor >= 0 else {
                let error = Glibc.errno
                throw ReadFailure(errno: error, String(cString: strerror(error)))
            }
            defer { close(descriptor) }
            return try readAll(descriptor, limit: CredentialsFile.maximumSize)
        }
    }

    /// The secret a field holds.
    /// - Parameters:
    ///   - credential: the section's title (`crm` or `crm@test`), for errors.
    /// - Throws: `CredentialsError` with code `missingVariable`,
    ///   `missingFile`, `unreadableFile` or `badValue` (not UTF-8 text, or a
    ///   NUL byte, which no environment variable can hold), naming the
    ///   credential and field.
    ///
    /// A file whose only line end is its last character loses that line end
    /// (`echo token > file` gives `token`); other files are taken verbatim.
    public func resolve(_ value: CredentialsFile.Value, credential: String, field: String) throws(CredentialsError) -> Secret {
        let secret: Secret
        switch value {
        case .literal(let literal):
            secret = literal
        case .environment(let variable):
            guard let text = environment[variable] else {
                throw CredentialsError(.missingVariable, credential: credential, field: field,
                                       "credential [\(credential)] field '\(field)' reads env:\(variable), which is not set in runbook's environment: set it where runbook starts, or change the field")
            }
            secret = Secret(text)
        case .file(let path):
            let full = path.hasPrefix("/") ? path : (directory.hasSuffix("/") ? directory : directory + "/") + path
            var bytes: [UInt8]
            do { bytes = try readFile(full) } catch {
                if error.errno == ENOENT {
                    throw CredentialsError(.missingFile, credential: credential, field: field, errno: error.errno,
                                           "credential [\(credential)] field '\(field)' reads file:\(path), and \(full) does not exist: create it or change the field")
                }
                throw CredentialsError(.unreadableFile, credential: credential, field: field, errno: error.errno,
                                       "credential [\(credential)] field '\(field)' reads file:\(path), and \(full) cannot be read: \(error)")
            }
            if bytes.last == 0x0a, bytes.firstIndex(of: 0x0a) == bytes.count - 1 {
                bytes.removeLast()
                if bytes.last == 0x0d { bytes.removeLast() }
            }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw CredentialsError(.badValue, credential: credential, field: field,
                                       "credential [\(credential)] field '\(field)' reads file:\(path), which is not UTF-8 text: an environment variable cannot carry it")
            }
            secret = Secret(text)
        }
        if secret.reveal().utf8.contains(0) {
            throw CredentialsError(.badValue, credential: credential, field: field,
                                   "credential [\(credential)] field '\(field)' contains a NUL byte, which an environment variable cannot carry")
        }
        return secret
    }

    /// Reads `descriptor` to its end.
    /// - Throws: `ReadFailure` on a read error or past `limit` bytes.
    static func readAll(_ descriptor: Int32, limit: Int) throws(ReadFailure) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                let error = Glibc.errno
                if error == EINTR { continue }
                throw ReadFailure(errno: error, String(cString: strerror(error)))
            }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
            if bytes.count > limit {
                throw ReadFailure(errno: EFBIG, "it is larger than \(limit / 1024) KiB")
            }
        }
    }
}
