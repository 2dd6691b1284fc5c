import CRunbookSpawn
import Glibc
import Synchronization

/// The host's timed starts under way, so that finished jobs clear up after
/// them rather than in their way.
///
/// Clearing up after a job costs the machine about as much as starting a
/// small program: runbook-init's exit unmounts and frees the job's
/// namespaces, then come the reaping, the cgroups' counters and removal,
/// and the record. Jobs due at the same instant start in a burst, and on a
/// small machine the first of them end while the last are still starting:
/// their clearing up would push those starts late. So a finished job
/// lingers (its place already given back) until the traffic is quiet: no
/// timed job is past its instant without having started, and none started
/// in the last `settle` seconds (its program is still loading). It lingers
/// at most `patience` seconds, so a host that is never quiet still clears up.
///
/// Quiet is also a descriptor, a timerfd that is readable while it lasts:
/// lingering jobs wait on it in `poll` beside their other descriptors.
public final class StartTraffic: Sendable {
    /// A timed job that has reached its instant.
    struct Due: Sendable, Hashable {
        fileprivate let id: Int
    }

    private struct State {
        var due: Set<Int> = []
        var nextID = 0
        var lastStart = -Double.infinity
    }

    let settle: Double
    let patience: Double
    private let state = Mutex(State())
    /// Armed for when quiet begins, disarmed while a due job waits.
    let descriptor: Int32

    /// - Parameters:
    ///   - settle: seconds after a start before clearing up may begin.
    ///   - patience: the longest a finished job lingers.
    public init(settle: Double = 0.010, patience: Double = 1) throws(SpawnError) {
        self.settle = settle
        self.patience = patience
        descriptor = rb_timerfd()
        guard descriptor >= 0 else { throw SpawnError(step: .pipes, errno: .current, program: "timerfd") }
        change { _ in }
    }

    deinit { close(descriptor) }

    /// A timed job's instant has come; it is starting until `started` or `gone`.
    func due() -> Due {
        change { state in
            state.nextID += 1
            state.due.insert(state.nextID)
            return Due(id: state.nextID)
        }
    }

    /// The job's program is starting (its gate opened).
    func started(_ job: Due) {
        change { state in
            if state.due.remove(job.id) != nil { state.lastStart = Supervisor.monotonicSeconds() }
        }
    }

    /// The job will not start now: withdrawn, or queued for a place.
    func gone(_ job: Due) {
        change { state in _ = state.due.remove(job.id) }
    }

    /// Whether clearing up may go ahead now.
    var isQuiet: Bool {
        state.withLock { quietFrom($0).map { Supervisor.monotonicSeconds() >= $0 } ?? false }
    }

    /// When quiet begins (monotonic seconds) if nothing changes; nil while a due job waits.
    private func quietFrom(_ state: State) -> Double? {
        state.due.isEmpty ? state.lastStart + settle : nil
    }

    /// Applies `body` and sets the timer for the state it leaves (1 ns,
    /// long past, when quiet has no start to settle).
    @discardableResult
    private func change<T>(_ body: (inout State) -> T) -> T {
        state.withLock { state in
            let result = body(&state)
            let nanoseconds = quietFrom(state).map { Int64((max($0, 1e-9) * 1e9).rounded(.up)) } ?? 0
            _ = rb_timerfd_set(descriptor, nanoseconds)
            return result
        }
    }
}
