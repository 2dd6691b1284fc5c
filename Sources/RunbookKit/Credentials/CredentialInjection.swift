import Glibc

/// What one job gets of the credentials file: exactly the credentials its
/// header declares, each field as a `NAME_FIELD` variable, and each
/// multi-line value also as a file whose path is in `NAME_FIELD_FILE`.
///
/// A test run takes `[name@test]` where the file has it, else `[name]`; a
/// scheduled or manual run takes `[name]` only. `choices` says which section
/// each credential came from, for the "using [crm@test]" line on stderr.
public struct CredentialInjection: Sendable {
    /// One field as an environment variable.
    public struct Variable: Sendable {
        /// `NAME_FIELD`.
        public var name: String
        public var value: Secret
        /// The section title (`crm` or `crm@test`).
        public var credential: String
        public var field: String
    }

    /// A multi-line field also written to a file.
    public struct FileVariable: Sendable {
        /// `NAME_FIELD_FILE`, which holds the file's path.
        public var name: String
        /// The file's name inside the private directory: `NAME_FIELD`.
        public var fileName: String
        public var contents: Secret
        public var credential: String
        public var field: String
    }

    /// Which section a declared credential was taken from.
    public struct Choice: Sendable, Hashable, CustomStringConvertible {
        /// The declared name.
        public var credential: String
        /// True when `[name@test]` was used.
        public var isTest: Bool
        /// True for a test run that found no `[name@test]` and used `[name]`.
        public var isFallback: Bool

        /// `credential crm: using [crm@test]`, or `credential crm: using [crm] (no [crm@test])`.
        public var description: String {
            let section = isTest ? credential + CredentialName.testSuffix : credential
            return "credential \(credential): using [\(section)]"
                + (isFallback ? " (no [\(credential)\(CredentialName.testSuffix)])" : "")
        }
    }

    public var variables: [Variable]
    public var files: [FileVariable]
    public var choices: [Choice]
    /// `crm.pin`-style names of non-empty values under
    /// `SecretMasker.minimumLength` characters: injected but not masked.
    public var unmaskedFields: [String]

    public init(variables: [Variable] = [], files: [FileVariable] = [], choices: [Choice] = [], unmaskedFields: [String] = []) {
        self.variables = variables
        self.files = files
        self.choices = choices
        self.unmaskedFields = unmaskedFields
    }

    /// Every value injected: what the job's masker must hide.
    public var secrets: [Secret] { variables.map(\.value) }

    /// The masker for this job's output.
    public func makeMasker() -> SecretMasker { SecretMasker(secrets: secrets) }

    // MARK: Planning

    /// Linux's limit on one `NAME=value` string passed to a program
    /// (`MAX_ARG_STRLEN`, terminating NUL included).
    public static let maximumVariableSize = 128 * 1024

    /// Resolves the credentials `runbook` declares, at job start.
    /// - Parameters:
    ///   - runbook: the runbook's name, for messages.
    ///   - credentials: the names its header declares (duplicates ignored).
    ///   - parameters: its parameter names, which variables may not shadow.
    ///   - file: the parsed credentials file, nil when there is none.
    ///   - test: a dry run (`runbook test`): prefer `[name@test]`.
    ///   - resolver: reads `env:` and `file:` values.
    /// - Throws: `CredentialsError` with code `missingCredential` (no file,
    ///   or no section), `collision`, `badValue` (a value too long for an
    ///   environment variable), or what `CredentialResolver.resolve` throws (`missingVariable`, `missingFile`, `unreadableFile`,
    ///   `badValue`). Messages name the runbook, credential and field.
    public static func plan(runbook: String, credentials: [String], parameters: [String], file: CredentialsFile?,
                            test: Bool, resolver: CredentialResolver) throws(CredentialsError) -> CredentialInjection {
        var injection = CredentialInjection()
        var seen = Set<String>()
        for name in credentials where seen.insert(name).inserted {
            guard let file else {
                throw CredentialsError(.missingCredential, credential: name,
                                       "runbook '\(runbook)' declares credential '\(name)', but there is no credentials file: create one (mode 0600) with a [\(name)] section, as credentials.example shows")
            }
            let testSection = test ? file.section(named: name, test: true) : nil
            guard let section = testSection ?? file.section(named: name, test: false) else {
                let hint = file.section(named: name, test: true) != nil
                    ? "it has only [\(name)\(CredentialName.testSuffix)], which test runs use: add [\(name)] for real runs"
                    : "add a [\(name)] section, or remove '\(name)' from the runbook's credentials header"
                throw CredentialsError(.missingCredential, credential: name,
                                       "runbook '\(runbook)' declares credential '\(name)', but \(file.path) has no [\(name)] section: \(hint)")
            }
            injection.choices.append(Choice(credential: name, isTest: section.isTest, isFallback: test && !section.isTest))
            for field in section.fields {
                let secret = try resolver.resolve(field.value, credential: section.title, field: field.name)
                let variable = CredentialName.variable(credential: section.name, field: field.name)
                guard variable.utf8.count + secret.reveal().utf8.count + 2 <= maximumVariableSize else {
                    throw CredentialsError(.badValue, credential: section.title, field: field.name,
                                           "credential [\(section.title)] field '\(field.name)' is longer than an environment variable can be (\(maximumVariableSize / 1024) KiB): use a shorter value")
                }
                injection.variables.append(Variable(name: variable, value: secret, credential: section.title, field: field.name))
                if secret.isMultiline {
                    injection.files.append(FileVariable(name: CredentialName.fileVariable(credential: section.name, field: field.name),
                                                        fileName: variable, contents: secret,
                                                        credential: section.title, field: field.name))
                }
                if !SecretMasker.isMaskable(secret) { injection.unmaskedFields.append("\(section.title).\(field.name)") }
            }
        }
        let entries = injection.variables.map { ($0.credential, $0.field, $0.name) } + injection.files.map { ($0.credential, $0.field, $0.name) }
        if let collision = CredentialCollision.find(runbook: runbook, entries: entries, parameters: parameters).first {
            throw CredentialsError(.collision, credential: collision.credential, field: collision.field, collision.description)
        }
        return injection
    }

    /// What `runbook check` and `publish` report: variables of `runbook`'s
    /// credentials that clash with its parameters, with reserved names or
    /// with each other, for real runs (`[name]`) and test runs (`[name@test]`
    /// where present). Credentials the file lacks are skipped (reported as
    /// unknown elsewhere). A `file:` field counts as multi-line here
    /// (its `_FILE` variable is checked too), since its content is only
    /// known at job start.
    public static func collisions(runbook: String, credentials: [String], parameters: [String],
                                  file: CredentialsFile) -> [CredentialCollision] {
        var found: [CredentialCollision] = []
        for test in [false, true] {
            var entries: [(credential: String, field: String, variable: String)] = []
            var seen = Set<String>()
            for name in credentials where seen.insert(name).inserted {
                guard let section = (test ? file.section(named: name, test: true) : nil) ?? file.section(named: name, test: false) else { continue }
                for field in section.fields {
                    entries.append((section.title, field.name, CredentialName.variable(credential: section.name, field: field.name)))
                }
                for field in section.fields {
                    let multiline: Bool
                    switch field.value {
                    case .literal(let secret): multiline = secret.isMultiline
                    case .file: multiline = true
                    case .environment: multiline = false
                    }
                    if multiline {
                        entries.append((section.title, field.name, CredentialName.fileVariable(credential: section.name, field: field.name)))
                    }
                }
            }
            for collision in CredentialCollision.find(runbook: runbook, entries: entries, parameters: parameters)
            where !found.contains(collision) {
                found.append(collision)
            }
        }
        return found
    }

    // MARK: The job's side

    /// The variables to add to the job's environment: each `NAME_FIELD`,
    /// and each `NAME_FIELD_FILE` as a path inside `fileDirectory` (where
    /// `writeFiles(in:owner:)` puts them).
    public func environment(fileDirectory: String) -> [String: String] {
        var environment: [String: String] = [:]
        for variable in variables { environment[variable.name] = variable.value.reveal() }
        for file in files { environment[file.name] = Self.path(fileDirectory, file.fileName) }
        return environment
    }

    /// Writes each multi-line value to `directory/NAME_FIELD`: the directory
    /// is created (or reused if it is already this user's directory) with
    /// mode 0700, each file created fresh with mode 0600 whatever the umask.
    /// Put the directory in the job's private scratch space so it goes away
    /// with it, and outside anything the job's output is copied from.
    /// - Parameter owner: when the job runs as another user (the host runs
    ///   as root), the directory and files are given to that user.
    /// - Throws: `CredentialsError.Code.cannotWriteFile`, naming the path.
    public func writeFiles(in directory: String, owner: (uid: uid_t, gid: gid_t)? = nil) throws(CredentialsError) {
        guard !files.isEmpty else { return }
        func failure(_ what: String, _ path: String) -> CredentialsError {
            let error = Glibc.errno
            return CredentialsError(.cannotWriteFile, errno: error, "cannot \(what) \(path): \(String(cString: strerror(error)))")
        }
        if mkdir(directory, 0o700) != 0 {
            guard Glibc.errno == EEXIST else { throw failure("create the directory", directory) }
            var status = stat()
            guard lstat(directory, &status) == 0 else { throw failure("inspect", directory) }
            guard status.st_mode & S_IFMT == S_IFDIR, status.st_uid == geteuid() else {
                throw CredentialsError(.cannotWriteFile, "\(directory) exists and is not a directory of runbook's user: remove it")
            }
        }
        guard chmod(directory, 0o700) == 0 else { throw failure("protect", directory) }
        for file in files {
            let path = Self.path(directory, file.fileName)
            unlink(path)
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw failure("create", path) }
            defer { close(descriptor) }
            guard fchmod(descriptor, 0o600) == 0 else { throw failure("protect", path) }
            if let owner, fchown(descriptor, owner.uid, owner.gid) != 0 { throw failure("hand over", path) }
            let bytes = Array(file.contents.reveal().utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
                if written < 0 {
                    if Glibc.errno == EINTR { continue }
                    throw failure("write", path)
                }
                offset += written
            }
        }
        if let owner, chown(directory, owner.uid, owner.gid) != 0 { throw failure("hand over", directory) }
    }

    private static func path(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
