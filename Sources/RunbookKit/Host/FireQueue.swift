import FoundationEssentials

/// The host's single timer: a binary min-heap of what fires next, by
/// instant. Entries are never updated in place: a changed schedule gets a
/// new entry with a higher generation, and stale ones are dropped when they
/// surface.
struct FireQueue {
    struct Entry {
        /// When the host handles the entry: for a schedule, a moment before
        /// the job's instant, to claim its slot and ready its job by then.
        var at: Date
        /// A schedule name, or a queued job's id for a delayed retry.
        var key: Key
        var generation: Int
        /// When the job is to start (the slot plus its jitter), if later than `at`.
        var instant: Date? = nil
    }

    enum Key: Hashable {
        case schedule(String)
        case retry(JobID)
    }

    private var heap: [Entry] = []

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var earliest: Date? { heap.first?.at }

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].at < heap[parent].at else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: Date) -> Entry? {
        guard let first = heap.first, first.at <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count && heap[left].at < heap[smallest].at { smallest = left }
                if right < heap.count && heap[right].at < heap[smallest].at { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
