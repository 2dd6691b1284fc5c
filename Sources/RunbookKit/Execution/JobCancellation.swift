import CRunbookSpawn
import FoundationEssentials
import Glibc
import Synchronization

/// A way to stop one running job from another thread: `cancel(reason:)`
/// wakes the job's supervisor, which stops the job (SIGTERM, grace,
/// SIGKILL) and records it `cancelled` with the reason.
public final class JobCancellation: Sendable {
    private let readFD: Int32
    private let writeFD: Int32
    private let state = Mutex<String?>(nil)

    public init() throws {
        var fds: [Int32] = [-1, -1]
        let result = rb_pipe(&fds)
        guard result == 0 else { throw RunError("cannot create a pipe to cancel the job: \(Errno(result))") }
        readFD = fds[0]
        writeFD = fds[1]
        _ = fcntl(readFD, F_SETFL, fcntl(readFD, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// Asks the job to stop; the first reason given is the one recorded.
    public func cancel(reason: String) {
        let first = state.withLock { current -> Bool in
            guard current == nil else { return false }
            current = reason
            return true
        }
        guard first else { return }
        var byte = UInt8(SIGTERM)
        _ = write(writeFD, &byte, 1)
    }

    /// Why the job was cancelled, once it was.
    public var reason: String? { state.withLock { $0 } }

    /// The signal `runbook cancel` sends to the process that owns a running
    /// job on this machine: the host checks the store's cancel requests, a
    /// `runbook run` or `test` cancels its job.
    public static let requestSignal = SIGUSR2

    /// The descriptor the supervisor polls.
    var descriptor: Int32 { readFD }
}
