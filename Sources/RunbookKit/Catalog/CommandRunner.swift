import FoundationEssentials

/// Runs a short helper command (a syntax check, a compiler, git) and
/// returns what it printed. Runtimes and provenance use it; Execution
/// provides the implementation, so the catalog never spawns by itself.
public protocol CommandRunner: Sendable {
    /// - Parameters:
    ///   - arguments: the program (an absolute path) and its arguments; no shell.
    ///   - environment: the whole environment of the command.
    ///   - directory: its working directory, or nil for the current one.
    func run(_ arguments: [String], environment: [String: String], directory: URL?) throws -> CommandResult
}

/// What a helper command did: its exit status and its combined output
/// (stdout then stderr), bounded to 64 KiB.
public struct CommandResult: Sendable, Equatable {
    public var exitCode: Int?
    public var signal: Int?
    public var output: String

    public init(exitCode: Int?, signal: Int?, output: String) {
        self.exitCode = exitCode
        self.signal = signal
        self.output = output
    }

    public var succeeded: Bool { exitCode == 0 }
}
