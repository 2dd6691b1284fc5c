/// Line diffs in the unified format `diff -u` and git print, computed with
/// Myers' O(ND) algorithm.
public enum UnifiedDiff {
    enum Edit: Equatable { case same(Int, Int), delete(Int), insert(Int) }

    /// The unified diff from `old` to `new`, empty when they are equal.
    /// - Parameters:
    ///   - oldLabel/newLabel: the `---`/`+++` names.
    ///   - context: unchanged lines around each change.
    public static func make(old: String, new: String, oldLabel: String, newLabel: String, context: Int = 3) -> String {
        let a = lines(old), b = lines(new)
        let edits = script(a, b)
        guard edits.contains(where: { if case .same = $0 { return false }; return true }) else { return "" }
        var output = "--- \(oldLabel)\n+++ \(newLabel)\n"
        // Group edits into hunks separated by more than 2*context unchanged lines.
        var index = 0
        while index < edits.count {
            guard let firstChange = edits[index...].firstIndex(where: { if case .same = $0 { return false }; return true }) else { break }
            let start = max(index, firstChange - context)
            var end = firstChange
            var sameRun = 0
            var cursor = firstChange
            while cursor < edits.count {
                if case .same = edits[cursor] {
                    sameRun += 1
                    if sameRun > 2 * context { break }
                } else {
                    sameRun = 0
                    end = cursor
                }
                cursor += 1
            }
            let stop = min(edits.count, end + context + 1)
            let hunk = edits[start..<stop]
            var oldStart = 0, newStart = 0, oldCount = 0, newCount = 0
            var body = ""
            var first = true
            for edit in hunk {
                switch edit {
                case .same(let i, let j):
                    if first { oldStart = i; newStart = j }
                    oldCount += 1; newCount += 1
                    body += " \(a[i])\n"
                case .delete(let i):
                    if first { oldStart = i; newStart = newIndex(before: edit, in: edits, at: start) }
                    oldCount += 1
                    body += "-\(a[i])\n"
                case .insert(let j):
                    if first { newStart = j; oldStart = oldIndex(before: edit, in: edits, at: start) }
                    newCount += 1
                    body += "+\(b[j])\n"
                }
                first = false
            }
            output += "@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@\n" + body
            index = stop
        }
        return output
    }

    private static func range(_ start: Int, _ count: Int) -> String {
        let shown = count == 0 ? start : start + 1
        return count == 1 ? "\(shown)" : "\(shown),\(count)"
    }

    /// Where in `new` a hunk starting with a deletion begins.
    private static func newIndex(before edit: Edit, in edits: [Edit], at position: Int) -> Int {
        var j = 0
        for e in edits[..<position] {
            switch e {
            case .same(_, let n): j = n + 1
            case .insert(let n): j = n + 1
            case .delete: break
            }
        }
        return j
    }

    private static func oldIndex(before edit: Edit, in edits: [Edit], at position: Int) -> Int {
        var i = 0
        for e in edits[..<position] {
            switch e {
            case .same(let o, _): i = o + 1
            case .delete(let o): i = o + 1
            case .insert: break
            }
        }
        return i
    }

    static func lines(_ text: String) -> [Substring] {
        var result = text.split(separator: "\n", omittingEmptySubsequences: false)
        if result.last == "" { result.removeLast() }
        return result
    }

    /// The shortest edit script (Myers), as a sequence of same/delete/insert.
    static func script(_ a: [Substring], _ b: [Substring]) -> [Edit] {
        let n = a.count, m = b.count
        let max = n + m
        if max == 0 { return [] }
        var v = [Int](repeating: 0, count: 2 * max + 2)
        var trace: [[Int]] = []
        outer: for d in 0...max {
            trace.append(v)
            for k in stride(from: -d, through: d, by: 2) {
                var x: Int
                if k == -d || (k != d && v[k - 1 + max] < v[k + 1 + max]) {
                    x = v[k + 1 + max]
                } else {
                    x = v[k - 1 + max] + 1
                }
                var y = x - k
                while x < n && y < m && a[x] == b[y] { x += 1; y += 1 }
                v[k + max] = x
                if x >= n && y >= m { trace.append(v); break outer }
            }
        }
        // Walk back through the trace.
        var edits: [Edit] = []
        var x = n, y = m
        for d in stride(from: trace.count - 2, through: 0, by: -1) {
            let v = trace[d]
            let k = x - y
            let previousK: Int
            if k == -d || (k != d && v[k - 1 + max] < v[k + 1 + max]) {
                previousK = k + 1
            } else {
                previousK = k - 1
            }
            let previousX = v[previousK + max]
            let previousY = previousX - previousK
            while x > previousX && y > previousY {
                x -= 1; y -= 1
                edits.append(.same(x, y))
            }
            if d > 0 {
                if x == previousX { y -= 1; edits.append(.insert(y)) } else { x -= 1; edits.append(.delete(x)) }
            }
        }
        while x > 0 && y > 0 { x -= 1; y -= 1; edits.append(.same(x, y)) }
        return edits.reversed()
    }
}
