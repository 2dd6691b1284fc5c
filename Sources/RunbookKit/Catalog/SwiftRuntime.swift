import FoundationEssentials
import Glibc

/// Swift runbooks: compiled once per snapshot with `swiftc -O` into a cache
/// keyed by the content hash, then run as a binary. Never `swift file.swift`
/// per run: a compile costs seconds, a cached binary starts in milliseconds.
public struct SwiftRuntime: Runtime {
    public let name = "swift"
    public let extensions = ["swift"]
    public let commentPrefix = "//"

    public init() {}

    public func check(_ file: URL, tools: Tools) throws -> String? {
        let result = try tools.run([try tools.path(of: "swiftc"), "-typecheck", file.path])
        return result.succeeded ? nil : result.output
    }

    /// Compiles the snapshot unless `cache/swift/HASH/main` already exists.
    /// The binary is built under a temporary name and renamed into place, so
    /// two processes compiling at once both end with a whole binary.
    public func prepare(snapshot: URL, hash: String, cache: URL, tools: Tools) throws -> URL {
        let directory = cache.appendingPathComponent("swift").appendingPathComponent(hash)
        let binary = directory.appendingPathComponent("main")
        if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // swiftc wants a .swift file name; the snapshot is stored by hash.
        // Each compile gets its own source copy and output, renamed into
        // place at the end: two processes preparing one revision at once,
        // or a crash half-way, never leave a partial file under the final name.
        let source = directory.appendingPathComponent("main.\(getpid()).swift")
        try? FileManager.default.removeItem(at: source)
        try FileManager.default.copyItem(at: snapshot, to: source)
        defer { try? FileManager.default.removeItem(at: source) }
        let temporary = directory.appendingPathComponent("main.\(getpid()).tmp")
        let moduleCache = cache.appendingPathComponent("swift").appendingPathComponent("module-cache")
        let result = try tools.run([
            try tools.path(of: "swiftc"), "-O", "-module-name", "Runbook", "-module-cache-path", moduleCache.path,
            "-o", temporary.path, source.path,
        ])
        guard result.succeeded else {
            try? FileManager.default.removeItem(at: temporary)
            throw RuntimeError(.compileFailed, "swiftc could not compile the runbook", output: result.output)
        }
        if rename(temporary.path, binary.path) != 0 {
            throw RuntimeError(.compileFailed, "could not move the compiled runbook into \(binary.path): \(String(cString: strerror(errno)))")
        }
        return binary
    }

    public func commandLine(for artifact: URL, tools: Tools) throws -> [String] { [artifact.path] }
}
