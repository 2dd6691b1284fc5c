import FoundationEssentials
import Glibc
import Synchronization

/// The programs runtimes need (bash, python3, swiftc, ...), found once on
/// the host's PATH and given to jobs by absolute path, since a job's own
/// PATH is fixed.
///
/// A `python3` that is a version-manager shim (pyenv and the like) costs tens
/// of milliseconds per start; it is resolved once to the real interpreter
/// and the answer cached in the state directory.
public final class Tools: Sendable {
    let searchPath: [String]
    let runner: any CommandRunner
    let cacheFile: URL?
    /// Programs set by environment (`RUNBOOK_SWIFTC`, `RUNBOOK_PYTHON`, ...).
    let overrides: [String: String]
    private let found = Mutex<[String: String]>([:])

    public init(environment: [String: String], runner: any CommandRunner, cacheFile: URL?) {
        searchPath = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
        self.runner = runner
        self.cacheFile = cacheFile
        var overrides: [String: String] = [:]
        for (tool, variable) in [("swiftc", "RUNBOOK_SWIFTC"), ("python3", "RUNBOOK_PYTHON"), ("bash", "RUNBOOK_BASH")] {
            if let value = environment[variable], !value.isEmpty { overrides[tool] = value }
        }
        self.overrides = overrides
    }

    /// The absolute path of `program`.
    /// - Throws: `RuntimeError.toolMissing` naming the program and the PATH searched.
    public func path(of program: String) throws -> String {
        if let known = found.withLock({ $0[program] }) { return known }
        let resolved: String
        if let override = overrides[program] {
            resolved = override
        } else if program.contains("/") {
            resolved = program
        } else {
            guard let hit = searchPath.lazy.map({ $0 + "/" + program }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw RuntimeError(.toolMissing, "'\(program)' was not found on PATH (\(searchPath.joined(separator: ":"))): install it or set PATH for runbook")
            }
            resolved = program == "python3" ? realInterpreter(behind: hit) : hit
        }
        found.withLock { $0[program] = resolved }
        return resolved
    }

    /// Follows a shim to the interpreter it would start, remembering the
    /// answer in the cache file keyed by the shim's path and mtime.
    private func realInterpreter(behind path: String) -> String {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard real.contains("/shims/") || !isBinary(real) else { return real }
        let stamp = (try? FileManager.default.attributesOfItem(atPath: real)[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let key = "\(real)@\(Int(stamp))"
        var cache = readCache()
        if let cached = cache[key], FileManager.default.isExecutableFile(atPath: cached) { return cached }
        guard let result = try? runner.run([real, "-c", "import sys; print(sys.executable)"],
                                           environment: ProcessInfo.processInfo.environment, directory: nil),
              result.succeeded else { return real }
        let answer = result.output.trimmingWhitespace()
        guard answer.hasPrefix("/"), FileManager.default.isExecutableFile(atPath: answer) else { return real }
        cache[key] = answer
        writeCache(cache)
        return answer
    }

    private func isBinary(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 4)
        return read(fd, &magic, 4) == 4 && magic == [0x7f, 0x45, 0x4c, 0x46]
    }

    private func readCache() -> [String: String] {
        guard let cacheFile, let data = try? Data(contentsOf: cacheFile) else { return [:] }
        return (try? JSONDecoder().decode([String: String].self, from: data)) ?? [:]
    }

    private func writeCache(_ cache: [String: String]) {
        guard let cacheFile, let data = try? JSONEncoder.sorted.encode(cache) else { return }
        try? FileManager.default.createDirectory(at: cacheFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: cacheFile, options: .atomic)
    }

    /// Runs a helper tool with the host's environment.
    func run(_ arguments: [String], directory: URL? = nil) throws -> CommandResult {
        try runner.run(arguments, environment: ProcessInfo.processInfo.environment, directory: directory)
    }
}
