import Testing
@testable import RunbookKit

@Suite("Unified diff")
struct UnifiedDiffTests {
    @Test func equalTextsHaveNoDiff() {
        #expect(UnifiedDiff.make(old: "a\nb\n", new: "a\nb\n", oldLabel: "a", newLabel: "b") == "")
    }

    @Test func appendedLine() {
        let diff = UnifiedDiff.make(old: "1\n2\n3\n4\n5\n", new: "1\n2\n3\n4\n5\n6\n", oldLabel: "old", newLabel: "new")
        #expect(diff == """
            --- old
            +++ new
            @@ -3,3 +3,4 @@
             3
             4
             5
            +6

            """)
    }

    @Test func changeAtTheTopAndFarApartHunks() {
        let old = (1...20).map(String.init).joined(separator: "\n") + "\n"
        var lines = (1...20).map(String.init)
        lines[0] = "one"
        lines[19] = "twenty"
        let diff = UnifiedDiff.make(old: old, new: lines.joined(separator: "\n") + "\n", oldLabel: "a", newLabel: "b")
        #expect(diff == """
            --- a
            +++ b
            @@ -1,4 +1,4 @@
            -1
            +one
             2
             3
             4
            @@ -17,4 +17,4 @@
             17
             18
             19
            -20
            +twenty

            """)
    }

    @Test func fromEmpty() {
        #expect(UnifiedDiff.make(old: "", new: "x\n", oldLabel: "a", newLabel: "b") == "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n")
    }

    /// The script always rebuilds the new text from the old.
    @Test(arguments: [("abcabba", "cbabac"), ("", "abc"), ("abc", ""), ("xaxbx", "abx"), ("aaaa", "aa")])
    func scriptTransforms(old: String, new: String) {
        let a = old.map { Substring(String($0)) }, b = new.map { Substring(String($0)) }
        var rebuilt: [Substring] = []
        var deletions = 0, insertions = 0
        for edit in UnifiedDiff.script(a, b) {
            switch edit {
            case .same(let i, _): rebuilt.append(a[i])
            case .insert(let j): rebuilt.append(b[j]); insertions += 1
            case .delete: deletions += 1
            }
        }
        #expect(rebuilt == b)
        #expect(a.count - deletions + insertions == b.count)
    }
}
