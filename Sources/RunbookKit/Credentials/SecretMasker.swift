/// Replaces every injected secret, and its common encodings, with `***` in
/// a job's output, one line at a time.
///
/// It works on complete lines: the output recorder reassembles each stream
/// (stdout, stderr) into lines before masking, so a value written in pieces,
/// one character and one flush at a time, or interleaved with the other
/// stream, is masked like one written at once. It holds no state between
/// lines, so one masker serves both streams, and memory stays bounded by
/// the line being masked (plus the automaton and its filter, built once in
/// `init`).
///
/// What is masked (see `SecretEncodings`): each secret of at least
/// `minimumLength` characters, quote-trimmed, base64 at every byte
/// alignment, percent-, JSON-, XML-escaped and more; for a multi-line
/// secret each of its lines (of at least `minimumLength` characters) and
/// the whole value in one-line encodings. Shorter secrets are not masked,
/// because they would blank out ordinary text; `isMaskable(_:)` tells which,
/// so `runbook check` can warn. Every match is masked, overlapping and
/// nested ones included, and touching or overlapping matches become one
/// `***`.
///
/// Not covered: a secret split across output lines by the program itself
/// (including base64 wrapped at 76 columns with the value straddling a
/// wrap), and transformations other than those listed.
public struct SecretMasker: Sendable {
    /// Secrets shorter than this (in characters) are not masked.
    public static let minimumLength = 4

    /// What a masked run of bytes becomes.
    public static let replacement: [UInt8] = Array(Secret.redacted.utf8)

    private let matcher: MultiPatternMatcher
    /// Where a pattern may occur: the automaton runs only near its hits.
    private let filter: GramFilter

    /// Builds the automaton for all forms of all `secrets` (linear in their
    /// total length; duplicates are ignored).
    public init(secrets: [Secret]) {
        var seen = Set<[UInt8]>()
        var patterns: [[UInt8]] = []
        for secret in secrets {
            for pattern in SecretEncodings.patterns(for: secret.reveal()) where seen.insert(pattern).inserted {
                patterns.append(pattern)
            }
        }
        matcher = MultiPatternMatcher(patterns: patterns)
        // Every pattern has at least `minimumLength` bytes (4), which the
        // filter's grams need.
        filter = GramFilter(patterns: patterns)
    }

    /// Whether `secret` is long enough to be masked. An empty value has
    /// nothing to mask and counts as maskable.
    public static func isMaskable(_ secret: Secret) -> Bool {
        secret.count == 0 || secret.count >= minimumLength
    }

    /// True when there is nothing to mask: `mask` returns its input.
    public var isEmpty: Bool { matcher.isEmpty }

    /// The longest byte string masked; an unfinished line needs at most this
    /// many bytes held back (see `maskPartial`).
    public var longestPattern: Int { matcher.maximumLength }

    /// One complete line (without its line end), masked. The input itself
    /// is returned, uncopied, when nothing in it matches.
    public func mask(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard !isEmpty else { return line }
        let intervals = line.withUnsafeBytes { matches(in: $0) }
        guard !intervals.isEmpty else { return line }
        var out: [UInt8] = []
        line.withUnsafeBytes { append($0, replacing: intervals, upTo: $0.count, to: &out) }
        return out[...]
    }

    /// One complete line (without its line end), masked.
    public func mask(line: [UInt8]) -> [UInt8] { Array(mask(line[...])) }

    /// Text masked line by line: for runbook's own notes and messages.
    public func mask(_ text: String) -> String {
        guard !isEmpty else { return text }
        let lines = Array(text.utf8).split(separator: 0x0a, omittingEmptySubsequences: false)
        return String(decoding: Array(lines.map { Array(mask($0)) }.joined(separator: [0x0a])), as: UTF8.self)
    }

    /// One complete line (without its line end) masked onto the end of
    /// `out`, for a caller that keeps one buffer for all lines. A line with
    /// up to 16 runs of secrets is masked without allocating.
    /// - Returns: false, leaving `out` as it was, when nothing in `line`
    ///   matches: the line stands as it is.
    func mask(_ line: UnsafeRawBufferPointer, appendingTo out: inout [UInt8]) -> Bool {
        guard !isEmpty else { return false }
        let masked: Bool? = withUnsafeTemporaryAllocation(of: Run.self, capacity: 16) { storage in
            var runs = RunList(storage: storage)
            forEachMatch(in: line) { runs.add($0, $1) }
            guard !runs.overflowed else { return nil }
            guard runs.count > 0 else { return false }
            append(line, replacing: UnsafeBufferPointer(rebasing: storage[..<runs.count]), upTo: line.count, to: &out)
            return true
        }
        if let masked { return masked }
        let runs = matches(in: line)
        append(line, replacing: runs, upTo: line.count, to: &out)
        return true
    }

    /// The first position in `bytes[from...]` where a secret may lie, or
    /// nil: for a caller that masks many lines of one buffer, which logs the
    /// lines before that position's line as they are, masks that line, and
    /// asks again from the start of the next one. No pattern contains
    /// `\n`, so a secret lies within one line, and a line that begins at or
    /// after `from` and ends before the returned position holds none.
    func firstCandidate(in bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        isEmpty ? nil : filter.firstHit(in: bytes, from: from)
    }

    /// Masks the part of an unfinished line that can be decided now, for a
    /// recorder that must cut an overlong line (it keeps at most 64 KiB).
    ///
    /// Bytes that could begin a secret continuing past `partial`'s end are
    /// not consumed: keep `partial[consumed...]` in front of what arrives
    /// next and mask it with it. So a secret straddling the cut is still
    /// masked whole, and the result is the same as masking the complete
    /// line. What is held back is at most `longestPattern` bytes, or a run
    /// of touching matches; a run longer than `holdLimit` (only a program
    /// printing secrets back to back for kilobytes makes one) is consumed
    /// up to its end.
    /// - Returns: the masked bytes to write now, and how many bytes of
    ///   `partial` they stand for: more than 0 whenever `partial.count`
    ///   exceeds `holdLimit`.
    public func maskPartial(_ partial: ArraySlice<UInt8>) -> (masked: [UInt8], consumed: Int) {
        guard !isEmpty else { return (Array(partial), partial.count) }
        return partial.withUnsafeBytes { bytes in
            let intervals = matches(in: bytes)
            let open = openLength(of: bytes)
            var cut = bytes.count - open
            var out: [UInt8] = []
            // A match that crosses the cut, or touches it while a match may
            // begin there, is held back whole, so it merges with what follows
            // exactly as it would in the complete line.
            if let crossing = intervals.last(where: { $0.start < cut }), crossing.end > cut || (crossing.end == cut && open > 0) {
                if crossing.start == 0, bytes.count > holdLimit {
                    append(bytes, replacing: intervals.filter { $0.end <= crossing.end }, upTo: crossing.end, to: &out)
                    return (out, crossing.end)
                }
                cut = crossing.start
            }
            append(bytes, replacing: intervals.filter { $0.end <= cut }, upTo: cut, to: &out)
            return (out, cut)
        }
    }

    /// The most `maskPartial` may leave unconsumed.
    public var holdLimit: Int { max(4096, 2 * longestPattern) }

    /// A run of masked bytes: `[start, end)` offsets.
    typealias Run = (start: Int, end: Int)

    /// Runs kept sorted as matches arrive in order of their ends: a match
    /// that touches or overlaps the last runs is merged with them.
    private struct RunList {
        let storage: UnsafeMutableBufferPointer<Run>
        var count = 0
        /// More runs than `storage` holds: the list is incomplete.
        var overflowed = false

        mutating func add(_ start: Int, _ end: Int) {
            var run = (start: start, end: end)
            while count > 0, run.start <= storage[count - 1].end {
                run = (min(run.start, storage[count - 1].start), max(run.end, storage[count - 1].end))
                count -= 1
            }
            guard count < storage.count else { overflowed = true; return }
            storage.baseAddress!.advanced(by: count).initialize(to: run)
            count += 1
        }
    }

    /// Every run of matched bytes in `bytes`, touching and overlapping
    /// matches merged, sorted.
    private func matches(in bytes: UnsafeRawBufferPointer) -> [Run] {
        var runs: [Run] = []
        forEachMatch(in: bytes) { start, end in
            var run = (start: start, end: end)
            while let last = runs.last, run.start <= last.end {
                run = (min(run.start, last.start), max(run.end, last.end))
                runs.removeLast()
            }
            runs.append(run)
        }
        return runs
    }

    /// Calls `found(start, end)` for matches in `bytes` whose union is that
    /// of all matches, in order of their ends.
    ///
    /// The automaton runs only over windows around the filter's hits, each
    /// as wide as a match through that hit's gram can reach (see
    /// `GramFilter.window`). Every match holds a hit and lies in its window,
    /// so scanning each window from the automaton's start finds every match
    /// (or a longer one ending at the same byte). Windows are joined when
    /// they touch, or when a later hit could still reach back into the
    /// current one (no hit begins a window more than `maximumReachBefore`
    /// bytes before it), so windows are scanned in order and never twice.
    private func forEachMatch(in bytes: UnsafeRawBufferPointer, _ found: (Int, Int) -> Void) {
        let step = filter.step
        let reachBefore = filter.maximumReachBefore
        var hit = filter.firstHit(in: bytes, from: 0)
        while let first = hit {
            var window = filter.window(around: first, in: bytes)
            var hits = 1
            hit = filter.firstHit(in: bytes, from: first + step)
            while let next = hit {
                let more = filter.window(around: next, in: bytes)
                guard more.lowerBound <= window.upperBound || next - reachBefore < window.upperBound else { break }
                window = min(window.lowerBound, more.lowerBound)..<max(window.upperBound, more.upperBound)
                hits += 1
                if hits > Self.hitsBeforeFullScan {
                    // The filter is not filtering here (text made of the
                    // secrets' bytes): the automaton takes the rest. No
                    // match begins before this window and ends in it.
                    window = window.lowerBound..<bytes.count
                    hit = nil
                    break
                }
                hit = filter.firstHit(in: bytes, from: next + step)
            }
            let offset = window.lowerBound
            _ = matcher.scan(UnsafeRawBufferPointer(rebasing: bytes[window])) { start, end in found(start + offset, end + offset) }
        }
    }

    /// Hits in one window past which the rest of the text is scanned whole.
    private static let hitsBeforeFullScan = 4

    /// The length of the longest suffix of `bytes` that begins a pattern
    /// (what a match could still grow from): it is never longer than
    /// `longestPattern`, so the automaton reads only that many last bytes.
    private func openLength(of bytes: UnsafeRawBufferPointer) -> Int {
        let tail = UnsafeRawBufferPointer(rebasing: bytes[max(0, bytes.count - matcher.maximumLength)...])
        return matcher.scan(tail) { _, _ in }
    }

    /// `bytes[..<limit]` with each interval replaced by `***`, appended to `out`.
    private func append(_ bytes: UnsafeRawBufferPointer, replacing intervals: some Collection<Run>, upTo limit: Int,
                        to out: inout [UInt8]) {
        out.reserveCapacity(out.count + limit)
        var position = 0
        for interval in intervals {
            out += UnsafeRawBufferPointer(rebasing: bytes[position..<interval.start]).assumingMemoryBound(to: UInt8.self)
            out += Self.replacement
            position = interval.end
        }
        out += UnsafeRawBufferPointer(rebasing: bytes[position..<limit]).assumingMemoryBound(to: UInt8.self)
    }
}
