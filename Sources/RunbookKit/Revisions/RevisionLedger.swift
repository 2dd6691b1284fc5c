import FoundationEssentials
import Glibc

/// Publishing, reverting and rolling back: the only ways what is live
/// changes. Every change is a row in the store (who, when, why, from which
/// commit) and every content a snapshot, so nothing is ever lost.
public struct RevisionLedger: Sendable {
    public var workspace: Workspace
    public var store: any Store
    public var snapshots: SnapshotStore
    public var tools: Tools
    public var user: String
    public var now: @Sendable () -> Date

    public init(workspace: Workspace, store: any Store, tools: Tools, user: String, now: @escaping @Sendable () -> Date) {
        self.workspace = workspace
        self.store = store
        self.snapshots = SnapshotStore(directory: workspace.snapshots)
        self.tools = tools
        self.user = user
        self.now = now
    }

    /// What `publish` did for one runbook.
    public enum PublishResult: Sendable, Equatable {
        case published(revision: Int)
        /// The draft is already live as this revision.
        case unchanged(revision: Int)
        /// The draft equals an existing revision, which was made live again.
        case republished(revision: Int)
        /// The file was deleted; the runbook no longer runs.
        case retired
        /// The file cannot be published; the message says why.
        case refused(String)
    }

    /// Publishes the drafts of `names` (or of every runbook with `all`),
    /// each on its own: one refusal does not stop the others. A runbook
    /// whose file was deleted is retired.
    public func publish(_ names: [String], all: Bool, message: String?, catalog: Catalog) throws -> [(String, PublishResult)] {
        let live = try store.livePublications()
        var targets = names
        if all {
            let retiring = live.filter { $0.value.revision != nil && catalog.runbooks[$0.key] == nil }.map(\.key)
            targets = Array(Set(catalog.names + retiring)).sorted()
        }
        var results: [(String, PublishResult)] = []
        for name in targets {
            results.append((name, try publishOne(name, message: message, catalog: catalog, live: live[name])))
        }
        return results
    }

    private func publishOne(_ name: String, message: String?, catalog: Catalog, live: Publication?) throws -> PublishResult {
        guard let runbook = catalog.runbooks[name] else {
            if let live, live.revision != nil {
                try store.transaction {
                    try store.addPublication(Publication(runbook: name, revision: nil, action: .retire, at: now(), user: user, message: message))
                }
                return .retired
            }
            do { _ = try catalog.runbook(named: name) } catch { return .refused(String(describing: error)) }
            return .refused("no runbook named '\(name)'")
        }
        guard runbook.isValid, let settings = runbook.settings else {
            return .refused(runbook.problems.map(\.description).joined(separator: "\n"))
        }
        if !settings.credentials.isEmpty,
           let file = try? CredentialsFile.load(path: workspace.credentials.path, displayPath: workspace.display(workspace.credentials)) {
            let collisions = CredentialInjection.collisions(runbook: name, credentials: settings.credentials,
                                                            parameters: settings.parameters.map(\.name), file: file)
            if !collisions.isEmpty {
                return .refused(collisions.map { "\(runbook.path): error: \($0.description)" }.joined(separator: "\n"))
            }
        }
        if let output = try runbook.runtime.check(runbook.file, tools: tools) {
            return .refused("\(runbook.path) fails its \(runbook.runtime.name) check, so it was not published:\n\(output.trimmingWhitespace())")
        }
        // What is snapshotted must be what was checked: a save in between is refused.
        guard let data = FileManager.default.contents(atPath: runbook.file.path), SHA256.hex(of: data) == runbook.hash else {
            return .refused("\(runbook.path) changed while it was being published: run publish again")
        }
        let hash = try snapshots.store(data)
        try store.saveSnapshot(data, hash: hash)
        let (commit, dirty) = Provenance.git(root: workspace.root, file: runbook.file, tools: tools)
        let filename = runbook.file.lastPathComponent
        return try store.transaction {
            let current = try store.publishedRevision(of: name)
            if let current, current.hash == hash, current.filename == filename { return .unchanged(revision: current.number) }
            if let latest = try store.revisions(of: name).last(where: { $0.origin == .published }),
               latest.hash == hash, latest.filename == filename {
                try store.addPublication(Publication(runbook: name, revision: latest.number, action: .publish, at: now(), user: user, message: message))
                return .republished(revision: latest.number)
            }
            let number = try store.addRevision(runbook: name, hash: hash, filename: filename, origin: .published, at: now(),
                                               user: user, message: message, gitCommit: commit, gitDirty: dirty)
            try store.addPublication(Publication(runbook: name, revision: number, action: .publish, at: now(), user: user, message: message))
            return .published(revision: number)
        }
    }

    /// What `revert` did.
    public struct RevertResult: Sendable, Equatable {
        /// The live revision whose content is back in the file.
        public var restored: Int
        /// The revision number under which the discarded draft was kept, if
        /// there was a differing draft.
        public var keptDraft: Int?
    }

    /// Puts the published content back into the file; a differing draft is
    /// first kept as a `discarded` revision.
    /// - Throws: when the runbook was never published.
    public func revert(_ name: String, catalog: Catalog) throws -> RevertResult {
        if let draft = catalog.runbooks[name], draft.problems.contains(where: { $0.code == .duplicateName }) {
            throw RunError(draft.problems.map(\.description).joined(separator: "\n") + "\n(revert needs one file per runbook)")
        }
        guard let live = try store.publishedRevision(of: name) else {
            throw RunError("'\(name)' has no published revision to revert to: publish it first, or delete the file")
        }
        let content = try PublishedRunbook.snapshotContent(live, workspace: workspace, store: store)
        let target = workspace.runbooks.appendingPathComponent(live.filename)
        var kept: Int?
        if let draft = catalog.runbooks[name], draft.hash != live.hash || draft.file.lastPathComponent != live.filename {
            if let data = FileManager.default.contents(atPath: draft.file.path) {
                let hash = try snapshots.store(data)
                try store.saveSnapshot(data, hash: hash)
                kept = try store.transaction {
                    try store.addRevision(runbook: name, hash: hash, filename: draft.file.lastPathComponent, origin: .discarded,
                                          at: now(), user: user, message: "draft discarded by revert", gitCommit: nil, gitDirty: nil)
                }
            }
            if draft.file.lastPathComponent != live.filename { try FileManager.default.removeItem(at: draft.file) }
        } else if catalog.runbooks[name] != nil {
            return RevertResult(restored: live.number, keptDraft: nil)
        }
        try writeAtomically(content, to: target)
        return RevertResult(restored: live.number, keptDraft: kept)
    }

    /// Publishes revision `number` again after checking it still passes its
    /// runtime's check.
    public func rollback(_ name: String, to number: Int, catalog: Catalog, message: String?) throws -> Revision {
        guard let revision = try store.revision(of: name, number: number) else {
            let known = try store.revisions(of: name).map { String($0.number) }
            let hint = known.isEmpty ? "'\(name)' has no revisions yet" : "revisions of '\(name)': \(known.joined(separator: ", "))"
            throw RunError("'\(name)' has no revision \(number) (\(hint)); `runbook versions \(name)` lists them")
        }
        let ext = URL(fileURLWithPath: revision.filename).pathExtension
        guard let runtime = catalog.registry.runtime(forExtension: ext) else {
            throw RunError("revision \(number) of '\(name)' is a .\(ext) file, which no runtime runs any more")
        }
        let content = try PublishedRunbook.snapshotContent(revision, workspace: workspace, store: store)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("runbook-check-\(getpid())-\(number)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let copy = scratch.appendingPathComponent(revision.filename)
        try content.write(to: copy)
        let header = Catalog.load(name: name, file: copy, path: "runbooks/\(revision.filename) (r\(number))", runtime: runtime)
        guard header.isValid else {
            throw RunError("revision \(number) of '\(name)' cannot be published:\n" + header.problems.map(\.description).joined(separator: "\n"))
        }
        if let output = try runtime.check(copy, tools: tools) {
            throw RunError("revision \(number) of '\(name)' fails its \(runtime.name) check, so it was not published:\n\(output.trimmingWhitespace())")
        }
        try store.transaction {
            try store.addPublication(Publication(runbook: name, revision: number, action: .rollback, at: now(), user: user,
                                                 message: message ?? "rollback to revision \(number)"))
        }
        return revision
    }

    /// Writes `data` to `url` through a temporary file and a rename, keeping
    /// the old file's permissions.
    private func writeAtomically(_ data: Data, to url: URL) throws {
        do { try AtomicFile.write(data, to: url) } catch { throw RunError("cannot write \(workspace.display(url)): \(error)") }
    }
}
