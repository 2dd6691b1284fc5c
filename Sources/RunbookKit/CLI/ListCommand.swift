import FoundationEssentials

/// One runbook as `list`, `show` and their `--json` present it.
struct RunbookSummary: Encodable {
    var name: String
    var path: String?
    var runtime: String?
    var state: RunbookState?
    var publishedRevision: Int?
    var description: String?
    var valid: Bool
    var problems: [String]

    enum CodingKeys: String, CodingKey {
        case name, path, runtime, state, description, valid, problems
        case publishedRevision = "published_revision"
    }

    /// Every runbook with a file or a live revision, by name.
    static func all(catalog: Catalog, store: any Store) throws -> [RunbookSummary] {
        let live = try store.livePublications()
        var hashes: [String: String] = [:]
        for (name, publication) in live {
            if let number = publication.revision, let revision = try store.revision(of: name, number: number) {
                hashes[name] = revision.hash
            }
        }
        let names = Set(catalog.names).union(hashes.keys).sorted()
        return names.map { name in
            let runbook = catalog.runbooks[name]
            return RunbookSummary(
                name: name, path: runbook?.path, runtime: runbook?.runtime.name,
                state: RunbookState.of(draft: runbook?.hash, live: hashes[name]),
                publishedRevision: hashes[name] == nil ? nil : live[name]?.revision,
                description: runbook?.settings?.description, valid: runbook?.isValid ?? true,
                problems: runbook?.problems.map(\.description) ?? [])
        }
    }
}

struct ListCommand: Command {
    static let name = "list"
    static let summary = "list runbooks with their state (new, published, edited, deleted)"
    static let usage = "runbook list [--json]"
    static let help = """
        Lists every runbook in runbooks/ and every published runbook whose file
        was deleted, with its runtime, state and published revision. Files that
        cannot be runbooks (bad names, two files with one name) are reported
        after the table.

          new        never published
          published  the file is the published revision
          edited     the file differs from the published revision
          deleted    the file is gone; the published revision still runs
                     until `runbook publish NAME` retires it

        Options:
          --json     print the list as JSON

        Examples:
          runbook list
          runbook list --json | jq '.[] | select(.state == "edited") | .name'
        """

    var output: OutputOptions

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        output = try OutputOptions(&scanner)
        try scanner.noPositionals(command: "list")
    }

    func run(_ context: Context) throws -> Int32 {
        let catalog = try context.catalog()
        let summaries = try RunbookSummary.all(catalog: catalog, store: try context.store())
        if output.json {
            context.console.out(try renderJSON(summaries))
            return 0
        }
        if summaries.isEmpty && catalog.problems.isEmpty {
            context.console.out("No runbooks yet: add one to \(try context.workspace().display(try context.workspace().runbooks))/, e.g. runbooks/hello.sh")
            return 0
        }
        var table = Table("NAME", "RUNTIME", "STATE", "REVISION", "DESCRIPTION")
        for summary in summaries {
            let state = summary.valid ? (summary.state?.rawValue ?? "-") : "\(summary.state?.rawValue ?? "-") (invalid)"
            table.add(summary.name, summary.runtime ?? "-", state, summary.publishedRevision.map { "r\($0)" } ?? "-",
                      summary.description ?? "")
        }
        context.console.out(table.render())
        let problems = catalog.problems.map(\.description) + summaries.flatMap(\.problems)
        for problem in problems { context.console.err(problem) }
        return 0
    }
}
