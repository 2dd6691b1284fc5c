import FoundationEssentials

/// What a manual or scheduled job runs: the published revision of a
/// runbook, with the runtime of its file and the settings of its header (as
/// published, not as the draft says now).
public struct PublishedRunbook: Sendable {
    public var revision: Revision
    public var runtime: any Runtime
    public var settings: RunbookSettings

    /// Loads the live revision of `name`.
    /// - Throws: `RunError` when it has none (never published, or retired),
    ///   when no runtime runs its file type, or when its snapshot is damaged.
    public static func load(_ name: String, workspace: Workspace, store: any Store, registry: RuntimeRegistry) throws -> PublishedRunbook {
        guard let revision = try store.publishedRevision(of: name) else { throw unpublished(name) }
        return try load(revision, workspace: workspace, store: store, registry: registry)
    }

    /// Loads `revision`, the live revision of its runbook.
    /// - Throws: `RunError` when no runtime runs its file type, or when its snapshot is damaged.
    public static func load(_ revision: Revision, workspace: Workspace, store: any Store, registry: RuntimeRegistry) throws -> PublishedRunbook {
        let name = revision.runbook
        let ext = URL(fileURLWithPath: revision.filename).pathExtension
        guard let runtime = registry.runtime(forExtension: ext) else {
            throw RunError("revision \(revision.number) of '\(name)' is a .\(ext) file and no runtime runs it: check runtimes.conf")
        }
        let content = try snapshotContent(revision, workspace: workspace, store: store)
        let path = "runbooks/\(revision.filename)@r\(revision.number)"
        switch HeaderParser(commentPrefix: runtime.commentPrefix).parse(String(decoding: content, as: UTF8.self), path: path) {
        case .success(let settings):
            return PublishedRunbook(revision: revision, runtime: runtime, settings: settings)
        case .failure(let errors):
            throw RunError(errors.errors.map(\.description).joined(separator: "\n"))
        }
    }

    /// The revision's content from this machine's snapshots, else from the
    /// store (a revision published on another machine sharing the
    /// database), which is then kept locally for the job to run.
    static func snapshotContent(_ revision: Revision, workspace: Workspace, store: any Store) throws -> Data {
        let snapshots = SnapshotStore(directory: workspace.snapshots)
        if snapshots.contains(revision.hash) { return try snapshots.content(of: revision.hash) }
        guard let data = try store.snapshot(hash: revision.hash) else {
            throw RunError("the content of revision \(revision.number) of '\(revision.runbook)' (snapshot \(revision.hash.prefix(12))) is in neither \(snapshots.directory.path) nor the database \(store.location); publish it again")
        }
        try snapshots.store(data)
        return data
    }

    /// Why `name` cannot run: it has no live revision.
    static func unpublished(_ name: String) -> RunError {
        RunError("'\(name)' has no published revision: `runbook test \(name)` tries the draft, `runbook publish \(name)` publishes it")
    }

    /// A job of this revision.
    public func job(trigger: JobTrigger) -> NewJob {
        NewJob(runbook: revision.runbook, revision: revision.number, snapshot: revision.hash, trigger: trigger)
    }
}
