import CRunbookSpawn
import Foundation
import Glibc

/// A process id.
public struct ProcessID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: pid_t
    public init(rawValue: pid_t) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }
}

/// Starts programs through the C spawn target: every argv and environment
/// string is built here, before the clone, so the child never allocates.
enum ProcessSpawner {
    /// Starts `arguments[0]` (an absolute path) in a new session, with
    /// `descriptors` as its fds 0, 1, 2, ... and nothing else open.
    /// - Parameter deathSignal: sent to the child if the spawning thread dies
    ///   (0 for none).
    static func spawn(
        _ arguments: [String], environment: [String: String], directory: URL?, descriptors: [Int32], deathSignal: Int32 = 0
    ) throws(SpawnError) -> ProcessID {
        let program = arguments[0]
        let argv = CStringArray(arguments)
        let envp = CStringArray(environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        let mappings = descriptors.enumerated().map { rb_fd_mapping(source: $0.element, target: Int32($0.offset)) }
        var pid: pid_t = 0
        var step: Int32 = 0
        let result: Int32 = program.withCString { path in
            (directory?.path ?? "").withCString { directoryPath in
                mappings.withUnsafeBufferPointer { fds in
                    var config = rb_spawn_config(
                        path: path, argv: argv.pointers, envp: envp.pointers,
                        directory: directory == nil ? nil : directoryPath,
                        fds: fds.baseAddress, fd_count: Int32(fds.count), new_session: 1, death_signal: deathSignal)
                    return rb_spawn(&config, &pid, &step)
                }
            }
        }
        guard result == 0 else {
            let stepName: SpawnError.Step
            switch rb_spawn_step(rawValue: UInt32(step)) {
            case RB_STEP_SIGNALS: stepName = .signals
            case RB_STEP_SESSION: stepName = .session
            case RB_STEP_FDS: stepName = .descriptors
            case RB_STEP_DIRECTORY: stepName = .directory
            case RB_STEP_EXEC: stepName = .exec
            default: stepName = .pipes
            }
            throw SpawnError(step: stepName, errno: Errno(result), program: program)
        }
        return ProcessID(rawValue: pid)
    }

    /// The installed `runbook-init`: `RUNBOOK_INIT` if set, else beside the
    /// running executable (where SwiftPM and installs put it).
    static func initPath(environment: [String: String]) throws(SpawnError) -> String {
        if let explicit = environment["RUNBOOK_INIT"], !explicit.isEmpty { return explicit }
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let executable = length > 0
            ? String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : CommandLine.arguments[0]
        let candidate = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("runbook-init").path
        guard access(candidate, X_OK) == 0 else {
            throw SpawnError(step: .initProgram, errno: Errno(ENOENT), program: candidate)
        }
        return candidate
    }
}

/// A NULL-terminated array of C strings that lives as long as the value.
final class CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: count + 1)
        for (index, string) in strings.enumerated() { pointers[index] = strdup(string) }
        pointers[count] = nil
    }

    deinit {
        for index in 0..<count { free(pointers[index]) }
        pointers.deallocate()
    }
}

/// A pipe whose both ends are close-on-exec; ends are handed to children by
/// the spawn mapping only.
struct Pipe {
    var read: Int32
    var write: Int32

    init() throws(SpawnError) {
        var fds: [Int32] = [-1, -1]
        let result = rb_pipe(&fds)
        guard result == 0 else { throw SpawnError(step: .pipes, errno: Errno(result), program: "pipe") }
        read = fds[0]
        write = fds[1]
    }
}
