import FoundationEssentials

/// The repository a user keeps (`runbooks/`, `schedules/`, `credentials`)
/// and the state directory beside it, with every path runbook uses.
public struct Workspace: Sendable {
    public var root: URL
    public var state: URL

    public init(root: URL, state: URL? = nil) {
        self.root = root.standardizedFileURL
        self.state = (state ?? root.appendingPathComponent(".runbook")).standardizedFileURL
    }

    /// Finds the root as git finds `.git`: `--root`, else `RUNBOOK_ROOT`, else
    /// the current directory or the first parent that holds `runbooks/`.
    /// The state directory is `RUNBOOK_STATE_DIR` or `ROOT/.runbook`.
    /// - Throws: `WorkspaceError` saying where it looked and what to do.
    public static func locate(explicitRoot: String?, environment: [String: String], currentDirectory: URL) throws -> Workspace {
        let state = environment["RUNBOOK_STATE_DIR"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0, relativeTo: currentDirectory) }
        if let given = explicitRoot ?? environment["RUNBOOK_ROOT"].flatMap({ $0.isEmpty ? nil : $0 }) {
            let root = URL(fileURLWithPath: given, relativeTo: currentDirectory).standardizedFileURL
            var isDirectory = false
            guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory else {
                throw WorkspaceError(message: "the root \(root.path) does not exist: pass an existing directory with --root or RUNBOOK_ROOT")
            }
            return Workspace(root: root, state: state)
        }
        var candidate = currentDirectory.standardizedFileURL
        while true {
            var isDirectory = false
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("runbooks").path, isDirectory: &isDirectory),
               isDirectory {
                return Workspace(root: candidate, state: state)
            }
            let parent = candidate.deletingLastPathComponent().standardizedFileURL
            if parent.path == candidate.path { break }
            candidate = parent
        }
        throw WorkspaceError(message: "no runbooks/ directory in \(currentDirectory.path) or its parents: run runbook inside a repository of runbooks, or pass --root DIR")
    }

    public var runbooks: URL { root.appendingPathComponent("runbooks") }
    public var schedules: URL { root.appendingPathComponent("schedules") }
    public var credentials: URL { root.appendingPathComponent("credentials") }
    public var runtimesConfig: URL { root.appendingPathComponent("runtimes.conf") }
    /// The host's default limits and job user (`HostConfig`).
    public var hostConfig: URL { root.appendingPathComponent("runbook.conf") }

    public var database: URL { state.appendingPathComponent("runbook.db") }
    /// Snapshot contents by hash: `snapshots/ab/abcdef...`.
    public var snapshots: URL { state.appendingPathComponent("snapshots") }
    /// One log file per job.
    public var logs: URL { state.appendingPathComponent("logs") }
    /// Compiled artifacts and tool answers.
    public var cache: URL { state.appendingPathComponent("cache") }
    /// `RUNBOOK_DATA` of each runbook, kept between runs.
    public var data: URL { state.appendingPathComponent("data") }
    /// Per-job scratch directories (HOME and TMPDIR), removed after each job.
    public var scratch: URL { state.appendingPathComponent("scratch") }

    /// The path of `url` relative to the root, as shown to users (`runbooks/hello.sh`).
    public func display(_ url: URL) -> String {
        let path = url.standardizedFileURL.path
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// Creates the state directory and its parts (private to the user).
    public func prepareState() throws {
        for directory in [state, snapshots, logs, cache, data, scratch] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
    }
}

public struct WorkspaceError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
