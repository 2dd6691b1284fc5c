import Foundation
import Testing
@testable import RunbookKit

@Suite("Secret masker")
struct SecretMaskerTests {
    func masker(_ secrets: [String]) -> SecretMasker { SecretMasker(secrets: secrets.map(Secret.init)) }

    func mask(_ secrets: [String], _ line: String) -> String {
        String(decoding: masker(secrets).mask(line: Array(line.utf8)), as: UTF8.self)
    }

    @Test("plain, and at line start, end and alone", arguments: [
        ("token is hunter22 ok", "token is *** ok"),
        ("hunter22 at start", "*** at start"),
        ("at end hunter22", "at end ***"),
        ("hunter22", "***"),
        ("hunter22hunter22 twice hunter22", "*** twice ***"),
        ("hunter2 is shorter", "hunter2 is shorter"),
        ("HUNTER22 differs in case", "HUNTER22 differs in case"),
    ])
    func plain(_ line: String, _ expected: String) {
        #expect(mask(["hunter22"], line) == expected)
    }

    @Test("values under four characters are not masked, and are flagged")
    func short() {
        #expect(mask(["abc", "xy"], "abc xy abcd") == "abc xy abcd")
        #expect(masker(["abc"]).isEmpty)
        #expect(!SecretMasker.isMaskable(Secret("abc")))
        #expect(SecretMasker.isMaskable(Secret("abcd")))
        #expect(SecretMasker.isMaskable(Secret("")))
        #expect(mask(["abcd"], "xabcdx") == "x***x")
        #expect(mask(["äöü€"], "is äöü€.") == "is ***.")
    }

    @Test("overlapping, nested and touching secrets are all masked", arguments: [
        (["abcdef", "defghi"], "xxabcdefghixx", "xx***xx"),
        (["abcdefgh", "cdef"], "1abcdefgh2cdef3", "1***2***3"),
        (["aaaa", "bbbb"], "-aaaabbbb-", "-***-"),
        (["aaaa"], "aaaaaaa", "***"),
        (["abab"], "abababab", "***"),
        (["secret-one", "one-two", "two-three"], "[secret-one-two-three]", "[***]"),
        (["wxyz", "1234"], "wxyz 1234", "*** ***"),
    ])
    func overlapping(_ secrets: [String], _ line: String, _ expected: String) {
        #expect(mask(secrets, line) == expected)
    }

    static let awkward = "p\"a\\ss/wörd<&>' x+y"

    @Test("JSON as encoders write it", arguments: [
        // JavaScript JSON.stringify, Go without HTML escaping
        #"{"token":"p\"a\\ss/wörd<&>' x+y"}"#,
        // Swift JSONEncoder, JSONSerialization
        #"{"token":"p\"a\\ss\/wörd<&>' x+y"}"#,
        // Python json.dumps
        #"{"token":"p\"a\\ss/w\u00f6rd<&>' x+y"}"#,
        // PHP json_encode
        #"{"token":"p\"a\\ss\/w\u00f6rd<&>' x+y"}"#,
        // Go encoding/json
        #"{"token":"p\"a\\ss/wörd\u003c\u0026\u003e' x+y"}"#,
    ])
    func json(_ line: String) {
        #expect(mask([Self.awkward], line) == #"{"token":"***"}"#)
    }

    @Test("JSON from Foundation's encoders")
    func foundationJSON() throws {
        let serialized = try JSONSerialization.data(withJSONObject: ["token": Self.awkward])
        #expect(String(decoding: masker([Self.awkward]).mask(line: Array(serialized)), as: UTF8.self) == #"{"token":"***"}"#)
        let encoded = try JSONEncoder().encode(["token": Self.awkward])
        #expect(String(decoding: masker([Self.awkward]).mask(line: Array(encoded)), as: UTF8.self) == #"{"token":"***"}"#)
    }

    @Test("XML and HTML escapes", arguments: [
        "<v>p\"a\\ss/wörd&lt;&amp;&gt;' x+y</v>",
        "<v>p&quot;a\\ss/wörd&lt;&amp;&gt;&apos; x+y</v>",
        "<v>p&quot;a\\ss/wörd&lt;&amp;&gt;&#x27; x+y</v>",
        "<v>p&#34;a\\ss/wörd&lt;&amp;&gt;&#39; x+y</v>",
    ])
    func xml(_ line: String) {
        #expect(mask([Self.awkward], line) == "<v>***</v>")
    }

    @Test("percent-encoding, with %20 and + for space")
    func url() throws {
        let secret = "p@ss w/rd&k=v~ü"
        var unreserved = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        unreserved.insert(charactersIn: "-._~")
        let encoded = try #require(secret.addingPercentEncoding(withAllowedCharacters: unreserved))
        #expect(encoded.contains("%20"))
        let lines = [
            "GET /api?key=\(encoded)&x=1",
            "GET /api?key=\(encoded.replacingOccurrences(of: "%20", with: "+"))&x=1",
            "GET /api?key=\(encoded.lowercased().replacingOccurrences(of: "get", with: "GET"))&x=1",
            "GET /api?key=\(encoded.replacingOccurrences(of: "%2F", with: "/"))&x=1",  // Python quote()
        ]
        for line in lines { #expect(mask([secret], line) == "GET /api?key=***&x=1", "\(line)") }
    }

    @Test("quote-trimmed, Python repr and bash xtrace quoting")
    func quoting() {
        #expect(mask(["\"quoted secret\""], "value: quoted secret.") == "value: ***.")
        #expect(mask(["  'spaced out'  "], "[spaced out]") == "[***]")
        #expect(mask(["C:\\path\\s3cr3t"], "KeyError: 'C:\\\\path\\\\s3cr3t'") == "KeyError: '***'")
        #expect(mask(["it's \"x\" now"], #"ValueError: 'it\'s "x" now'"#) == "ValueError: '***'")
        #expect(mask(["it's-a-secret"], #"+ curl -u 'user:it'\''s-a-secret'"#) == "+ curl -u 'user:***'")
    }

    @Test("a secret inside a Python traceback")
    func traceback() {
        let secret = "S3cr3t-Pa55!"
        let traceback = """
        Traceback (most recent call last):
          File "/tmp/job/sync.py", line 12, in <module>
            login(user, "S3cr3t-Pa55!")
          File "/tmp/job/sync.py", line 5, in login
            raise PermissionError(f"login failed for {password!r}")
        PermissionError: login failed for 'S3cr3t-Pa55!'
        """
        let masker = masker([secret])
        let out = traceback.split(separator: "\n").map { masker.mask(String($0)) }
        #expect(out[2] == "    login(user, \"***\")")
        #expect(out[5] == "PermissionError: login failed for '***'")
        #expect(out.allSatisfy { !$0.contains("S3cr3t") && !$0.contains("Pa55") })
        #expect(out[1] == "  File \"/tmp/job/sync.py\", line 12, in <module>")
    }

    static let base64Secrets = ["hunter22", "correct horse battery staple", "ä€𝄞 unicode", "x\u{1}\u{7f}y", "abcd", "abcde", "abcdef"]

    /// The value embedded in a longer stream at every offset, encoded by
    /// Foundation: only the characters that mix in neighbouring bytes (at
    /// most one at each end) may remain, besides padding.
    @Test("base64 at each byte alignment, in a longer stream", arguments: base64Secrets)
    func base64(_ secret: String) throws {
        let masker = masker([secret])
        let value = Array(secret.utf8)
        for prefix in 0...5 {
            for suffix in 0...4 {
                let stream = Array("{\"user\"".utf8.prefix(prefix)) + value + Array("\":1}".utf8.prefix(suffix))
                let standard = Data(stream).base64EncodedString()
                let urlSafe = standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                    .replacingOccurrences(of: "=", with: "")
                for encoded in [standard, urlSafe] {
                    let out = masker.mask(encoded)
                    let parts = out.components(separatedBy: "***")
                    try #require(parts.count == 2, "\(prefix)/\(suffix) \(encoded) → \(out)")
                    // Characters before the first one made of the value's bits alone,
                    // and after the last one.
                    let firstOwn = (8 * prefix + 5) / 6
                    let lastOwn = (8 * (prefix + value.count) - 6) / 6
                    let unpadded = encoded.replacingOccurrences(of: "=", with: "")
                    #expect(encoded.hasPrefix(parts[0]) && parts[0].count <= firstOwn, "\(prefix)/\(suffix) \(encoded) → \(out)")
                    let tail = parts[1].replacingOccurrences(of: "=", with: "")
                    #expect(encoded.hasSuffix(parts[1]) && tail.count <= unpadded.count - 1 - lastOwn,
                            "\(prefix)/\(suffix) \(encoded) → \(out)")
                }
            }
        }
    }

    @Test("base64 of the value alone, and as echo | base64 writes it")
    func base64Alone() {
        let masker = masker(["hunter22"])
        #expect(masker.mask("auth: " + Data("hunter22".utf8).base64EncodedString()) == "auth: ***")
        #expect(masker.mask("auth: " + Data("hunter22\n".utf8).base64EncodedString()) == "auth: ***")
        #expect(masker.mask("Authorization: Basic " + Data("ops:hunter22".utf8).base64EncodedString()).hasSuffix("***"))
    }

    static let pem = """
    -----BEGIN PRIVATE KEY-----
    MIIEvQIBADANBgkqhkiG9w0BAQEFAASC
    BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKB
    xyz
    -----END PRIVATE KEY-----

    """

    @Test("a multi-line secret is masked line by line and whole")
    func multiline() throws {
        let masker = masker([Self.pem])
        for line in Self.pem.split(separator: "\n") where line.count >= 4 {
            #expect(masker.mask(String(line)) == "***")
            #expect(masker.mask("  " + line + "\r") == "  ***\r")
        }
        #expect(masker.mask("xyz") == "xyz")
        let json = String(decoding: try JSONSerialization.data(withJSONObject: ["key": Self.pem]), as: UTF8.self)
        #expect(masker.mask(json) == #"{"key":"***"}"#)
        let trimmed = String(Self.pem.dropLast())
        let json2 = String(decoding: try JSONEncoder().encode(["key": trimmed]), as: UTF8.self)
        #expect(masker.mask(json2) == #"{"key":"***"}"#)
        let base64 = Data(Self.pem.utf8).base64EncodedString()
        #expect(masker.mask(base64) == "***")
        let pemCRLF = Self.pem.replacingOccurrences(of: "\n", with: "\r\n")
        for line in pemCRLF.split(separator: "\r\n") where line.count >= 4 {
            #expect(SecretMasker(secrets: [Secret(pemCRLF)]).mask(String(line)) == "***")
        }
    }

    @Test("bytes that are not UTF-8 pass through around a masked secret")
    func nonUTF8() {
        let masker = masker(["hunter22", "pässwörd"])
        let line: [UInt8] = [0xff, 0xfe] + Array("hunter22".utf8) + [0x80, 0xc3] + Array("pässwörd".utf8) + [0xc3]
        #expect(masker.mask(line: line) == [0xff, 0xfe] + Array("***".utf8) + [0x80, 0xc3] + Array("***".utf8) + [0xc3])
        let binary = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        #expect(masker.mask(line: binary) == binary)
    }

    @Test("many secrets at once")
    func many() {
        var generator = SplitMix64(seed: 42)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        let secrets = (0..<300).map { _ in
            String((0..<Int.random(in: 8...48, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        }
        let masker = masker(secrets)
        for index in 0..<1000 {
            let chosen = secrets.randomElement(using: &generator)!
            let other = secrets.randomElement(using: &generator)!
            let line = "line \(index): key=\(chosen) b64=\(Data(other.utf8).base64EncodedString()) end"
            let out = masker.mask(line)
            #expect(!out.contains(chosen) && !out.contains(other))
            #expect(out.hasPrefix("line \(index): key=***") && out.hasSuffix(" end"), "\(out)")
        }
    }

    @Test("1 MB of lines without secrets passes through uncopied")
    func noSecrets() {
        let masker = masker((0..<50).map { "s3cret-value-number-\($0)-zq" })
        var total = 0
        var index = 0
        while total < 1 << 20 {
            let line = Array("2026-11-23 04:00:\(index % 60) INFO processed batch \(index) of records, 17 skipped; took 12ms".utf8)
            let slice = line[...]
            let out = masker.mask(slice)
            #expect(out == slice)
            let same = slice.withUnsafeBufferPointer { a in out.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
            #expect(same)
            total += line.count + 1
            index += 1
        }
    }

    @Test("an empty masker returns its input")
    func empty() {
        let masker = SecretMasker(secrets: [])
        #expect(masker.isEmpty)
        #expect(masker.mask("anything") == "anything")
        #expect(masker.maskPartial(Array("abc".utf8)[...]).consumed == 3)
    }

    /// A miniature of OutputRecorder: bytes arrive in reads per stream, are
    /// assembled into lines, masked, and logged as `out|err TEXT`.
    struct Recorder {
        let masker: SecretMasker
        var pending: [String: [UInt8]] = [:]
        var log: [String] = []

        mutating func append(_ bytes: [UInt8], from stream: String) {
            var line = pending[stream] ?? []
            for byte in bytes {
                if byte == 0x0a {
                    log.append(stream + " " + String(decoding: masker.mask(line[...]), as: UTF8.self))
                    line.removeAll()
                } else {
                    line.append(byte)
                }
            }
            pending[stream] = line
        }
    }

    @Test("split across single-byte reads, with the other stream interleaved")
    func splitReads() {
        let secret = "hunter22-and-more"
        var recorder = Recorder(masker: masker([secret]))
        let out = Array("password: \(secret)\n".utf8)
        let err = Array("warning: \(secret) is weak\n".utf8)
        for index in 0..<max(out.count, err.count) {
            if index < out.count { recorder.append([out[index]], from: "out") }
            if index < err.count { recorder.append([err[index]], from: "err") }
        }
        #expect(recorder.log.sorted() == ["err warning: *** is weak", "out password: ***"])
    }

    @Test("an overlong line cut anywhere is masked as if whole", arguments: [1, 2, 3, 7, 16, 40])
    func partial(_ fragment: Int) {
        let masker = masker(["S3CRET-VALUE-ONE", "two-S3CRET", "3333"])
        let line = Array("a S3CRET-VALUE-ONE b two-S3CRET c 3333two-S3CRETS3CRET-VALUE-ONE d \(Data("two-S3CRET".utf8).base64EncodedString()) e".utf8)
        let expected = masker.mask(line: line)
        var carry: [UInt8] = []
        var out: [UInt8] = []
        var position = 0
        while position < line.count {
            carry += line[position..<min(line.count, position + fragment)]
            position += fragment
            let (masked, consumed) = masker.maskPartial(carry[...])
            out += masked
            carry.removeFirst(consumed)
            #expect(carry.count <= 2 * masker.longestPattern)
        }
        out += masker.mask(line: carry)
        #expect(String(decoding: out, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
    }

    @Test("random lines cut at random places mask as if whole")
    func partialRandom() {
        var generator = SplitMix64(seed: 7)
        let secrets = ["abcd", "bcdx", "xyzzy-secret", "cdcdcd", "abab"]
        let masker = masker(secrets)
        let pieces = secrets + ["a", "b", "c", "d", "x", " ", "ab", "cd"]
        for _ in 0..<300 {
            var line: [UInt8] = []
            while line.count < 120 { line += pieces.randomElement(using: &generator)!.utf8 }
            let expected = masker.mask(line: line)
            let out = maskInPieces(line, with: masker, upTo: 30, using: &generator)
            #expect(out == expected, "\(String(decoding: line, as: UTF8.self))")
        }
    }

    @Test("a long run of secrets is consumed; a short one is held")
    func partialDegenerate() {
        let masker = masker(["abcd"])
        let run = Array(String(repeating: "abcd", count: 2000).utf8)
        let (masked, consumed) = masker.maskPartial(run[...])
        #expect(consumed == run.count)
        #expect(masked == Array("***".utf8))
        let short = masker.maskPartial(Array("abcdabcdab".utf8)[...])
        #expect(short.consumed == 0)
        let prefix = masker.maskPartial(Array("xyzab".utf8)[...])
        #expect(prefix.consumed == 3)
        #expect(prefix.masked == Array("xyz".utf8))
    }

    /// The filter must never let the automaton skip a secret: masking,
    /// whole and cut at random places, agrees with masking by definition.
    @Test("masking agrees with a naive search for every form, whole and cut", arguments: [(1, 4), (2, 5), (3, 8), (4, 20)])
    func agreesWithNaive(_ seed: UInt64, _ shortest: Int) {
        var fuzz = MaskingFuzz(seed: seed, shortest: shortest)
        let masker = SecretMasker(secrets: fuzz.secrets.map(Secret.init))
        let naive = NaiveMasker(secrets: fuzz.secrets)
        for _ in 0..<300 {
            let line = fuzz.line(length: Int.random(in: 0...600, using: &fuzz.generator))
            let expected = naive.mask(line)
            #expect(masker.mask(line: line) == expected, "\(fuzz.secrets) in \(String(decoding: line, as: UTF8.self))")
            let out = maskInPieces(line, with: masker, upTo: 80, using: &fuzz.generator)
            #expect(out == expected, "\(fuzz.secrets) in \(String(decoding: line, as: UTF8.self)), cut")
        }
    }

    /// Masks `line` fed in random pieces of 1 to `longest` bytes, as the
    /// recorder feeds a line that arrives over several reads.
    func maskInPieces(_ line: [UInt8], with masker: SecretMasker, upTo longest: Int,
                      using generator: inout some RandomNumberGenerator) -> [UInt8] {
        var carry: [UInt8] = []
        var out: [UInt8] = []
        var position = 0
        while position < line.count {
            let size = Int.random(in: 1...longest, using: &generator)
            carry += line[position..<min(line.count, position + size)]
            position += size
            let (masked, consumed) = masker.maskPartial(carry[...])
            out += masked
            carry.removeFirst(consumed)
        }
        return out + masker.mask(line: carry)
    }

    @Test("text masking keeps line ends")
    func text() {
        #expect(masker(["hunter22"]).mask("a hunter22\nb\n\nhunter22") == "a ***\nb\n\n***")
    }
}
