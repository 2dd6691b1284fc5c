/// Replaces every injected secret, and its common encodings, with `***` in
/// a job's output, one line at a time.
///
/// It works on complete lines: the output recorder reassembles each stream
/// (stdout, stderr) into lines before masking, so a value written in pieces,
/// one character and one flush at a time, or interleaved with the other
/// stream, is masked like one written at once. It holds no state between
/// lines, so one masker serves both streams, and memory stays bounded by
/// the line being masked (plus the automaton, built once in `init`).
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
        let (intervals, _) = matches(in: line)
        guard !intervals.isEmpty else { return line }
        return ArraySlice(replacing(intervals, in: line, upTo: line.count))
    }

    /// One complete line (without its line end), masked.
    public func mask(line: [UInt8]) -> [UInt8] { Array(mask(line[...])) }

    /// Text masked line by line: for runbook's own notes and messages.
    public func mask(_ text: String) -> String {
        guard !isEmpty else { return text }
        let lines = Array(text.utf8).split(separator: 0x0a, omittingEmptySubsequences: false)
        return String(decoding: Array(lines.map { Array(mask($0)) }.joined(separator: [0x0a])), as: UTF8.self)
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
        let (intervals, open) = matches(in: partial)
        var cut = partial.count - open
        // A match that crosses the cut, or touches it while a match may
        // begin there, is held back whole, so it merges with what follows
        // exactly as it would in the complete line.
        if let crossing = intervals.last(where: { $0.start < cut }), crossing.end > cut || (crossing.end == cut && open > 0) {
            if crossing.start == 0, partial.count > holdLimit {
                return (replacing(intervals.filter { $0.end <= crossing.end }, in: partial, upTo: crossing.end), crossing.end)
            }
            cut = crossing.start
        }
        return (replacing(intervals.filter { $0.end <= cut }, in: partial, upTo: cut), cut)
    }

    /// The most `maskPartial` may leave unconsumed.
    public var holdLimit: Int { max(4096, 2 * longestPattern) }

    /// Merged match intervals (offsets from `bytes.startIndex`), sorted,
    /// and the length of the unfinished match at the end.
    private func matches(in bytes: ArraySlice<UInt8>) -> (intervals: [(start: Int, end: Int)], open: Int) {
        var intervals: [(start: Int, end: Int)] = []
        let open = bytes.withUnsafeBufferPointer { buffer in
            matcher.scan(buffer) { start, end in
                var start = start
                while let last = intervals.last, start <= last.end {
                    start = min(start, last.start)
                    intervals.removeLast()
                }
                intervals.append((start, end))
            }
        }
        return (intervals, open)
    }

    /// `bytes[..<limit]` with each interval replaced by `***`.
    private func replacing(_ intervals: [(start: Int, end: Int)], in bytes: ArraySlice<UInt8>, upTo limit: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(limit)
        let base = bytes.startIndex
        var position = 0
        for interval in intervals {
            out += bytes[(base + position)..<(base + interval.start)]
            out += Self.replacement
            position = interval.end
        }
        out += bytes[(base + position)..<(base + limit)]
        return out
    }
}

