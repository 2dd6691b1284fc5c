/// One `runbook` subcommand: its name, summary and handwritten help, an
/// initialiser that reads its arguments, and a run that returns the exit
/// status.
protocol Command: Sendable {
    static var name: String { get }
    /// One line for `runbook help`.
    static var summary: String { get }
    /// `runbook NAME ARGS...`, printed with usage errors.
    static var usage: String { get }
    /// The rest of `runbook help NAME`: what it does, options, examples.
    static var help: String { get }

    /// Reads the command's arguments (global options are already taken).
    /// - Throws: `UsageError` for an unknown option, a missing value, or a
    ///   wrong number of positionals.
    init(_ scanner: inout ArgumentScanner) throws(UsageError)

    func run(_ context: Context) throws -> Int32

    /// How long the command keeps the store open: `.command` but for the host.
    static var storeLifetime: StoreLifetime { get }
}

extension Command {
    static var storeLifetime: StoreLifetime { .command }
}

/// `--json`, shared by every command that can print JSON.
struct OutputOptions {
    var json: Bool

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        json = try scanner.flag("--json")
    }
}

extension Array where Element == String {
    /// Exactly one positional, the thing the command acts on.
    func single(_ what: String) throws(UsageError) -> String {
        guard count == 1 else {
            throw UsageError(isEmpty ? "missing \(what)" : "expected one \(what), got \(count): \(joined(separator: " "))")
        }
        return self[0]
    }
}
