import FoundationEssentials
import Glibc

struct StatusCommand: Command {
    static let name = "status"
    static let summary = "is a host running on this state, since when, its last heartbeat"
    static let usage = "runbook status [--json]"
    static let help = """
        Says whether a `runbook serve` host runs on this state directory: its
        machine and pid, since when, and its last heartbeat (hosts beat every
        5 seconds; one silent for 30 seconds is reported as gone). Exits 0
        when at least one host is alive, 3 when none is.

        Options:
          --json   print the hosts as JSON

        Examples:
          runbook status
        """

    var output: OutputOptions

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        output = try OutputOptions(&scanner)
        try scanner.noPositionals(command: "status")
    }

    func run(_ context: Context) throws -> Int32 {
        let now = context.now()
        let entries = try HostState.all(store: try context.store(), now: now, localHost: context.hostName)
        if output.json {
            context.console.out(try renderJSON(entries))
        } else if entries.isEmpty {
            context.console.out("No host has run on this state yet: start one with `runbook serve`.")
        } else {
            for entry in entries.prefix(5) {
                let host = entry.host
                let beat = formatElapsed(now.timeIntervalSince(host.heartbeatAt))
                context.console.out("\(host.hostname) pid \(host.pid): \(entry.state), started \(formatLocal(host.startedAt)), last heartbeat \(beat) ago")
            }
        }
        return entries.contains(where: \.alive) ? 0 : 3
    }
}
