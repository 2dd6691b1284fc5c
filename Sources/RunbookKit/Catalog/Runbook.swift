import FoundationEssentials

/// One runbook file as it is now (the draft).
public struct Runbook: Sendable {
    public var name: String
    public var file: URL
    /// `runbooks/NAME.EXT`, as shown to users.
    public var path: String
    public var runtime: any Runtime
    /// SHA-256 of the file's bytes.
    public var hash: String
    /// The header's settings; nil when the header has errors.
    public var settings: RunbookSettings?
    /// What is wrong with the file; empty when it can run.
    public var problems: [CatalogError]

    public var isValid: Bool { problems.isEmpty && settings != nil }
}
