import Foundation
import Glibc
@testable import RunbookKit

/// A PostgreSQL server of the test's own (the outage test stops it), made
/// with `.ci/postgres.sh` on another port.
final class PrivateServer: @unchecked Sendable {
    let directory: URL
    let url: DatabaseURL
    private let port: Int
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".ci/postgres.sh")

    init() throws {
        var template = Array((FileManager.default.temporaryDirectory.path + "/runbook-pg-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        directory = URL(fileURLWithPath: String(cString: made))
        chmod(directory.path, 0o755) // the server's own user must reach its data directory
        // A port of its own; another run on this machine may hold one, so try a few.
        var started: (DatabaseURL, Int)?
        for _ in 0..<5 where started == nil {
            let port = Int.random(in: 20_000...60_000)
            started = (try? Self.run(["start", directory.appendingPathComponent("data").path], port: port))
                .flatMap { try? DatabaseURL($0.trimmingCharacters(in: .whitespacesAndNewlines)) }.map { ($0, port) }
        }
        guard let started else { throw RunError("could not start a private PostgreSQL server with \(Self.script.path)") }
        (url, port) = started
    }

    func control(_ action: String) throws { _ = try Self.run([action, directory.appendingPathComponent("data").path], port: port) }

    func remove() {
        _ = try? Self.run(["stop", directory.appendingPathComponent("data").path], port: port)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs the script with posix_spawn and waitpid (Foundation's Process
    /// was seen to wait forever here for a child already gone), its output
    /// through a file: the server it starts must not hold a pipe of ours.
    private static func run(_ arguments: [String], port: Int) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("runbook-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out")
        defer { try? FileManager.default.removeItem(at: output) }
        var environment = ProcessInfo.processInfo.environment
        environment["RUNBOOK_TEST_PGPORT"] = String(port)
        let argv = ["/bin/bash", script.path] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var pid: pid_t = 0
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnvp = envp.map { strdup($0) } + [nil]
        defer { (cArgv + cEnvp).forEach { free($0) } }
        guard posix_spawn(&pid, "/bin/bash", &actions, nil, cArgv, cEnvp) == 0 else { throw RunError("cannot run \(script.path)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw RunError(".ci/postgres.sh \(arguments.joined(separator: " ")) failed (status \(status))") }
        return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    }
}
