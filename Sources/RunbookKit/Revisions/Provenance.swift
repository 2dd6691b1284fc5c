import FoundationEssentials
import Glibc

/// Who published, and from which git commit: recorded with every revision.
public struct Provenance: Sendable, Equatable {
    public var user: String
    public var gitCommit: String?
    /// Whether the file differed from that commit (nil outside git).
    public var gitDirty: Bool?

    /// The user running runbook: `SUDO_USER` behind sudo, else the login name.
    public static func currentUser(environment: [String: String]) -> String {
        if let sudo = environment["SUDO_USER"], !sudo.isEmpty { return sudo }
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return environment["USER"] ?? "uid \(geteuid())"
    }

    /// The commit of the work tree at `root` and whether `file` is dirty in it.
    /// Outside a git work tree, or without git, both are nil.
    public static func git(root: URL, file: URL, tools: Tools) -> (commit: String?, dirty: Bool?) {
        guard let git = try? tools.path(of: "git"),
              let head = try? tools.run([git, "-C", root.path, "rev-parse", "--verify", "-q", "HEAD"]),
              head.succeeded else { return (nil, nil) }
        let commit = head.output.trimmingWhitespace()
        guard let status = try? tools.run([git, "-C", root.path, "status", "--porcelain", "--", file.path]),
              status.succeeded else { return (commit, nil) }
        return (commit, !status.output.trimmingWhitespace().isEmpty)
    }
}
