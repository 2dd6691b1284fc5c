import Foundation
import Glibc
import Testing

/// The built `runbook` binary, run as a user would: in a temporary root,
/// with a chosen environment, capturing its output.
struct RunbookProcess {
    /// `.build/<config>/runbook`, beside this test bundle.
    static var binary: URL {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent("runbook")
    }

    struct Result {
        var status: Int32
        var out: String
        var err: String
    }

    /// A fresh root with `runbooks/`, deleted afterwards by `remove()`.
    final class Root: @unchecked Sendable {
        let url: URL

        /// - Parameter base: where to make it (default: the temporary directory).
        init(base: String? = nil) throws {
            var template = Array(((base ?? FileManager.default.temporaryDirectory.path) + "/runbook-e2e-XXXXXX").utf8CString)
            guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
            url = URL(fileURLWithPath: String(cString: made))
            try FileManager.default.createDirectory(at: url.appendingPathComponent("runbooks"), withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(at: url) }

        func write(_ path: String, _ text: String) throws {
            let file = url.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
        }

        func read(_ path: String) throws -> String {
            try String(contentsOf: url.appendingPathComponent(path), encoding: .utf8)
        }

        func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: url.appendingPathComponent(path).path) }

        /// The environment runbook is started with: this process's, pointed at the root.
        func environment(_ extra: [String: String] = [:]) -> [String: String] {
            var environment = ProcessInfo.processInfo.environment
            environment["RUNBOOK_ROOT"] = url.path
            environment["RUNBOOK_STATE_DIR"] = nil
            environment.merge(extra) { $1 }
            return environment
        }

        /// Runs `runbook ARGUMENTS...` to completion.
        @discardableResult
        func run(_ arguments: String..., environment extra: [String: String] = [:]) throws -> Result {
            try run(arguments, environment: extra)
        }

        func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Result {
            let process = start(arguments, environment: extra)
            let out = try process.stdout.fileHandleForReading.readToEnd() ?? Data()
            let err = try process.stderr.fileHandleForReading.readToEnd() ?? Data()
            process.process.waitUntilExit()
            return Result(status: process.process.terminationStatus,
                          out: String(decoding: out, as: UTF8.self), err: String(decoding: err, as: UTF8.self))
        }

        /// Starts `runbook ARGUMENTS...` and returns at once.
        func start(_ arguments: [String], environment extra: [String: String] = [:]) -> Started {
            let process = Process()
            process.executableURL = RunbookProcess.binary
            process.arguments = arguments
            process.environment = environment(extra)
            process.currentDirectoryURL = url
            let stdout = Pipe(), stderr = Pipe()
            process.standardOutput = stdout
            process.standardError = stderr
            process.standardInput = FileHandle.nullDevice
            try? process.run()
            return Started(process: process, stdout: stdout, stderr: stderr)
        }

        /// Decoded `runbook jobs --json --limit 0`.
        func jobs() throws -> [[String: Any]] {
            let result = try run("jobs", "--json", "--limit", "0")
            return (try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [[String: Any]]) ?? []
        }
    }

    struct Started {
        var process: Process
        var stdout: Pipe
        var stderr: Pipe
    }
}

/// Polls `condition` until it holds or `seconds` pass; never a blind sleep.
func eventually(within seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}

/// Whether a process with `pid` exists (zombies count as gone).
func isRunning(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return !stat[stat.index(after: close)...].hasPrefix(" Z")
}

/// Host pids of live processes whose command line (arguments joined by
/// spaces) contains `text`; zombies do not count.
func processes(containing text: String) -> [pid_t] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { pid_t($0) }.filter { pid in
        guard pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return false }
        let line = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        return line.contains(text) && isRunning(pid)
    }
}
