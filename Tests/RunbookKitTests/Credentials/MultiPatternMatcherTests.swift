import Testing
@testable import RunbookKit

@Suite("Multi-pattern matcher")
struct MultiPatternMatcherTests {
    /// Every (start, end) of the longest match ending at each byte, found naively.
    func naive(_ patterns: [[UInt8]], _ text: [UInt8]) -> [Int: Int] {
        var longest: [Int: Int] = [:]
        for pattern in patterns where !pattern.isEmpty && pattern.count <= text.count {
            for start in 0...(text.count - pattern.count) where text[start..<(start + pattern.count)].elementsEqual(pattern) {
                longest[start + pattern.count] = max(longest[start + pattern.count] ?? 0, pattern.count)
            }
        }
        return longest
    }

    func found(_ matcher: MultiPatternMatcher, _ text: [UInt8]) -> [Int: Int] {
        var result: [Int: Int] = [:]
        _ = text.withUnsafeBytes { buffer in matcher.scan(buffer) { start, end in result[end] = end - start } }
        return result
    }

    /// Dense everywhere, dense only at the root, and a few dense states.
    @Test("agrees with a naive search on random text", arguments: [1 << 20, 1, 40])
    func randomAgreement(_ budgetRows: Int) {
        var generator = SplitMix64(seed: UInt64(budgetRows))
        let alphabet = Array("abcab".utf8) + [0x00, 0xff, 0x0a]
        for _ in 0..<60 {
            let patterns = (0..<Int.random(in: 1...12, using: &generator)).map { _ in
                (0..<Int.random(in: 1...9, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            }
            let matcher = MultiPatternMatcher(patterns: patterns, denseBudget: budgetRows == 1 << 20 ? budgetRows : budgetRows * 8)
            for _ in 0..<20 {
                var text: [UInt8] = []
                while text.count < 200 {
                    if Bool.random(using: &generator), let pattern = patterns.randomElement(using: &generator) {
                        text += pattern.prefix(Int.random(in: 1...pattern.count, using: &generator))
                    } else {
                        text.append(alphabet.randomElement(using: &generator)!)
                    }
                }
                #expect(found(matcher, text) == naive(patterns, text), "\(patterns) in \(text)")
            }
        }
    }

    @Test("the open length is the longest suffix that begins a pattern")
    func openLength() {
        let matcher = MultiPatternMatcher(patterns: [Array("hello".utf8), Array("help!".utf8)])
        func open(_ text: String) -> Int { Array(text.utf8).withUnsafeBytes { matcher.scan($0) { _, _ in } } }
        #expect(open("say hel") == 3)
        #expect(open("say hello") == 5)
        #expect(open("say h") == 1)
        #expect(open("say x") == 0)
        #expect(matcher.maximumLength == 5)
    }
}
