/// Where a runbook's draft stands against what is live (DESIGN §2).
public enum RunbookState: String, Sendable, Codable {
    /// Never published (or retired), and the file exists.
    case new
    /// The file is exactly the published revision.
    case published
    /// The file differs from the published revision.
    case edited
    /// The file is gone but its published revision is still live until
    /// `publish` retires it.
    case deleted

    /// The state of a runbook whose file has hash `draft` (nil if no file)
    /// and whose live revision has hash `live` (nil if none).
    public static func of(draft: String?, live: String?) -> RunbookState? {
        switch (draft, live) {
        case (nil, nil): return nil
        case (nil, .some): return .deleted
        case (.some, nil): return .new
        case (.some(let draft), .some(let live)): return draft == live ? .published : .edited
        }
    }
}
