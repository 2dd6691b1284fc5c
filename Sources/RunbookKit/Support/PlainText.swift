extension String {
    /// The text with every `target` replaced by `replacement`, by a scan of
    /// UTF-8 bytes. The standard library's generic `replacing(_:with:)`
    /// instantiates so much type metadata at its first use that a job's
    /// command line cost its start a tenth of a millisecond.
    func replacingEvery(_ target: String, with replacement: String) -> String {
        let needle = Array(target.utf8)
        let bytes = Array(utf8)
        guard let first = needle.first, bytes.count >= needle.count else { return self }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == first, Self.bytes(bytes, at: index, are: needle) {
                result += replacement.utf8
                index += needle.count
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// What follows the first `marker` in the text, nil if it has none.
    func suffix(after marker: String) -> String? {
        let needle = Array(marker.utf8)
        let bytes = Array(utf8)
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        for start in 0...(bytes.count - needle.count) where Self.bytes(bytes, at: start, are: needle) {
            return String(decoding: bytes[(start + needle.count)...], as: UTF8.self)
        }
        return nil
    }

    /// Whether `needle` is in `bytes` at `index`.
    private static func bytes(_ bytes: [UInt8], at index: Int, are needle: [UInt8]) -> Bool {
        index + needle.count <= bytes.count && bytes[index..<(index + needle.count)].elementsEqual(needle)
    }
}
