import CRunbookSpawn
import Glibc
import Synchronization

/// The host's places for running jobs: at most `limit` jobs' programs run
/// at once (`serve --max-concurrent`).
///
/// A readied job takes a place at its instant, or queues for one, and gives
/// it back as soon as its processes have ended (before its record is
/// written: the place is about the machine's load, and a finished job
/// loads it no more). Places are handed out first come, first served; the
/// host readies jobs in its fair order, round-robin across runbooks.
///
/// Jobs wait on threads of their own, in `poll`: a queued job's `Ticket`
/// is an eventfd that becomes readable when a place is handed to it. A job
/// to start as soon as it can is given its place before it is readied
/// (`takeIfFree`), so no more of those are readied than can run.
public final class JobPlaces: Sendable {
    /// One job's claim on a place.
    public final class Ticket: Sendable {
        /// Readable once a place has been handed to this ticket.
        let descriptor: Int32

        public init() throws(SpawnError) {
            descriptor = rb_eventfd()
            guard descriptor >= 0 else { throw SpawnError(step: .pipes, errno: .current, program: "eventfd") }
        }

        deinit { Glibc.close(descriptor) }

        fileprivate func hand() {
            var one: UInt64 = 1
            _ = write(descriptor, &one, 8)
        }
    }

    private struct State {
        var free: Int
        var queue: [Ticket] = []
        /// Tickets handed a place, not yet given back.
        var holders: Set<ObjectIdentifier> = []
    }

    public let limit: Int
    private let state: Mutex<State>
    /// Called when a place becomes free with nobody queued for it.
    private let onFree: (@Sendable () -> Void)?

    public init(limit: Int, onFree: (@Sendable () -> Void)? = nil) {
        self.limit = max(1, limit)
        state = Mutex(State(free: max(1, limit)))
        self.onFree = onFree
    }

    /// Jobs holding a place now.
    public var taken: Int { state.withLock { limit - $0.free } }

    /// Takes a place for `ticket` now (true), or queues it (false): its
    /// descriptor becomes readable when a place is handed to it.
    func take(_ ticket: Ticket) -> Bool {
        state.withLock { state in
            let id = ObjectIdentifier(ticket)
            if state.holders.contains(id) { return true }
            if state.free > 0 && state.queue.isEmpty {
                state.free -= 1
                state.holders.insert(id)
                return true
            }
            if !state.queue.contains(where: { $0 === ticket }) { state.queue.append(ticket) }
            return false
        }
    }

    /// Takes a place for `ticket` if one is free and nobody is queued for
    /// one; never queues it.
    func takeIfFree(_ ticket: Ticket) -> Bool {
        state.withLock { state in
            guard state.free > 0, state.queue.isEmpty else { return false }
            state.free -= 1
            state.holders.insert(ObjectIdentifier(ticket))
            return true
        }
    }

    /// Whether a place has been handed to `ticket` (after its descriptor became readable).
    func holds(_ ticket: Ticket) -> Bool {
        state.withLock { $0.holders.contains(ObjectIdentifier(ticket)) }
    }

    /// Gives back `ticket`'s place, or takes it out of the queue: the next
    /// queued ticket gets the place.
    func giveBack(_ ticket: Ticket) {
        let freed = state.withLock { state -> Bool in
            state.queue.removeAll { $0 === ticket }
            guard state.holders.remove(ObjectIdentifier(ticket)) != nil else { return false }
            if state.queue.isEmpty {
                state.free += 1
                return true
            }
            let next = state.queue.removeFirst()
            state.holders.insert(ObjectIdentifier(next))
            next.hand()
            return false
        }
        if freed { onFree?() }
    }
}
