import CRunbookSpawn
import FoundationEssentials
import Glibc
import Synchronization

/// The gate a readied job waits at: its sandbox and `runbook-init` exist,
/// but the runbook's program starts only when the gate opens.
///
/// A pipe: `runbook-init -g` holds the reading end (as descriptor 4) and
/// waits for one byte; whoever holds this object opens the gate by writing
/// it. Readying a job costs several milliseconds of namespaces, mounts and
/// cgroups; done a moment before the job's instant, the instant itself
/// costs only the program's exec. Closing the gate without a byte
/// (`withdraw()`, or the owner's death) means the job never starts.
/// Closing it after the byte (`release()`) lets runbook-init exit once the
/// job is over: that exit tears the job's namespaces down, which the host
/// puts off while other jobs are starting (see `StartTraffic`).
final class StartGate: Sendable {
    /// The end runbook-init reads; closed in this process once the job is spawned.
    private let readEnd = Mutex<Int32>(-1)
    /// The end this process writes, and whether the byte has gone.
    private let writeEnd = Mutex<(fd: Int32, opened: Bool)>((-1, false))

    /// - Throws: `SpawnError` `.pipes` when no pipe can be made (out of descriptors).
    init() throws(SpawnError) {
        var fds: [Int32] = [-1, -1]
        let result = rb_pipe(&fds)
        guard result == 0 else { throw SpawnError(step: .pipes, errno: Errno(result), program: "runbook-init") }
        readEnd.withLock { $0 = fds[0] }
        writeEnd.withLock { $0.fd = fds[1] }
    }

    deinit {
        readEnd.withLock { if $0 >= 0 { close($0) } }
        writeEnd.withLock { if $0.fd >= 0 { close($0.fd) } }
    }

    /// The reading end, for the spawn to hand to runbook-init.
    var descriptor: Int32 { readEnd.withLock { $0 } }

    /// Closes this process's copy of the reading end (the child has its own).
    func spawned() {
        readEnd.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    /// Lets the job start. Once only; after `withdraw()` it does nothing.
    func open() {
        writeEnd.withLock { end in
            guard end.fd >= 0, !end.opened else { return }
            var byte: UInt8 = 1
            _ = write(end.fd, &byte, 1)
            end.opened = true
        }
    }

    /// Closes the gate for good: a job still waiting at it never starts.
    func withdraw() { closeWriteEnd() }

    /// Lets runbook-init exit, its job over and reported.
    func release() { closeWriteEnd() }

    private func closeWriteEnd() {
        writeEnd.withLock { end in
            if end.fd >= 0 { close(end.fd) }
            end.fd = -1
        }
    }
}

/// A readied job's start: its gate opens at `instant` (wall clock), once
/// the job holds one of `places` (without places: at once).
struct HeldStart {
    let gate: StartGate
    let instant: Date
    let places: JobPlaces?
    /// The job's claim on a place, already holding one when given.
    let ticket: JobPlaces.Ticket?
    /// Whether `instant` is the job's scheduled time (not merely "now"):
    /// then it counts in `traffic` from its instant until it starts.
    let timed: Bool
    /// The host's timed starts: the job's clearing up waits for quiet there.
    let traffic: StartTraffic?
    /// The wall clock, to record when the gate opened.
    let clock: @Sendable () -> Date
    /// Called once if the job has waited a second for a place past its instant.
    let waitingForPlace: () -> Void
    /// Called as the gate is about to open, with the time; false means the
    /// job must not start after all (cancelled while it waited for a place).
    let letGo: (Date) -> Bool
}
