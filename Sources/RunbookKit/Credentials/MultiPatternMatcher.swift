/// An Aho–Corasick automaton over bytes, built once from a set of patterns,
/// that finds every occurrence of every pattern (overlapping and nested ones
/// included) in one left-to-right pass.
///
/// Layout, chosen for speed on text that mostly matches nothing:
/// - bytes that occur in no pattern share byte class 0, which always leads
///   back to the root, so ordinary text costs one table lookup a byte;
/// - states are numbered breadth-first, and the shallow ones (where a scan
///   spends nearly all its time) get a full transition row per byte class;
///   deeper states keep only their trie children and fall back along their
///   failure link, which keeps memory linear in the patterns' total length;
/// - each state knows the longest pattern ending there (through its
///   failure chain), which is all masking needs: shorter matches ending at
///   the same byte lie inside it.
final class MultiPatternMatcher: Sendable {
    /// Byte → class; 0 for bytes in no pattern.
    private let classOf: [Int32]
    private let classCount: Int
    /// States `0..<denseCount` have a full row in `dense`.
    private let denseCount: Int
    private let dense: [Int32]
    /// Trie children of state s: `childClass/childTarget[childStart[s]..<childStart[s+1]]`.
    private let childStart: [Int32]
    private let childClass: [Int32]
    private let childTarget: [Int32]
    private let fail: [Int32]
    /// Length of the longest pattern that ends at this state, or 0.
    private let longest: [Int32]
    /// Length of the text this state stands for.
    private let depth: [Int32]
    /// The longest pattern's length.
    let maximumLength: Int

    var stateCount: Int { fail.count }
    var isEmpty: Bool { maximumLength == 0 }

    /// Table cells of dense rows allowed (4 bytes each).
    static let denseBudget = 1 << 20

    /// - Parameter denseBudget: table cells for dense rows (tests lower it
    ///   to exercise the sparse states).
    init(patterns: [[UInt8]], denseBudget: Int = MultiPatternMatcher.denseBudget) {
        var classOf = [Int32](repeating: 0, count: 256)
        var classCount = 1
        for pattern in patterns {
            for byte in pattern where classOf[Int(byte)] == 0 {
                classOf[Int(byte)] = Int32(classCount)
                classCount += 1
            }
        }

        // The trie, in insertion order, as flat arrays: each node's children
        // are a linked list (first child, next sibling), the root's also a
        // table by class. About 20 bytes a node while building.
        var firstChild: [Int32] = [-1]
        var nextSibling: [Int32] = [-1]
        var nodeClass: [Int32] = [0]
        var own: [Int32] = [0]
        var trieDepth: [Int32] = [0]
        var rootChild = [Int32](repeating: -1, count: classCount)
        func child(_ node: Int, _ cls: Int32) -> Int32? {
            if node == 0 { let target = rootChild[Int(cls)]; return target >= 0 ? target : nil }
            var candidate = firstChild[node]
            while candidate >= 0 {
                if nodeClass[Int(candidate)] == cls { return candidate }
                candidate = nextSibling[Int(candidate)]
            }
            return nil
        }
        for pattern in patterns where !pattern.isEmpty {
            var node = 0
            for byte in pattern {
                let cls = classOf[Int(byte)]
                if let next = child(node, cls) {
                    node = Int(next)
                } else {
                    let created = Int32(firstChild.count)
                    firstChild.append(-1)
                    nextSibling.append(firstChild[node])
                    nodeClass.append(cls)
                    own.append(0)
                    trieDepth.append(trieDepth[node] + 1)
                    firstChild[node] = created
                    if node == 0 { rootChild[Int(cls)] = created }
                    node = Int(created)
                }
            }
            own[node] = max(own[node], Int32(pattern.count))
        }

        // Breadth-first order, failure links and longest outputs.
        let count = firstChild.count
        var order: [Int32] = [0]
        order.reserveCapacity(count)
        var trieFail = [Int32](repeating: 0, count: count)
        var longestOld = own
        var cursor = 0
        while cursor < order.count {
            let node = Int(order[cursor])
            cursor += 1
            var next = firstChild[node]
            while next >= 0 {
                let target = Int(next)
                let cls = nodeClass[target]
                if node != 0 {
                    var link = Int(trieFail[node])
                    while true {
                        if let found = child(link, cls) { trieFail[target] = found; break }
                        if link == 0 { trieFail[target] = 0; break }
                        link = Int(trieFail[link])
                    }
                }
                longestOld[target] = max(own[target], longestOld[Int(trieFail[target])])
                order.append(next)
                next = nextSibling[target]
            }
        }
        own = []

        var newID = [Int32](repeating: 0, count: count)
        for (index, node) in order.enumerated() { newID[Int(node)] = Int32(index) }

        var childStart: [Int32] = [0]
        var childClass: [Int32] = []
        var childTarget: [Int32] = []
        var fail: [Int32] = []
        var longest: [Int32] = []
        var depth: [Int32] = []
        childStart.reserveCapacity(count + 1)
        childClass.reserveCapacity(count)
        childTarget.reserveCapacity(count)
        fail.reserveCapacity(count)
        longest.reserveCapacity(count)
        depth.reserveCapacity(count)
        for node in order.lazy.map(Int.init) {
            var next = firstChild[node]
            while next >= 0 {
                childClass.append(nodeClass[Int(next)])
                childTarget.append(newID[Int(next)])
                next = nextSibling[Int(next)]
            }
            childStart.append(Int32(childClass.count))
            fail.append(newID[Int(trieFail[node])])
            longest.append(longestOld[node])
            depth.append(trieDepth[node])
        }

        let denseCount = min(count, max(1, denseBudget / classCount))
        var dense = [Int32](repeating: 0, count: denseCount * classCount)
        for state in 0..<denseCount {
            let row = state * classCount
            if state != 0 {
                let fallback = Int(fail[state]) * classCount
                for cls in 0..<classCount { dense[row + cls] = dense[fallback + cls] }
            }
            for index in Int(childStart[state])..<Int(childStart[state + 1]) {
                dense[row + Int(childClass[index])] = childTarget[index]
            }
        }
        // Class 0 must lead to the root from every state (no pattern has it).
        for state in 0..<denseCount { dense[state * classCount] = 0 }
        // An entry is the target's row offset (`target * classCount`), so
        // the scan's next lookup needs no multiplication; a transition into
        // a state that ends a match, or into one without a dense row, is
        // the target's number with the sign bit set instead, so the scan
        // loop reads one table per byte in the common case.
        for index in dense.indices {
            let target = Int(dense[index])
            dense[index] = longest[target] > 0 || target >= denseCount ? Int32.min | Int32(target) : Int32(target * classCount)
        }

        self.classOf = classOf
        self.classCount = classCount
        self.denseCount = denseCount
        self.dense = dense
        self.childStart = childStart
        self.childClass = childClass
        self.childTarget = childTarget
        self.fail = fail
        self.longest = longest
        self.depth = depth
        self.maximumLength = Int(patterns.map(\.count).max() ?? 0)
    }

    /// Calls `found(start, end)` for the longest match ending at each byte
    /// that ends one, in order of `end`; returns the length of the longest
    /// suffix of `bytes` that is a prefix of some pattern (what a match
    /// could still grow from).
    @inline(__always)
    func scan(_ bytes: UnsafeRawBufferPointer, _ found: (Int, Int) -> Void) -> Int {
        classOf.withUnsafeBufferPointer { classOf in
        dense.withUnsafeBufferPointer { dense in
        longest.withUnsafeBufferPointer { longest in
            let classCount = self.classCount
            let denseCount = self.denseCount
            // The current state's row offset in `dense`, or -1 for a state
            // without a dense row (then `state` is its number).
            var row = 0
            var state = 0
            for index in 0..<bytes.count {
                let cls = Int(classOf[Int(bytes[index])])
                if cls == 0 { row = 0; continue }
                if row >= 0 {
                    let entry = dense[row &+ cls]
                    guard entry < 0 else { row = Int(entry); continue }
                    state = Int(entry & Int32.max)
                } else {
                    state = sparseStep(state, cls)
                }
                row = state < denseCount ? state &* classCount : -1
                let length = Int(longest[state])
                if length > 0 { found(index + 1 - length, index + 1) }
            }
            return Int(depth[row >= 0 ? row / classCount : state])
        }
        }
        }
    }

    /// The transition from a state without a dense row.
    private func sparseStep(_ from: Int, _ cls: Int) -> Int {
        var state = from
        while state >= denseCount {
            for index in Int(childStart[state])..<Int(childStart[state + 1]) where Int(childClass[index]) == cls {
                return Int(childTarget[index])
            }
            state = Int(fail[state])
        }
        let entry = dense[state * classCount + cls]
        return entry < 0 ? Int(entry & Int32.max) : Int(entry) / classCount
    }
}
