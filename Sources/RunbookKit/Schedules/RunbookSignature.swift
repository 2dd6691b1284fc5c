/// What a schedule needs to know about a runbook to check its binding: the
/// name and the parameters its header declares.
public struct RunbookSignature: Sendable, Hashable {
    public var name: String
    /// Parameters declared without a default (`NAME`).
    public var required: Set<String>
    /// Parameters declared with a default (`NAME=default`).
    public var optional: Set<String>

    public init(name: String, required: Set<String> = [], optional: Set<String> = []) {
        self.name = name
        self.required = required
        self.optional = optional
    }
}
