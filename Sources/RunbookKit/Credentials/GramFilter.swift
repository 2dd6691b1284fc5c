/// A quick, exact-by-construction test for where a set of byte patterns
/// (each at least 4 bytes long) may occur, so the automaton that finds
/// them runs only near those places and skips clean text.
///
/// It is a bitset of the hashed 4-byte substrings ("grams") of every
/// pattern, probed with one unaligned `UInt32` load at sampled positions:
/// every `step`th byte, where `step` is the shortest pattern's length
/// minus 3. Any occurrence of a pattern of length `L ≥ step + 3` covers
/// `L - 3 ≥ step` consecutive gram positions, so at least one sampled
/// position lies inside it, and that gram is in the set. So an occurrence
/// that begins at or after the first sampled position is never missed
/// (no false negatives); a hit may be a false one (a hash collision, or a
/// gram shared with ordinary text), which the automaton then rejects.
///
/// With long secrets the filter looks at a few bytes in twenty; with a
/// four-character one (step 1) at every byte, still without the
/// automaton's loop-carried state.
final class GramFilter: Sendable {
    /// The bitset: bit `h` is set when some gram hashes to `h`.
    private let words: [UInt64]
    /// `32 - log2(bit count)`: the hash keeps the product's top bits.
    private let shift: UInt32
    /// Distance between sampled positions: the shortest pattern minus 3.
    let step: Int
    /// For the grams in each of 2^`reachBits` buckets (by the hash's top
    /// bits): how far before a gram a pattern holding it can begin, and
    /// how far past the gram's end it can go. Together they bound where a
    /// match through a hit can lie, so the automaton checks only there.
    private let reachBefore: [Int32]
    private let reachAfter: [Int32]
    /// The longest `reachBefore`: no match through a hit begins further back.
    let maximumReachBefore: Int
    private static let reachBits: UInt32 = 12

    /// Fibonacci hashing: the top bits of the product mix all four bytes.
    private static let multiplier: UInt32 = 0x9E37_79B1

    /// - Parameter patterns: all at least 4 bytes long (shorter ones are
    ///   ignored: the masker never has them).
    init(patterns: [[UInt8]]) {
        let usable = patterns.filter { $0.count >= 4 }
        var distinct = Set<UInt32>()
        for pattern in usable {
            pattern.withUnsafeBytes { raw in
                for offset in 0...(raw.count - 4) { distinct.insert(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
            }
        }
        // About 256 bits a gram, from 2^12 bits to 2^22 (512 KiB): a probe
        // of clean text finds a bit set by chance about once in 256 (more
        // often with thousands of long secrets, which fill the largest
        // size). A false hit costs an automaton run over a window; 50
        // secrets in all their forms make a 32 KiB bitset.
        var bits: UInt32 = 12
        while bits < 22, 1 << bits < distinct.count * 256 { bits += 1 }
        var words = [UInt64](repeating: 0, count: 1 << (bits - 6))
        let shift = 32 - bits
        var reachBefore = [Int32](repeating: 0, count: 1 << Self.reachBits)
        var reachAfter = [Int32](repeating: 0, count: 1 << Self.reachBits)
        for pattern in usable {
            pattern.withUnsafeBytes { raw in
                for offset in 0...(raw.count - 4) {
                    let gram = raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
                    let hash = Self.hash(gram, shift: shift)
                    words[hash >> 6] |= 1 << UInt64(hash & 63)
                    let bucket = Self.hash(gram, shift: 32 - Self.reachBits)
                    reachBefore[bucket] = max(reachBefore[bucket], Int32(offset))
                    reachAfter[bucket] = max(reachAfter[bucket], Int32(raw.count - offset - 4))
                }
            }
        }
        self.words = words
        self.shift = shift
        self.reachBefore = reachBefore
        self.reachAfter = reachAfter
        self.maximumReachBefore = Int(reachBefore.max() ?? 0)
        self.step = max(1, (usable.map(\.count).min() ?? 4) - 3)
    }

    @inline(__always)
    private static func hash(_ gram: UInt32, shift: UInt32) -> Int {
        Int(truncatingIfNeeded: (gram &* multiplier) >> shift)
    }

    /// The first position of the grid `from`, `from + step`, `from + 2·step`,
    /// … in `bytes` whose gram is in the set, or nil when there is none.
    /// Every occurrence of a pattern lying wholly in `bytes[from...]`
    /// contains a position of that grid whose gram is in the set; to find
    /// them all, go on from `hit + step`, which keeps to the same grid.
    @inline(__always)
    func firstHit(in bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        let last = bytes.count - 4
        guard from <= last, let base = bytes.baseAddress else { return nil }
        let shift = self.shift
        let step = self.step
        return words.withUnsafeBufferPointer { words in
            @inline(__always) func probe(_ position: Int) -> Bool {
                let hash = Self.hash(base.loadUnaligned(fromByteOffset: position, as: UInt32.self), shift: shift)
                return words[hash &>> 6] & (1 &<< UInt64(hash & 63)) != 0
            }
            var position = from
            // Four probes a round, one branch for all four: clean text
            // rarely hits, and the probes do not depend on each other.
            while position &+ 3 &* step <= last {
                if probe(position) || probe(position &+ step) || probe(position &+ 2 &* step) || probe(position &+ 3 &* step) {
                    break
                }
                position &+= 4 &* step
            }
            while position <= last {
                if probe(position) { return position }
                position &+= step
            }
            return nil
        }
    }

    /// Where a match through the gram at `hit` can lie: from
    /// `reachBefore` bytes before it to `reachAfter` bytes past its end,
    /// clipped to `bytes`.
    func window(around hit: Int, in bytes: UnsafeRawBufferPointer) -> Range<Int> {
        let bucket = Self.hash(bytes.loadUnaligned(fromByteOffset: hit, as: UInt32.self), shift: 32 - Self.reachBits)
        return max(0, hit - Int(reachBefore[bucket]))..<min(bytes.count, hit + 4 + Int(reachAfter[bucket]))
    }
}
