import Foundation
import Glibc
@testable import RunbookKit

/// A PostgreSQL server of the test's own (the outage test stops it), made
/// with `.ci/postgres.sh` in a fresh temporary directory.
///
/// Starting may lose a race for its port (a listener, or a client socket
/// bound to it, even one in TIME_WAIT), so it is retried; each attempt gets
/// a fresh data directory, whose `postgresql.conf` has that attempt's port,
/// and a port that was free a moment before, chosen below the kernel's
/// ephemeral range so that outgoing connections don't take it. It is ready
/// when it answers a query, polled with a deadline. If no attempt succeeds,
/// the error names each attempt's cause and ends with the server's log.
///
/// `remove()` stops the server and deletes the directory; call it in a
/// `defer`. A directory left by a test process that died without it is
/// cleaned up by the next `init`: its name carries the owner's pid.
final class PrivateServer: @unchecked Sendable {
    // Invariant: used by one test at a time.
    let directory: URL
    let url: DatabaseURL
    private let port: Int
    private let data: URL
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".ci/postgres.sh")
    private static let prefix = "runbook-pg-"

    /// Why the server did not start: each attempt's port and cause, with the
    /// end of its log.
    struct StartError: Error, CustomStringConvertible {
        /// One attempt that failed.
        struct Attempt: Error {
            var port: Int
            var cause: String
            var log: String
        }

        var attempts: [Attempt]
        /// Where the attempts were made; removed before this is thrown.
        var directory: URL

        var description: String {
            "could not start a private PostgreSQL server with \(PrivateServer.script.path) in \(attempts.count) attempts "
                + "(in \(directory.path), now removed)\n"
                + attempts.map { attempt in
                    "- port \(attempt.port): \(attempt.cause)\n" + attempt.log.split(separator: "\n").map { "    \($0)" }.joined(separator: "\n")
                }.joined(separator: "\n")
        }
    }

    /// - Parameters:
    ///   - attempts: how many servers to try to start, one after another.
    ///   - ports: where each attempt's port comes from (a test of this type
    ///     hands out a busy one).
    /// - Throws: `StartError` when no attempt gave a server that answers.
    init(attempts: Int = 5, ports: () -> Int? = PrivateServer.freePort) throws {
        Self.removeLeftovers()
        var template = Array((FileManager.default.temporaryDirectory.path + "/\(Self.prefix)\(getpid())-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw RunError("cannot make a directory for a PostgreSQL server: errno \(errno)") }
        let directory = URL(fileURLWithPath: String(cString: made))
        chmod(directory.path, 0o755) // the server's own user must reach its data directory
        var failures: [StartError.Attempt] = []
        for attempt in 1...attempts {
            let data = directory.appendingPathComponent("data-\(attempt)")
            guard let port = ports() else {
                failures.append(.init(port: 0, cause: "no free port on 127.0.0.1 in \(Self.portRange) after 100 tries", log: ""))
                continue
            }
            switch Self.start(data, port: port, scratch: directory) {
            case .success(let url):
                (self.directory, self.url, self.port, self.data) = (directory, url, port, data)
                return
            case .failure(let failure):
                failures.append(failure)
            }
        }
        try? FileManager.default.removeItem(at: directory)
        throw StartError(attempts: failures, directory: directory)
    }

    /// Runs `.ci/postgres.sh ACTION` (`stop` or `resume`) on the server.
    func control(_ action: String) throws {
        let logged = Self.serverLog(data).utf8.count
        let outcome = Self.run([action, data.path], port: port, scratch: directory)
        guard outcome.status == 0 else {
            let cause = Self.cause(outcome, data: data, loggedBefore: logged)
            throw RunError(".ci/postgres.sh \(action) failed (\(outcome.statusText)): \(cause)\n\(Self.logTail(data, outcome))")
        }
    }

    /// Stops the server and deletes its directory (also the data directory
    /// of the attempt that started it). Safe to call more than once.
    func remove() {
        Self.stop(data, scratch: directory)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts a server in the fresh directory `data` on `port`; on failure,
    /// stops whatever started and deletes `data`.
    private static func start(_ data: URL, port: Int, scratch: URL) -> Result<DatabaseURL, StartError.Attempt> {
        let outcome = run(["start", data.path], port: port, scratch: scratch)
        let cause: String
        if outcome.status != 0 {
            cause = ".ci/postgres.sh start failed (\(outcome.statusText)): \(Self.cause(outcome, data: data))"
        } else if let url = try? DatabaseURL(outcome.out.trimmingCharacters(in: .whitespacesAndNewlines)) {
            // Ready when it answers, which also proves the URL's port is the server's.
            var last = "no answer"
            if eventually(within: 30, {
                do { _ = try PostgresConnection(url: url).query("SELECT 1", []); return true } catch { last = "\(error)"; return false }
            }) {
                return .success(url)
            }
            cause = "started, but \(url.text) answered no query within 30 s: \(last)"
        } else {
            cause = ".ci/postgres.sh start printed no URL: \(outcome.out.debugDescription)"
        }
        let failure = StartError.Attempt(port: port, cause: cause, log: logTail(data, outcome))
        stop(data, scratch: scratch)
        try? FileManager.default.removeItem(at: data)
        return .failure(failure)
    }

    /// The server's log so far ("" before it has one).
    private static func serverLog(_ data: URL) -> String {
        (try? String(contentsOf: data.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
    }

    /// The line the server logged after its first `loggedBefore` bytes (or
    /// else of the script's stderr) that says what went wrong, without its
    /// timestamp.
    private static func cause(_ outcome: Outcome, data: URL, loggedBefore: Int = 0) -> String {
        let log = String(decoding: serverLog(data).utf8.dropFirst(loggedBefore), as: UTF8.self)
        let lines = log.split(separator: "\n") + outcome.err.split(separator: "\n")
        let line = lines.first { $0.contains("could not") || $0.contains("FATAL:") || $0.contains("PANIC:") }
            ?? outcome.err.split(separator: "\n").last
        guard let line else { return "it said nothing" }
        let message = line.range(of: "] ").map { line[$0.upperBound...] } ?? line[...]
        return String(message).replacingOccurrences(of: "  ", with: " ")
    }

    /// The last lines of the server's log, or of the script's stderr when
    /// there is no log (initdb failed).
    private static func logTail(_ data: URL, _ outcome: Outcome, lines: Int = 15) -> String {
        let log = serverLog(data)
        if !log.isEmpty {
            return "end of \(data.appendingPathComponent("server.log").path):\n" + log.split(separator: "\n").suffix(lines).joined(separator: "\n")
        }
        return "no server.log; end of the script's stderr:\n" + outcome.err.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Stops the server of `data` if it runs: as `.ci/postgres.sh stop`
    /// does, and with SIGKILL if it is still there after that.
    private static func stop(_ data: URL, scratch: URL) {
        guard let text = try? String(contentsOf: data.appendingPathComponent("postmaster.pid"), encoding: .utf8),
              let pid = text.split(separator: "\n").first.flatMap({ pid_t($0) }), isRunning(pid) else { return }
        _ = run(["stop", data.path], port: 0, scratch: scratch)
        guard isRunning(pid) else { return }
        kill(pid, SIGKILL) // its backends exit when they see the postmaster gone
        _ = eventually(within: 10) { !isRunning(pid) }
    }

    /// Stops the servers and deletes the directories of test processes that
    /// are gone (killed, crashed) without calling `remove()`.
    private static func removeLeftovers() {
        let temporary = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? [] where name.hasPrefix(prefix) {
            let parts = name.dropFirst(prefix.count).split(separator: "-")
            guard parts.count == 2, let owner = pid_t(parts[0]), kill(owner, 0) != 0, errno == ESRCH else { continue }
            let directory = temporary.appendingPathComponent(name)
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            for entry in entries where entry.hasPrefix("data-") { stop(directory.appendingPathComponent(entry), scratch: directory) }
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// Where ports are tried: from 20000 up to the kernel's ephemeral range
    /// (whose ports outgoing connections take, and leave in TIME_WAIT), or
    /// 20000–59999 if that range starts too low to leave room.
    static let portRange: Range<Int> = {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32_768
        return low > 21_000 ? 20_000..<low : 20_000..<60_000
    }()

    /// A port in `portRange` that PostgreSQL could listen on now.
    static func freePort() -> Int? {
        (0..<100).lazy.map { _ in Int.random(in: portRange) }.first(where: canListen(on:))
    }

    /// Whether a socket bound and listening on 127.0.0.1:`port` with
    /// SO_REUSEADDR, as the postmaster's, may be made now.
    private static func canListen(on port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var on: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return bound == 0 && listen(socket, 1) == 0
    }

    /// What a run of the script did: its wait status and output.
    struct Outcome {
        var status: Int32
        var out: String
        var err: String

        var statusText: String {
            status & 0x7f == 0 ? "exit status \((status >> 8) & 0xff)" : "killed by signal \(status & 0x7f)"
        }
    }

    /// Runs the script with posix_spawn and waitpid (Foundation's Process
    /// was seen to wait forever here for a child already gone), its stdout
    /// and stderr through files in `scratch`: the server it starts must not
    /// hold a pipe of ours.
    static func run(_ arguments: [String], port: Int, scratch: URL) -> Outcome {
        let stem = scratch.appendingPathComponent("script-\(UInt32.random(in: 0...UInt32.max))")
        let (output, errors) = (stem.appendingPathExtension("out"), stem.appendingPathExtension("err"))
        defer { [output, errors].forEach { try? FileManager.default.removeItem(at: $0) } }
        var environment = ProcessInfo.processInfo.environment
        environment["RUNBOOK_TEST_PGPORT"] = String(port)
        let argv = ["/bin/bash", script.path] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errors.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // The test thread's signal mask blocks SIGTERM and more; the script,
        // pg_ctl and the server start with none blocked and default actions.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnvp = envp.map { strdup($0) } + [nil]
        defer { (cArgv + cEnvp).forEach { free($0) } }
        let spawned = posix_spawn(&pid, "/bin/bash", &actions, &attributes, cArgv, cEnvp)
        guard spawned == 0 else { return Outcome(status: 127 << 8, out: "", err: "cannot run \(script.path): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return Outcome(status: status,
                       out: (try? String(contentsOf: output, encoding: .utf8)) ?? "",
                       err: (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
    }
}
