/// A first-in first-out line whose `popFirst` costs O(1): the host's lines
/// of waiting jobs can hold thousands (a backlog caught up at once), and an
/// array's `removeFirst` moved all of them for every job started.
struct FIFO<Element>: Sequence {
    private var items: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }
    var first: Element? { head < items.count ? items[head] : nil }

    mutating func append(_ element: Element) { items.append(element) }

    mutating func popFirst() -> Element? {
        guard head < items.count else { return nil }
        let first = items[head]
        head += 1
        // Drop the taken ones now and then, so memory follows the line.
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return first
    }

    func makeIterator() -> ArraySlice<Element>.Iterator { items[head...].makeIterator() }
}
