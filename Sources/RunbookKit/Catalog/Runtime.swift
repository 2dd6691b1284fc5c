import FoundationEssentials

/// A language runbooks can be written in. Runtimes are plugins behind this
/// one interface: the built-in `python`, `shell` and `swift`, and whatever
/// `runtimes.conf` adds.
public protocol Runtime: Sendable {
    /// `python`, `shell`, `swift`, or the section name in `runtimes.conf`.
    var name: String { get }
    /// File extensions, without the dot.
    var extensions: [String] { get }
    /// What starts a comment line, for the settings header: `#` or `//`.
    var commentPrefix: String { get }

    /// Checks `file` (syntax, or a compile) without running it. Returns nil
    /// when it is fine, else the checker's output.
    func check(_ file: URL, tools: Tools) throws -> String?

    /// Turns a snapshot's file into what runs: the file itself for scripts,
    /// a binary compiled once into `cache` for Swift.
    /// - Parameters:
    ///   - snapshot: the immutable copy of the runbook's content.
    ///   - hash: its content hash, the cache key.
    func prepare(snapshot: URL, hash: String, cache: URL, tools: Tools) throws -> URL

    /// The command line that runs a prepared artifact.
    func commandLine(for artifact: URL, tools: Tools) throws -> [String]
}

/// Why a runtime could not check, prepare or run a file.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case toolMissing, checkFailed, compileFailed, badConfig }
    public var code: Code
    public var message: String
    /// The tool's output, when it printed something.
    public var output: String?

    public init(_ code: Code, _ message: String, output: String? = nil) {
        self.code = code
        self.message = message
        self.output = output
    }

    public var description: String {
        guard let output, !output.isEmpty else { return message }
        return message + "\n" + output
    }
}
