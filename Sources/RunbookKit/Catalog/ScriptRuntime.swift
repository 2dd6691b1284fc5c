import FoundationEssentials

/// A runtime that runs the file as it is with an interpreter: the built-in
/// `python` and `shell`, and every runtime from `runtimes.conf`.
///
/// Command lines are word lists, never a shell string: `{file}` stands for
/// the file's place and the first word is looked up on the host's PATH.
public struct ScriptRuntime: Runtime {
    public var name: String
    public var extensions: [String]
    public var commentPrefix: String
    /// The command that runs a file, e.g. `["python3", "-u", "{file}"]`.
    public var command: [String]
    /// The command that checks a file without running it, if there is one.
    public var checkCommand: [String]?

    public init(name: String, extensions: [String], commentPrefix: String, command: [String], checkCommand: [String]?) {
        self.name = name
        self.extensions = extensions
        self.commentPrefix = commentPrefix
        self.command = command
        self.checkCommand = checkCommand
    }

    /// Python 3, unbuffered so output streams live; checked by compiling
    /// the source in memory (no `__pycache__` written next to the file).
    public static let python = ScriptRuntime(
        name: "python", extensions: ["py"], commentPrefix: "#",
        command: ["python3", "-u", "{file}"],
        checkCommand: ["python3", "-c", "import sys; compile(open(sys.argv[1], 'rb').read(), sys.argv[1], 'exec')", "{file}"])

    /// Bash, checked with `bash -n`.
    public static let shell = ScriptRuntime(
        name: "shell", extensions: ["sh"], commentPrefix: "#",
        command: ["bash", "{file}"], checkCommand: ["bash", "-n", "{file}"])

    public func check(_ file: URL, tools: Tools) throws -> String? {
        guard let checkCommand else { return nil }
        let result = try tools.run(try resolve(checkCommand, file: file, tools: tools))
        return result.succeeded ? nil : (result.output.isEmpty ? "the check exited with \(result.exitCode ?? -1)" : result.output)
    }

    public func prepare(snapshot: URL, hash: String, cache: URL, tools: Tools) throws -> URL { snapshot }

    public func commandLine(for artifact: URL, tools: Tools) throws -> [String] {
        try resolve(command, file: artifact, tools: tools)
    }

    private func resolve(_ words: [String], file: URL, tools: Tools) throws -> [String] {
        guard let program = words.first else { throw RuntimeError(.badConfig, "runtime '\(name)' has an empty command") }
        let path = file.path
        return [try tools.path(of: program)] + words.dropFirst().map { $0.replacingEvery("{file}", with: path) }
    }
}
