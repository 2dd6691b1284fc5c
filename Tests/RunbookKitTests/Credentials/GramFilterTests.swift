import Testing
@testable import RunbookKit

@Suite("Gram filter")
struct GramFilterTests {
    /// Every hit on the grid that starts at `from`.
    func hits(_ filter: GramFilter, _ text: [UInt8], from: Int) -> [Int] {
        text.withUnsafeBytes { bytes in
            var found: [Int] = []
            var next = filter.firstHit(in: bytes, from: from)
            while let hit = next {
                #expect(hit >= from && (hit - from) % filter.step == 0 && hit + 4 <= text.count)
                found.append(hit)
                next = filter.firstHit(in: bytes, from: hit + filter.step)
            }
            return found
        }
    }

    /// The filter's one promise: every occurrence of a pattern at or after
    /// `from` holds a hit. Patterns from 4 bytes (step 1) to 40, over a
    /// small alphabet so that they overlap each other and the text.
    @Test("no occurrence is ever missed", arguments: [4, 5, 9, 23])
    func noFalseNegatives(_ shortest: Int) {
        var generator = SplitMix64(seed: UInt64(shortest))
        let alphabet = Array("abcd-_=\u{0}\u{ff}".utf8)
        for _ in 0..<40 {
            let patterns = (0..<Int.random(in: 1...30, using: &generator)).map { index in
                let length = index == 0 ? shortest : Int.random(in: shortest...40, using: &generator)
                return (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            }
            let filter = GramFilter(patterns: patterns)
            #expect(filter.step == shortest - 3)
            for _ in 0..<10 {
                var text: [UInt8] = []
                while text.count < 600 {
                    if Int.random(in: 0..<3, using: &generator) == 0 {
                        text += patterns.randomElement(using: &generator)!
                    } else {
                        text += (0..<Int.random(in: 1...20, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
                    }
                }
                let from = Int.random(in: 0..<50, using: &generator)
                let found = hits(filter, text, from: from)
                for pattern in patterns {
                    for start in from...(text.count - pattern.count) where text[start..<(start + pattern.count)].elementsEqual(pattern) {
                        #expect(found.contains { $0 >= start && $0 + 4 <= start + pattern.count },
                                "\(pattern) at \(start), from \(from)")
                    }
                }
            }
        }
    }

    @Test("text too short for a gram, or past its end, has no hit")
    func shortText() {
        let filter = GramFilter(patterns: [Array("abcd".utf8)])
        #expect(hits(filter, Array("abc".utf8), from: 0).isEmpty)
        #expect(hits(filter, Array("abcd".utf8), from: 0) == [0])
        #expect(hits(filter, Array("abcd".utf8), from: 1).isEmpty)
        #expect(hits(filter, [], from: 0).isEmpty)
    }

    @Test("long patterns are sampled sparsely; text without their grams is skipped")
    func sparse() {
        let secret = Array("bench-secret-17-kkkkkkkkkkkkkkkk".utf8)
        let filter = GramFilter(patterns: [secret])
        #expect(filter.step == secret.count - 3)
        let clean = Array(String(repeating: "2026-11-23T04:12:09.123Z DEBUG request 17 took 12 ms\n", count: 100).utf8)
        // Hash collisions are possible in principle, but not for these few grams.
        #expect(hits(filter, clean, from: 0).isEmpty)
        let dirty = clean + secret + clean
        #expect(!hits(filter, dirty, from: 0).isEmpty)
    }

    /// Fifty similar secrets in all their forms, against log lines of
    /// timestamps and numbers: few probes of clean text hit (each hit costs
    /// an automaton run), and every line with a secret does.
    @Test("clean log lines rarely hit")
    func falseHits() {
        let secrets = (0..<50).map { "bench-secret-\($0)-" + String(repeating: "k", count: 8 + $0 % 17) }
        let filter = GramFilter(patterns: secrets.flatMap { SecretEncodings.patterns(for: $0) })
        var cleanHits = 0
        var probes = 0
        for line in 0..<20_000 {
            let clean = Array("2026-11-23T04:12:09.123Z DEBUG request \(line) took \(line % 997) ms status=200 bytes=\(line * 7 % 65536)".utf8)
            cleanHits += hits(filter, clean, from: 0).count
            probes += (clean.count - 4) / filter.step + 1
            let dirty = Array("2026-11-23T04:12:09.123Z INFO connecting with token \(secrets[line % 50]) to api.example.invalid".utf8)
            #expect(!hits(filter, dirty, from: 0).isEmpty)
        }
        #expect(Double(cleanHits) / Double(probes) < 0.01, "\(cleanHits) of \(probes) probes hit")
    }
}
