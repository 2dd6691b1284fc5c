import FoundationEssentials

/// How the runbooks of a catalog and the credentials file fit together:
/// what `runbook check` and `runbook credentials` report. Never holds a value.
public struct CredentialAudit: Sendable {
    /// The file, nil when there is none.
    public var file: CredentialsFile?
    /// Why the file could not be read (permissions, syntax), if so.
    public var fileError: CredentialsError?
    /// Runbooks by credential name they declare.
    public var users: [String: [String]]

    public init(catalog: Catalog, workspace: Workspace) {
        do {
            file = try CredentialsFile.load(path: workspace.credentials.path, displayPath: workspace.display(workspace.credentials))
        } catch {
            fileError = error
        }
        var users: [String: [String]] = [:]
        for name in catalog.names {
            for credential in Set(catalog.runbooks[name]?.settings?.credentials ?? []) { users[credential, default: []].append(name) }
        }
        self.users = users
        self.catalog = catalog
    }

    private let catalog: Catalog

    /// Errors: an unreadable or insecure file, credentials declared but not
    /// defined, variables that collide with parameters or reserved names.
    public var errors: [String] {
        if let fileError {
            return [fileError.description + (users.isEmpty ? "" : " (runbooks declaring credentials cannot run)")]
        }
        var errors: [String] = []
        for credential in users.keys.sorted() where file?.section(named: credential, test: false) == nil {
            let runbooks = users[credential, default: []].map { catalog.runbooks[$0]?.path ?? $0 }
            let hint = file == nil ? "there is no credentials file (see credentials.example)" : "credentials has no [\(credential)] section"
            errors.append("\(runbooks.joined(separator: ", ")): error: credential '\(credential)' is declared but \(hint)")
        }
        if let file {
            for name in catalog.names {
                guard let runbook = catalog.runbooks[name], let settings = runbook.settings, !settings.credentials.isEmpty else { continue }
                for collision in CredentialInjection.collisions(runbook: name, credentials: settings.credentials,
                                                                parameters: settings.parameters.map(\.name), file: file) {
                    errors.append("\(runbook.path): error: \(collision.description)")
                }
            }
        }
        return errors
    }

    /// Warnings: credentials nobody uses, values too short to be masked.
    public var warnings: [String] {
        guard let file else { return [] }
        var warnings: [String] = []
        for name in file.names where users[name] == nil {
            warnings.append("\(file.path): warning: credential '\(name)' is not used by any runbook")
        }
        for (section, field) in file.shortLiterals {
            warnings.append("\(file.path): warning: [\(section)] \(field) is shorter than \(SecretMasker.minimumLength) characters, so it is not masked in output")
        }
        return warnings
    }
}
