import Foundation
@testable import RunbookKit

/// A fresh repository root in a `mkdtemp` directory, removed on deinit.
final class TemporaryRoot: @unchecked Sendable {
    let url: URL

    init() throws {
        var template = Array((FileManager.default.temporaryDirectory.path + "/runbook-test-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw RunError("mkdtemp failed") }
        url = URL(fileURLWithPath: String(cString: made))
        try FileManager.default.createDirectory(at: url.appendingPathComponent("runbooks"), withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    var workspace: Workspace { Workspace(root: url) }

    /// Writes `text` to `runbooks/NAME`.
    @discardableResult
    func runbook(_ name: String, _ text: String) throws -> URL {
        let file = url.appendingPathComponent("runbooks").appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    func write(_ relativePath: String, _ data: Data) throws {
        let file = url.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
    }

    func read(_ relativePath: String) throws -> String {
        try String(contentsOf: url.appendingPathComponent(relativePath), encoding: .utf8)
    }

    /// Runs the CLI in this process and captures what it printed.
    func cli(_ arguments: String..., environment: [String: String] = [:]) -> (status: Int32, out: String, err: String) {
        let out = Captured(), err = Captured()
        let console = Console(writeOut: { out.append($0) }, writeErr: { err.append($0) }, isTerminal: false)
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        env["RUNBOOK_ROOT"] = nil
        env["RUNBOOK_STATE_DIR"] = nil
        let status = RunbookCLI.main(["--root", url.path] + arguments, environment: env, currentDirectory: url, console: console)
        return (status, out.text, err.text)
    }
}

/// Text written from any thread.
final class Captured: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = ""
    func append(_ text: String) { lock.lock(); buffer += text; lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return buffer }
}
