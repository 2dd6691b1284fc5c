import FoundationEssentials

struct VersionsCommand: Command {
    static let name = "versions"
    static let summary = "list the revisions of a runbook"
    static let usage = "runbook versions NAME [--json]"
    static let help = """
        Lists every revision of NAME, oldest first: its number, when and by
        whom it was made, the git commit it came from (with `+dirty` when the
        file differed from that commit), the message, and which one is
        published. Drafts discarded by `runbook revert` are listed as
        "discarded".

        Options:
          --json   print the revisions as JSON

        Examples:
          runbook versions hello
        """

    var name: String
    var output: OutputOptions

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        output = try OutputOptions(&scanner)
        name = try scanner.positionals().single("runbook name")
    }

    struct Entry: Encodable {
        var revision: Revision
        var published: Bool
    }

    func run(_ context: Context) throws -> Int32 {
        let store = try context.store()
        let revisions = try store.revisions(of: name)
        if revisions.isEmpty {
            _ = try context.catalog().runbook(named: name)
            throw RunError("'\(name)' has no revisions yet: `runbook publish \(name)` makes the first")
        }
        let live = try store.publishedRevision(of: name)?.number
        if output.json {
            context.console.out(try renderJSON(revisions.map { Entry(revision: $0, published: $0.number == live) }))
            return 0
        }
        var table = Table("REV", "", "KIND", "CREATED", "USER", "COMMIT", "MESSAGE")
        for revision in revisions {
            let commit = revision.gitCommit.map { String($0.prefix(10)) + (revision.gitDirty == true ? "+dirty" : "") } ?? "-"
            table.add("r\(revision.number)", revision.number == live ? "*" : "", revision.origin.rawValue,
                      formatLocal(revision.createdAt), revision.user, commit, revision.message ?? "")
        }
        context.console.out(table.render())
        if live == nil { context.console.out("(no revision is published: the runbook is retired)") }
        return 0
    }
}
