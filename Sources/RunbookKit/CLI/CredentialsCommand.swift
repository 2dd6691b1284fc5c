import FoundationEssentials

struct CredentialsCommand: Command {
    static let name = "credentials"
    static let summary = "list credentials, their fields and who uses them (never values)"
    static let usage = "runbook credentials [--json]"
    static let help = """
        Lists the credentials file's sections ([name] and [name@test]), each
        field with where its value comes from (a literal, shown as ***,
        env:VAR or file:PATH), the environment variable a job sees it as, and
        the runbooks that declare it. Values are never printed.

        The file is refused, as ssh refuses a private key, when anyone but its
        owner can read it or another user owns it; the error says the fix
        (chmod 600 credentials).

        Options:
          --json   print it as JSON

        Examples:
          runbook credentials
        """

    var output: OutputOptions

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        output = try OutputOptions(&scanner)
        try scanner.noPositionals(command: "credentials")
    }

    struct Entry: Encodable {
        var credential: String
        var section: String
        var field: String
        var source: String
        var variable: String
        var usedBy: [String]

        enum CodingKeys: String, CodingKey { case credential, section, field, source, variable, usedBy = "used_by" }
    }

    func run(_ context: Context) throws -> Int32 {
        let audit = CredentialAudit(catalog: try context.catalog(), workspace: try context.workspace())
        if let error = audit.fileError { throw RunError(error.description) }
        guard let file = audit.file else {
            context.console.out("No credentials file: copy credentials.example to credentials (chmod 600) and fill it in.")
            return 0
        }
        let entries = file.sections.flatMap { section in
            section.fields.map { field in
                Entry(credential: section.name, section: section.title, field: field.name, source: field.value.description,
                      variable: CredentialName.variable(credential: section.name, field: field.name),
                      usedBy: audit.users[section.name, default: []])
            }
        }
        if output.json {
            context.console.out(try renderJSON(entries))
            return 0
        }
        var table = Table("SECTION", "FIELD", "VARIABLE", "SOURCE", "USED BY")
        for entry in entries {
            table.add(entry.section, entry.field, entry.variable, entry.source, entry.usedBy.isEmpty ? "-" : entry.usedBy.joined(separator: ", "))
        }
        context.console.out(table.render())
        for warning in audit.warnings { context.console.err(warning) }
        return 0
    }
}
