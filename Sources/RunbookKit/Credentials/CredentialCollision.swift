/// A credential field whose variable would clash with something else in the
/// job's environment: a parameter, a variable runbook or the system
/// reserves, or another field's variable (or that no shell could read). `runbook check` and `publish`
/// report these; a job with one fails before it starts.
public struct CredentialCollision: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A parameter of the runbook has the same name.
        case parameter
        /// The name belongs to the job's fixed environment (`RUNBOOK_*`) or
        /// changes how programs start (`LD_*`, `BASH_ENV`, `BASH_FUNC_*`).
        case reserved
        /// Another field maps to the same name.
        case otherField(credential: String, field: String)
        /// The name starts with a digit (`[1password]`), which shells cannot read.
        case notIdentifier
    }

    public var runbook: String
    public var variable: String
    /// The section title (`crm` or `crm@test`).
    public var credential: String
    public var field: String
    public var kind: Kind

    public init(runbook: String, variable: String, credential: String, field: String, kind: Kind) {
        self.runbook = runbook
        self.variable = variable
        self.credential = credential
        self.field = field
        self.kind = kind
    }

    /// A sentence naming the runbook, the credential and the fix.
    public var description: String {
        let subject = "runbook '\(runbook)': field '\(field)' of credential [\(credential)] becomes \(variable)"
        switch kind {
        case .parameter:
            return "\(subject), which is also a parameter: rename the parameter or the field"
        case .reserved:
            return "\(subject), which is reserved for the job's own environment: rename the credential or the field"
        case .otherField(let other, let otherField):
            return "\(subject), as does field '\(otherField)' of [\(other)]: rename one of them"
        case .notIdentifier:
            return "\(subject), which starts with a digit, so a shell cannot read it: rename the credential"
        }
    }

    /// Variable names a credential may not take.
    static func isReserved(_ variable: String) -> Bool {
        let fixed: Set<String> = ["PATH", "HOME", "TMPDIR", "LANG", "TZ", "USER", "SHELL", "PWD", "BASH_ENV"]
        return fixed.contains(variable) || ["RUNBOOK_", "LD_", "BASH_FUNC_"].contains { variable.hasPrefix($0) }
    }

    /// The collisions among `entries` (in order), each reported once.
    static func find(runbook: String, entries: [(credential: String, field: String, variable: String)],
                     parameters: [String]) -> [CredentialCollision] {
        let parameterSet = Set(parameters)
        var owner: [String: (credential: String, field: String)] = [:]
        var found: [CredentialCollision] = []
        for entry in entries {
            func report(_ kind: Kind) {
                found.append(CredentialCollision(runbook: runbook, variable: entry.variable, credential: entry.credential,
                                                 field: entry.field, kind: kind))
            }
            if parameterSet.contains(entry.variable) { report(.parameter) }
            if isReserved(entry.variable) { report(.reserved) }
            if let first = entry.variable.utf8.first, (0x30...0x39).contains(first) { report(.notIdentifier) }
            if let first = owner[entry.variable] {
                if first.credential != entry.credential || first.field != entry.field {
                    report(.otherField(credential: first.credential, field: first.field))
                }
            } else {
                owner[entry.variable] = (entry.credential, entry.field)
            }
        }
        return found
    }
}
