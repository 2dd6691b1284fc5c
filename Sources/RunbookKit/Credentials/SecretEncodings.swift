/// The byte strings a secret can show up as in a job's output, which the
/// masker replaces. For a one-line value of at least
/// `SecretMasker.minimumLength` characters:
/// - the value itself, and quote-trimmed (surrounding whitespace and
///   `"` `'` `` ` `` removed) when that is still long enough;
/// - base64, standard and URL-safe alphabets: for each of the three byte
///   alignments the value can have inside a longer encoded stream (offset 0,
///   1 or 2 mod 3), the run of characters that depends on the value's bytes
///   alone; and the value encoded on its own (with and without padding, and
///   with a trailing newline as `echo $X | base64` encodes it);
/// - percent-encoding as common encoders write it: RFC 3986 (`%20`, upper-
///   and lower-case hex), forms (`+` for space), JavaScript's
///   `encodeURIComponent`, Python's `quote` (keeps `/`);
/// - JSON string escapes (plain, `\/`, ASCII-only `\u00e9`, Go's HTML-safe
///   `\u003c`), XML/HTML escapes (`&amp;` with each common spelling of the
///   quotes), Python's `repr` and bash's `'\''` quoting.
///
/// A multi-line value contributes each of its lines that is long enough (as
/// above), and, up to `wholeValueLimit` bytes, the whole value in the
/// encodings that fit on one line (JSON, percent, base64), with and without
/// its trailing line end.
enum SecretEncodings {
    /// Multi-line values longer than this (a certificate bundle) are masked
    /// by their lines only, which keeps the automaton small.
    static let wholeValueLimit = 16 * 1024

    /// All forms of `value`, without duplicates, each at least
    /// `SecretMasker.minimumLength` bytes long.
    static func patterns(for value: String) -> [[UInt8]] {
        var found = Set<[UInt8]>()
        var ordered: [[UInt8]] = []
        func add(_ pattern: [UInt8]) {
            if pattern.count >= SecretMasker.minimumLength, found.insert(pattern).inserted { ordered.append(pattern) }
        }
        if value.utf8.contains(0x0a) {
            for line in value.split(whereSeparator: \.isLineEnd).map(String.init) {
                if line.count >= SecretMasker.minimumLength { oneLineForms(line).forEach(add) }
            }
            var whole = value
            var variants = [value]
            while let last = whole.last, last.isLineEnd { whole.removeLast() }
            if whole != value { variants.append(whole) }
            for variant in variants where variant.count >= SecretMasker.minimumLength && variant.utf8.count <= wholeValueLimit {
                jsonForms(variant).forEach(add)
                percentForms(variant).forEach(add)
                base64Forms(Array(variant.utf8)).forEach(add)
            }
        } else if value.count >= SecretMasker.minimumLength {
            oneLineForms(value).forEach(add)
        }
        return ordered
    }

    static func oneLineForms(_ value: String) -> [[UInt8]] {
        var bases = [value]
        let trimmed = trimmingQuotes(value)
        if trimmed != value, trimmed.count >= SecretMasker.minimumLength { bases.append(trimmed) }
        var forms: [[UInt8]] = []
        for base in bases {
            forms.append(Array(base.utf8))
            forms += jsonForms(base)
            forms += xmlForms(base)
            forms += percentForms(base)
            forms += base64Forms(Array(base.utf8))
            forms.append(pythonRepr(base))
            forms.append(Array(base.replacingEvery("'", with: "'\\''").utf8))
        }
        return forms
    }

    static func trimmingQuotes(_ value: String) -> String {
        let strip: Set<Character> = ["\"", "'", "`"]
        var slice = value[...]
        while let first = slice.first, first.isWhitespace || strip.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace || strip.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }

    // MARK: base64

    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlSafeAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func base64Forms(_ bytes: [UInt8]) -> [[UInt8]] {
        var forms: [[UInt8]] = []
        for alphabet in [standardAlphabet, urlSafeAlphabet] {
            for offset in 0..<3 {
                // Character j covers bits [6j, 6j+6) of the stream; keep those
                // entirely inside the value's bits [8·offset, 8·(offset+n)).
                let encoded = base64(Array(repeating: 0, count: offset) + bytes, alphabet: alphabet, padded: false)
                let first = (8 * offset + 5) / 6
                let last = (8 * (offset + bytes.count) - 6) / 6
                if last >= first { forms.append(Array(encoded[first...last])) }
            }
            forms.append(base64(bytes, alphabet: alphabet, padded: true))
            forms.append(base64(bytes + [0x0a], alphabet: alphabet, padded: true))
        }
        return forms
    }

    static func base64(_ bytes: [UInt8], alphabet: [UInt8], padded: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            let available = min(3, bytes.count - index)
            for position in 0..<4 {
                if position <= available {
                    out.append(alphabet[Int(group >> UInt32(18 - 6 * position) & 0x3f)])
                } else if padded {
                    out.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return out
    }

    // MARK: Percent-encoding

    private static let alphanumerics = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8))
    /// RFC 3986 unreserved: Python `quote(safe='')`, Go `QueryEscape`, PHP `rawurlencode`.
    private static let unreserved = alphanumerics.union("-._~".utf8)
    /// JavaScript `encodeURIComponent`.
    private static let javaScriptSafe = alphanumerics.union("-_.!~*'()".utf8)
    /// Python `quote` with its default `safe='/'`.
    private static let pythonSafe = unreserved.union("/".utf8)
    /// `application/x-www-form-urlencoded` (WHATWG, Java `URLEncoder`).
    private static let formSafe = alphanumerics.union("*-._".utf8)

    static func percentForms(_ value: String) -> [[UInt8]] {
        let bytes = Array(value.utf8)
        return [
            percent(bytes, safe: unreserved, plusForSpace: false, lowercase: false),
            percent(bytes, safe: unreserved, plusForSpace: true, lowercase: false),
            percent(bytes, safe: unreserved, plusForSpace: false, lowercase: true),
            percent(bytes, safe: javaScriptSafe, plusForSpace: false, lowercase: false),
            percent(bytes, safe: pythonSafe, plusForSpace: false, lowercase: false),
            percent(bytes, safe: formSafe, plusForSpace: true, lowercase: false),
        ]
    }

    static func percent(_ bytes: [UInt8], safe: Set<UInt8>, plusForSpace: Bool, lowercase: Bool) -> [UInt8] {
        let digits = Array((lowercase ? "0123456789abcdef" : "0123456789ABCDEF").utf8)
        var out: [UInt8] = []
        for byte in bytes {
            if safe.contains(byte) {
                out.append(byte)
            } else if byte == 0x20, plusForSpace {
                out.append(UInt8(ascii: "+"))
            } else {
                out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0xf)]]
            }
        }
        return out
    }

    // MARK: JSON, XML, Python

    static func jsonForms(_ value: String) -> [[UInt8]] {
        [
            json(value, escapeSlash: false, asciiOnly: false, htmlSafe: false),  // JavaScript, Go without HTML
            json(value, escapeSlash: true, asciiOnly: false, htmlSafe: false),   // Swift JSONEncoder
            json(value, escapeSlash: false, asciiOnly: true, htmlSafe: false),   // Python json.dumps
            json(value, escapeSlash: true, asciiOnly: true, htmlSafe: false),    // PHP json_encode
            json(value, escapeSlash: false, asciiOnly: false, htmlSafe: true),   // Go encoding/json
        ]
    }

    static func json(_ value: String, escapeSlash: Bool, asciiOnly: Bool, htmlSafe: Bool) -> [UInt8] {
        var out = ""
        func unicode(_ unit: UInt16) {
            let hex = String(unit, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "/": out += escapeSlash ? "\\/" : "/"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0c}": out += "\\f"
            default:
                if htmlSafe, ["<", ">", "&", "\u{2028}", "\u{2029}"].contains(scalar) {
                    unicode(UInt16(scalar.value))
                } else if scalar.value < 0x20 || (asciiOnly && scalar.value > 0x7f) {
                    for unit in String(scalar).utf16 { unicode(unit) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return Array(out.utf8)
    }

    static func xmlForms(_ value: String) -> [[UInt8]] {
        [
            xml(value, quote: nil, apostrophe: nil),
            xml(value, quote: "&quot;", apostrophe: "&apos;"),
            xml(value, quote: "&quot;", apostrophe: "&#x27;"),  // Python html.escape
            xml(value, quote: "&#34;", apostrophe: "&#39;"),    // Go html.EscapeString
        ]
    }

    static func xml(_ value: String, quote: String?, apostrophe: String?) -> [UInt8] {
        var out = ""
        for character in value {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += quote ?? "\""
            case "'": out += apostrophe ?? "'"
            default: out.append(character)
            }
        }
        return Array(out.utf8)
    }

    /// The inside of Python 3's `repr()` of the string, as tracebacks show it.
    static func pythonRepr(_ value: String) -> [UInt8] {
        let escapeApostrophe = value.contains("'") && value.contains("\"")
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "'" where escapeApostrophe: out += "\\'"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count < 2 ? "0" : "") + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return Array(out.utf8)
    }
}

private extension String {
    func replacingEvery(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
