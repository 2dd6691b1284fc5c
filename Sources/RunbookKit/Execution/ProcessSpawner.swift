import CRunbookSpawn
import FoundationEssentials
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
    /// - Parameters:
    ///   - sandbox: the confinement to apply in the child, nil for none.
    ///   - cgroupFiles: `cgroup.procs` files (open for writing) the child joins.
    static func spawn(
        _ arguments: [String], environment: [String: String], directory: URL?, descriptors: [Int32], deathSignal: Int32 = 0,
        sandbox: SandboxPolicy? = nil, cgroupFiles: [Int32] = []
    ) throws(SpawnError) -> ProcessID {
        let program = arguments[0]
        let argv = CStringArray(arguments)
        let envp = CStringArray(environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        let mappings = descriptors.enumerated().map { rb_fd_mapping(source: $0.element, target: Int32($0.offset)) }
        let prepared = sandbox.map { PreparedSandbox($0, cgroupFiles: cgroupFiles) }
        var pid: pid_t = 0
        var step: Int32 = 0
        var detail: Int32 = 0
        let result: Int32 = program.withCString { path in
            (directory?.path ?? "").withCString { directoryPath in
                mappings.withUnsafeBufferPointer { fds in
                    var config = rb_spawn_config(
                        path: path, argv: argv.pointers, envp: envp.pointers,
                        directory: directory == nil ? nil : directoryPath,
                        fds: fds.baseAddress, fd_count: Int32(fds.count), new_session: 1, death_signal: deathSignal,
                        sandbox: nil)
                    guard let prepared else { return rb_spawn(&config, &pid, &step, &detail) }
                    return withUnsafePointer(to: &prepared.config) { sandboxPointer in
                        config.sandbox = sandboxPointer
                        return rb_spawn(&config, &pid, &step, &detail)
                    }
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
            case RB_STEP_CGROUP: stepName = .cgroup
            case RB_STEP_NAMESPACES: stepName = .namespaces
            case RB_STEP_USER_MAP: stepName = .userMap
            case RB_STEP_MOUNT: stepName = .mount
            case RB_STEP_NO_NEW_PRIVS: stepName = .noNewPrivileges
            case RB_STEP_SECCOMP: stepName = .seccomp
            case RB_STEP_USER: stepName = .user
            default: stepName = .pipes
            }
            var error = SpawnError(step: stepName, errno: Errno(result), program: program)
            if stepName == .mount, let steps = sandbox?.mounts, Int(detail) < steps.count { error.detail = "\(steps[Int(detail)])" }
            throw error
        }
        return ProcessID(rawValue: pid)
    }

    /// The installed `runbook-init` of this process, found once: every job
    /// starts it, and the search reads `RUNBOOK_INIT` and
    /// `/proc/self/exe`.
    static func installedInitPath() throws(SpawnError) -> String {
        try installedInit.get()
    }

    private static let installedInit: Result<String, SpawnError> = {
        // RUNBOOK_INIT alone: the whole environment as a dictionary costs more.
        let explicit = getenv("RUNBOOK_INIT").map { ["RUNBOOK_INIT": String(cString: $0)] } ?? [:]
        return Result { () throws(SpawnError) in try initPath(environment: explicit) }
    }()

    /// The installed `runbook-init`: `RUNBOOK_INIT` if set, else beside the
    /// running executable (where SwiftPM and installs put it).
    static func initPath(environment: [String: String]) throws(SpawnError) -> String {
        if let explicit = environment["RUNBOOK_INIT"], !explicit.isEmpty { return explicit }
        let executable = readLink("/proc/self/exe") ?? CommandLine.arguments[0]
        let candidate = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("runbook-init").path
        guard access(candidate, X_OK) == 0 else {
            throw SpawnError(step: .initProgram, errno: Errno(ENOENT), program: candidate)
        }
        return candidate
    }
}

/// A `SandboxPolicy` as the C target takes it; its strings and arrays live
/// as long as this object.
final class PreparedSandbox {
    var config: rb_sandbox
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private let steps: UnsafeMutableBufferPointer<rb_mount_step>
    private let cgroupFDs: UnsafeMutableBufferPointer<Int32>

    init(_ policy: SandboxPolicy, cgroupFiles: [Int32]) {
        steps = .allocate(capacity: max(1, policy.mounts.count))
        cgroupFDs = .allocate(capacity: max(1, cgroupFiles.count))
        for (index, fd) in cgroupFiles.enumerated() { cgroupFDs[index] = fd }
        config = rb_sandbox()
        func keep(_ text: String?) -> UnsafePointer<CChar>? {
            guard let text, let copy = strdup(text) else { return nil }
            strings.append(copy)
            return UnsafePointer(copy)
        }
        for (index, mount) in policy.mounts.enumerated() {
            var step = rb_mount_step()
            switch mount {
            case .makePrivate(let path): step.kind = Int32(RB_MOUNT_PRIVATE.rawValue); step.path = keep(path)
            case .clone(let slot, let path): step.kind = Int32(RB_MOUNT_CLONE.rawValue); step.slot = Int32(slot); step.path = keep(path)
            case .readOnly(let path): step.kind = Int32(RB_MOUNT_READ_ONLY.rawValue); step.path = keep(path)
            case .tmpfs(let path, let options):
                step.kind = Int32(RB_MOUNT_TMPFS.rawValue); step.path = keep(path); step.data = keep(options)
                step.flags = RB_MOUNT_OPTIONAL
            case .hideFile(let path): step.kind = Int32(RB_MOUNT_HIDE_FILE.rawValue); step.path = keep(path); step.flags = RB_MOUNT_OPTIONAL
            case .makeDirectory(let path): step.kind = Int32(RB_MOUNT_MKDIR.rawValue); step.path = keep(path)
            case .makeFile(let path): step.kind = Int32(RB_MOUNT_MKFILE.rawValue); step.path = keep(path)
            case .seal(let path): step.kind = Int32(RB_MOUNT_SEAL.rawValue); step.path = keep(path)
            case .attach(let slot, let path, let writable):
                step.kind = Int32(RB_MOUNT_ATTACH.rawValue); step.slot = Int32(slot); step.path = keep(path)
                step.flags = writable ? RB_MOUNT_WRITABLE : 0
            case .proc(let path): step.kind = Int32(RB_MOUNT_PROC.rawValue); step.path = keep(path)
            }
            steps[index] = step
        }
        config.namespaces = policy.namespaces
        config.cgroup_namespace = policy.cgroupNamespace ? 1 : 0
        config.cgroup_fds = UnsafePointer(cgroupFDs.baseAddress)
        config.cgroup_fd_count = Int32(cgroupFiles.count)
        config.uid_map = keep(policy.uidMap)
        config.gid_map = keep(policy.gidMap)
        config.mounts = UnsafePointer(steps.baseAddress)
        config.mount_count = Int32(policy.mounts.count)
        config.no_new_privs = policy.noNewPrivileges ? 1 : 0
        config.seccomp = policy.seccomp ? 1 : 0
        if let user = policy.user {
            config.switch_user = 1
            config.uid = user.uid
            config.gid = user.gid
        }
    }

    deinit {
        for string in strings { free(string) }
        steps.deallocate()
        cgroupFDs.deallocate()
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
