import Foundation
import Glibc
@testable import RunbookKit

/// A fresh `mkdtemp` directory for one credentials test, removed on deinit.
final class CredentialsScratch: @unchecked Sendable {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/runbook-credentials-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` to `name` with `mode` (exactly, whatever the umask).
    @discardableResult
    func write(_ name: String, _ text: String, mode: mode_t = 0o600) throws -> String {
        let file = path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        chmod(file, mode)
        return file
    }
}

/// A resolver over a dictionary of files instead of the disk.
func fakeResolver(environment: [String: String] = [:], files: [String: [UInt8]] = [:], directory: String = "/root-dir") -> CredentialResolver {
    CredentialResolver(environment: environment, directory: directory) { path throws(CredentialResolver.ReadFailure) in
        if path.hasSuffix("/unreadable") { throw CredentialResolver.ReadFailure(errno: EACCES, "Permission denied") }
        guard let bytes = files[path] else { throw CredentialResolver.ReadFailure(errno: ENOENT, "No such file or directory") }
        return bytes
    }
}

/// Parses `text` as a credentials file named `credentials`.
func parseCredentials(_ text: String) throws(CredentialsError) -> CredentialsFile {
    try CredentialsFile.parse(Array(text.utf8), path: "credentials")
}


/// Masking by its definition, for checking the masker: every byte inside
/// an occurrence of any form of any secret is hidden, and each maximal run
/// of hidden bytes becomes one `***`.
struct NaiveMasker {
    let patterns: [[UInt8]]

    init(secrets: [String]) {
        patterns = Array(Set(secrets.flatMap { SecretEncodings.patterns(for: $0) }))
    }

    func mask(_ line: [UInt8]) -> [UInt8] {
        var hidden = [Bool](repeating: false, count: line.count)
        for pattern in patterns where pattern.count <= line.count {
            for start in 0...(line.count - pattern.count) where line[start] == pattern[0] {
                if line[start..<(start + pattern.count)].elementsEqual(pattern) {
                    for index in start..<(start + pattern.count) { hidden[index] = true }
                }
            }
        }
        var out: [UInt8] = []
        var index = 0
        while index < line.count {
            if hidden[index] {
                out += Array("***".utf8)
                while index < line.count, hidden[index] { index += 1 }
            } else {
                out.append(line[index])
                index += 1
            }
        }
        return out
    }
}

/// Random secrets and output lines that carry them, for property tests of
/// masking: short (4-character) and long secrets, characters that the
/// encodings escape, forms of the secrets (plain, base64, JSON, ...) and
/// pieces of them at random offsets in lines of text that shares their bytes.
struct MaskingFuzz {
    var generator: SplitMix64
    let secrets: [String]
    let forms: [[UInt8]]
    static let alphabet = Array("abcdk-_ =/\"'&<ü\t".map(String.init))

    init(seed: UInt64, shortest: Int = 4) {
        var generator = SplitMix64(seed: seed)
        var secrets: [String] = []
        for index in 0..<Int.random(in: 2...6, using: &generator) {
            let length = index == 0 ? shortest : Int.random(in: shortest...32, using: &generator)
            secrets.append((0..<length).map { _ in Self.alphabet.randomElement(using: &generator)! }.joined())
        }
        // A multi-line value (a key) now and then.
        if Bool.random(using: &generator) { secrets.append("-----KEY-----\nabcd-line-one\nline-two-kk\n") }
        self.generator = generator
        self.secrets = secrets
        forms = Array(Set(secrets.flatMap { SecretEncodings.patterns(for: $0) })).sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// One line (no line end) of about `length` bytes.
    mutating func line(length: Int) -> [UInt8] {
        var line: [UInt8] = []
        while line.count < length {
            switch Int.random(in: 0..<6, using: &generator) {
            case 0:
                line += forms.randomElement(using: &generator)!
            case 1:
                let form = forms.randomElement(using: &generator)!
                let start = Int.random(in: 0..<form.count, using: &generator)
                line += form[start..<Int.random(in: (start + 1)...form.count, using: &generator)]
            default:
                line += Array(Self.alphabet.randomElement(using: &generator)!.utf8)
            }
        }
        return line.filter { $0 != 0x0a }
    }
}
