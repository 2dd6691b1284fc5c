import FoundationEssentials
import Glibc

/// The rule ssh applies to a private key, applied to the credentials file:
/// it must be a regular file owned by the user runbook runs as, with no
/// permission bits for group or others (`chmod 600`).
public enum CredentialsPermissions {
    /// Checks the file at `path` without reading it.
    /// - Parameters:
    ///   - path: the file; the fix in the message names it as given.
    ///   - effectiveUID: the user that must own it; defaults to `geteuid()`.
    /// - Returns: false when the file does not exist (no credentials: fine
    ///   unless a runbook declares one), true when it may be used.
    /// - Throws: `CredentialsError` with code `insecurePermissions` (fix:
    ///   `chmod 600 PATH`), `wrongOwner` (fix: `sudo chown USER PATH`),
    ///   `notRegularFile` or `unreadable`.
    @discardableResult
    public static func check(path: String, effectiveUID: uid_t = geteuid()) throws(CredentialsError) -> Bool {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let error = Glibc.errno
            if error == ENOENT { return false }
            throw CredentialsError(.unreadable, errno: error, "cannot inspect \(path): \(String(cString: strerror(error)))")
        }
        try check(status, path: path, effectiveUID: effectiveUID)
        return true
    }

    /// Checks a file's status (from `stat` or `fstat`): the pure part of `check(path:)`.
    public static func check(_ status: stat, path: String, effectiveUID: uid_t) throws(CredentialsError) {
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw CredentialsError(.notRegularFile, "\(path) is not a regular file: credentials must be a plain file (mode 0600)")
        }
        let mode = status.st_mode & 0o7777
        let open = mode & 0o077 != 0
        let owned = status.st_uid == effectiveUID
        let user = userName(effectiveUID)
        let chown = "sudo chown \(user) \(quoted(path))"
        let chmod = "chmod 600 \(quoted(path))"
        let modeText = "0" + String(mode, radix: 8)
        if !owned {
            let owner = "uid \(status.st_uid)" + (lookUpName(status.st_uid).map { " (\($0))" } ?? "")
            let fix = open ? "run `\(chown) && sudo \(chmod)`" : "run `\(chown)`"
            throw CredentialsError(.wrongOwner,
                                   "\(path) is owned by \(owner), not by \(user) (uid \(effectiveUID)) that runbook runs as: \(fix)")
        }
        if open {
            throw CredentialsError(.insecurePermissions,
                                   "\(path) can be read or changed by other users (mode \(modeText)): run `\(chmod)`")
        }
    }

    /// The user's name, or the number when it has none.
    private static func userName(_ uid: uid_t) -> String { lookUpName(uid) ?? String(uid) }

    private static func lookUpName(_ uid: uid_t) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>? = nil
        var buffer = [CChar](repeating: 0, count: 4096)
        return buffer.withUnsafeMutableBufferPointer { storage -> String? in
            guard getpwuid_r(uid, &entry, storage.baseAddress!, storage.count, &result) == 0, result != nil,
                  let name = entry.pw_name else { return nil }
            return String(cString: name)
        }
    }

    /// A path as a shell would need it in the suggested command.
    private static func quoted(_ path: String) -> String {
        let plain = path.utf8.allSatisfy { CredentialName.isNameByte($0) || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ".") }
        return plain && !path.isEmpty ? path : "'" + path.replacing("'", with: "'\\''") + "'"
    }
}
