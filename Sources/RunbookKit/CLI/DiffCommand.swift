import FoundationEssentials

struct DiffCommand: Command {
    static let name = "diff"
    static let summary = "show what changed between revisions, or in the draft"
    static let usage = "runbook diff NAME [A [B]]"
    static let help = """
        Prints a unified diff. With no revision, from the published revision to
        the draft (what `publish` would change); with A, from revision A to the
        draft; with A and B, from revision A to revision B. A and B are
        revision numbers, `published`, or `draft`.

        Exits 0 whether or not there are differences.

        Examples:
          runbook diff hello
          runbook diff hello 3
          runbook diff hello 3 5
        """

    var name: String
    var from: String?
    var to: String?

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        let arguments = try scanner.positionals()
        guard (1...3).contains(arguments.count) else {
            throw UsageError(arguments.isEmpty ? "missing runbook name" : "too many arguments: expected NAME [A [B]]")
        }
        name = arguments[0]
        from = arguments.count > 1 ? arguments[1] : nil
        to = arguments.count > 2 ? arguments[2] : nil
    }

    func run(_ context: Context) throws -> Int32 {
        let old = try content(of: from ?? "published", context: context)
        let new = try content(of: to ?? "draft", context: context)
        let diff = UnifiedDiff.make(old: old.text, new: new.text, oldLabel: old.label, newLabel: new.label)
        context.console.writeOut(diff.isEmpty ? "" : diff)
        if diff.isEmpty { context.console.err("no differences between \(old.label) and \(new.label)") }
        return 0
    }

    private func content(of reference: String, context: Context) throws -> (text: String, label: String) {
        let store = try context.store()
        let snapshots = SnapshotStore(directory: try context.workspace().snapshots)
        switch reference {
        case "draft":
            let runbook = try context.catalog().runbook(named: name)
            let data = FileManager.default.contents(atPath: runbook.file.path) ?? Data()
            return (String(decoding: data, as: UTF8.self), "\(runbook.path) (draft)")
        case "published":
            guard let revision = try store.publishedRevision(of: name) else {
                throw RunError("'\(name)' has no published revision to compare with: name a revision, e.g. `runbook diff \(name) 1`")
            }
            return (String(decoding: try snapshots.content(of: revision.hash), as: UTF8.self),
                    "runbooks/\(revision.filename) (r\(revision.number), published)")
        default:
            guard let number = Int(reference) else {
                throw UsageError("'\(reference)' is not a revision: use a number, 'published' or 'draft'")
            }
            guard let revision = try store.revision(of: name, number: number) else {
                throw RunError("'\(name)' has no revision \(number): `runbook versions \(name)` lists them")
            }
            return (String(decoding: try snapshots.content(of: revision.hash), as: UTF8.self),
                    "runbooks/\(revision.filename) (r\(revision.number))")
        }
    }
}
