import FoundationEssentials

struct PublishCommand: Command {
    static let name = "publish"
    static let summary = "publish drafts as new revisions (retires deleted runbooks)"
    static let usage = "runbook publish NAME... | --all [-m MESSAGE]"
    static let help = """
        Snapshots each named draft as a new numbered revision and makes it the
        published one, which scheduled and manual runs use. A file that fails
        its runtime's check (bash -n, a Python compile, swiftc -typecheck) or
        has header errors is refused with the check's output; the others
        named are still published. A draft identical to the published
        revision publishes nothing. Publishing a runbook whose file was
        deleted retires it: it stops running.

        Each revision records the time, the user, the message and, in a git
        work tree, the commit and whether the file differed from it.

        Options:
          --all                publish every runbook (and retire deleted ones)
          -m, --message TEXT   why, kept with the revision

        Exits 1 if any runbook was refused.

        Examples:
          runbook publish hello -m "greet in French too"
          runbook publish --all -m "release 2026-11-23"
        """

    var names: [String]
    var all: Bool
    var message: String?

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        all = try scanner.flag("--all")
        message = try scanner.value("-m", "--message")
        names = try scanner.positionals()
        if all && !names.isEmpty { throw UsageError("give runbook names or --all, not both") }
        if !all && names.isEmpty { throw UsageError("missing runbook name (or --all)") }
    }

    func run(_ context: Context) throws -> Int32 {
        let catalog = try context.catalog()
        let results = try context.ledger().publish(names, all: all, message: message, catalog: catalog)
        var refused = false
        for (name, result) in results {
            switch result {
            case .published(let revision): context.console.out("\(name): published revision \(revision)")
            case .republished(let revision): context.console.out("\(name): revision \(revision) published again")
            case .unchanged(let revision): context.console.out("\(name): unchanged, revision \(revision) is published")
            case .retired: context.console.out("\(name): retired (its file was deleted); it no longer runs")
            case .refused(let why):
                refused = true
                context.console.err("error: \(name) was not published: \(why)")
            }
        }
        return refused ? 1 : 0
    }
}
