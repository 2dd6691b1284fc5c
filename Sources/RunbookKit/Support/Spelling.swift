/// Suggestions for misspelt names ("did you mean 'timeout'?").
enum Spelling {
    /// The Levenshtein distance between `a` and `b`, by Characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        var row = Array(0...y.count)
        for i in stride(from: 1, through: x.count, by: 1) {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: y.count, by: 1) {
                let old = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (x[i - 1] == y[j - 1] ? 0 : 1))
                previous = old
            }
        }
        return row[y.count]
    }

    /// The candidate closest to `word`, if close enough to be a plausible typo
    /// (at most 2 edits, or a third of the word's length).
    static func nearest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word, $0)) }.min { $0.1 < $1.1 }
        guard let (candidate, distance) = scored, distance <= max(2, word.count / 3) else { return nil }
        return candidate
    }
}
