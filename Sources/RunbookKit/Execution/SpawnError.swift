import Glibc

/// An errno value with its meaning.
public struct Errno: Error, Sendable, Equatable, CustomStringConvertible {
    public var rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }
    public static var current: Errno { Errno(errno) }
    public var description: String { String(cString: strerror(rawValue)) }
}

/// Why a process could not be started.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    public enum Step: String, Sendable {
        case pipes, signals, session, descriptors, directory, exec, initProgram
        case cgroup, namespaces, userMap = "user map", mount, noNewPrivileges = "no-new-privs", seccomp, user
    }

    public var step: Step
    public var errno: Errno
    public var program: String
    /// More about the step (the mount step that failed).
    public var detail: String? = nil

    public init(step: Step, errno: Errno, program: String) {
        self.step = step
        self.errno = errno
        self.program = program
    }

    public var description: String {
        switch step {
        case .exec: return "cannot start \(program): \(errno)"
        case .directory: return "cannot enter the working directory for \(program): \(errno)"
        case .initProgram: return "cannot find runbook-init beside the runbook binary (\(program)): reinstall runbook"
        case .cgroup, .namespaces, .userMap, .mount, .noNewPrivileges, .seccomp, .user:
            return "cannot confine \(program): sandbox step '\(step.rawValue)'\(detail.map { " (\($0))" } ?? "") failed: \(errno); `runbook doctor` shows what this machine grants"
        default: return "cannot start \(program) (\(step.rawValue)): \(errno)"
        }
    }
}
