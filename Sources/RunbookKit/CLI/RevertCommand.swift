struct RevertCommand: Command {
    static let name = "revert"
    static let summary = "put the published revision back into the file (the draft is kept)"
    static let usage = "runbook revert NAME"
    static let help = """
        Discards the draft of NAME: the published content is written back to
        runbooks/. Nothing is lost: a draft that differed is first kept as an
        unpublished revision, listed by `runbook versions NAME` as
        "discarded"; `runbook rollback NAME --to N` publishes it, and
        `runbook diff NAME N` shows it. A deleted file is restored.

        Examples:
          runbook revert hello
        """

    var name: String

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        name = try scanner.positionals().single("runbook name")
    }

    func run(_ context: Context) throws -> Int32 {
        let result = try context.ledger().revert(name, catalog: try context.catalog())
        if let kept = result.keptDraft {
            context.console.out("\(name): restored revision \(result.restored); the discarded draft is kept as revision \(kept) (runbook diff \(name) \(kept))")
        } else {
            context.console.out("\(name): the file already matches revision \(result.restored); nothing to revert")
        }
        return 0
    }
}
