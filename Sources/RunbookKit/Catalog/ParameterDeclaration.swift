/// A parameter a runbook declares in its header: `NAME` (required) or
/// `NAME=default` (optional). The job sees it as an environment variable of
/// the same name.
public struct ParameterDeclaration: Sendable, Codable, Equatable, Hashable {
    public var name: String
    /// Nil for a required parameter.
    public var defaultValue: String?

    public var isRequired: Bool { defaultValue == nil }

    /// Environment names a parameter may not take: they belong to the job's
    /// fixed environment (DESIGN §3).
    static let reservedNames: Set<String> = ["PATH", "HOME", "TMPDIR", "LANG", "TZ", "USER", "SHELL", "PWD"]

    /// Nil when `name` can be an environment variable name of a parameter.
    static func problem(with name: String) -> String? {
        guard let first = name.unicodeScalars.first else { return "a parameter name is empty" }
        let valid = (first == "_" || first.isASCIILetter)
            && name.unicodeScalars.allSatisfy { $0 == "_" || $0.isASCIILetter || ("0"..."9").contains($0) }
        if !valid {
            return "parameter name '\(name)' is not a valid environment variable name: use letters, digits and '_', not starting with a digit"
        }
        if name.hasPrefix("RUNBOOK_") || reservedNames.contains(name) {
            return "parameter name '\(name)' is reserved for the job's environment: choose another name"
        }
        return nil
    }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
