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

