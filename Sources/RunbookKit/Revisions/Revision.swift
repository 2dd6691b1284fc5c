import FoundationEssentials

/// An immutable, numbered snapshot of a runbook's file.
public struct Revision: Sendable, Codable, Equatable {
    /// How the snapshot came to be kept.
    public enum Origin: String, Sendable, Codable {
        /// Taken by `publish`.
        case published
        /// A draft that `revert` discarded, kept so nothing is lost;
        /// `rollback --to N` publishes it.
        case discarded
    }

    public var runbook: String
    public var number: Int
    /// SHA-256 of the content, the snapshot's address.
    public var hash: String
    /// The file name it had (the extension picks the runtime).
    public var filename: String
    public var origin: Origin
    public var createdAt: Date
    public var user: String
    public var message: String?
    public var gitCommit: String?
    public var gitDirty: Bool?

    enum CodingKeys: String, CodingKey {
        case runbook, number, hash, filename, origin, user, message
        case createdAt = "created_at", gitCommit = "git_commit", gitDirty = "git_dirty"
    }
}

/// One change of what is live for a runbook.
public struct Publication: Sendable, Codable, Equatable {
    public enum Action: String, Sendable, Codable {
        case publish, rollback, retire
    }

    public var runbook: String
    /// The revision made live, nil when the runbook was retired.
    public var revision: Int?
    public var action: Action
    public var at: Date
    public var user: String
    public var message: String?
}
