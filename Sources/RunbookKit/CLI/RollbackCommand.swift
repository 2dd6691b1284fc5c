struct RollbackCommand: Command {
    static let name = "rollback"
    static let summary = "publish an earlier revision again"
    static let usage = "runbook rollback NAME --to N [-m MESSAGE]"
    static let help = """
        Makes revision N of NAME the published one again, after checking it
        still passes its runtime's check. The file in runbooks/ is not
        changed: `runbook list` then shows NAME as edited, and
        `runbook revert NAME` brings the file in line.

        Options:
          --to N               the revision to publish (see `runbook versions NAME`)
          -m, --message TEXT   why, kept with the publication

        Examples:
          runbook rollback hello --to 3 -m "r4 broke the report"
        """

    var name: String
    var revision: Int
    var message: String?

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        guard let revision = try scanner.integer("--to", minimum: 1) else { throw UsageError("missing --to N") }
        self.revision = revision
        message = try scanner.value("-m", "--message")
        name = try scanner.positionals().single("runbook name")
    }

    func run(_ context: Context) throws -> Int32 {
        let rolledBack = try context.ledger().rollback(name, to: revision, catalog: try context.catalog(), message: message)
        context.console.out("\(name): revision \(rolledBack.number) is published again")
        return 0
    }
}
