import FoundationEssentials
import Glibc

/// Runs short helper commands (syntax checks, swiftc, git) and captures
/// their combined output. Not for jobs: these get no sandbox and no
/// timeout beyond `timeout`, and run with the environment they are given.
public struct SubprocessRunner: CommandRunner {
    /// Seconds after which a helper is killed.
    public var timeout: Int

    public init(timeout: Int = 600) { self.timeout = timeout }

    public func run(_ arguments: [String], environment: [String: String], directory: URL?) throws -> CommandResult {
        let output = try Pipe()
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(devNull) }
        let pid: ProcessID
        do {
            pid = try ProcessSpawner.spawn(arguments, environment: environment, directory: directory,
                                           descriptors: [devNull, output.write, output.write], deathSignal: SIGKILL)
        } catch {
            close(output.read)
            close(output.write)
            throw RuntimeError(.toolMissing, error.description)
        }
        close(output.write)
        defer { close(output.read) }

        var captured: [UInt8] = []
        let cap = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: 16384)
        let deadline = Supervisor.monotonicSeconds() + Double(timeout)
        var killed = false
        while true {
            var entry = pollfd(fd: output.read, events: Int16(POLLIN), revents: 0)
            let remaining = deadline - Supervisor.monotonicSeconds()
            if remaining <= 0 && !killed {
                kill(-pid.rawValue, SIGKILL)
                killed = true
            }
            let ready = poll(&entry, 1, killed ? 1000 : Int32(min(remaining * 1000, 1000)))
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { if killed { break }; continue }
            let count = read(output.read, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            if captured.count < cap { captured += buffer[0..<min(count, cap - captured.count)] }
        }
        var status: Int32 = 0
        while waitpid(pid.rawValue, &status, 0) < 0 && errno == EINTR {}
        let text = String(decoding: captured, as: UTF8.self)
        if status & 0x7f == 0 {
            return CommandResult(exitCode: Int((status >> 8) & 0xff), signal: nil, output: text)
        }
        return CommandResult(exitCode: nil, signal: Int(status & 0x7f), output: text)
    }
}
