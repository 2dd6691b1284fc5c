import Glibc
import Testing
@testable import RunbookKit

@Suite("Credentials file permissions")
struct CredentialsPermissionsTests {
    @Test("a missing file means no credentials")
    func missing() throws {
        let scratch = try CredentialsScratch()
        #expect(try CredentialsPermissions.check(path: scratch.path + "/credentials") == false)
        #expect(try CredentialsFile.load(path: scratch.path + "/credentials") == nil)
    }

    @Test("owner-only modes are accepted", arguments: [0o600, 0o400, 0o700, 0o200] as [mode_t])
    func accepted(_ mode: mode_t) throws {
        let scratch = try CredentialsScratch()
        let path = try scratch.write("credentials", "[a]\nx = S3CRET-VALUE\n", mode: mode)
        #expect(try CredentialsPermissions.check(path: path) == true)
        if mode & 0o400 != 0 || geteuid() == 0 {
            let file = try #require(try CredentialsFile.load(path: path, displayPath: "credentials"))
            #expect(file.names == ["a"])
            #expect(file.path == "credentials")
        }
    }

    @Test("group or world bits are refused with the chmod fix",
          arguments: [0o644, 0o640, 0o604, 0o620, 0o602, 0o660, 0o666, 0o610, 0o601, 0o777] as [mode_t])
    func refused(_ mode: mode_t) throws {
        let scratch = try CredentialsScratch()
        let path = try scratch.write("credentials", "[a]\nx = S3CRET-VALUE\n", mode: mode)
        let error = try #require(throws: CredentialsError.self) { try CredentialsPermissions.check(path: path) }
        #expect(error.code == .insecurePermissions)
        #expect(error.message.contains("chmod 600 \(path)"))
        #expect(error.message.contains("mode 0" + String(mode, radix: 8)))
        let loaded = try #require(throws: CredentialsError.self) {
            try CredentialsFile.load(path: path, displayPath: "credentials")
        }
        #expect(loaded.code == .insecurePermissions)
        #expect(loaded.message.contains("`chmod 600 credentials`"))
        #expect(!loaded.description.contains("S3CRET"))
    }

    @Test("another owner is refused with the chown fix")
    func wrongOwner() throws {
        let scratch = try CredentialsScratch()
        let path = try scratch.write("credentials", "[a]\n")
        let other = geteuid() &+ 4242
        let error = try #require(throws: CredentialsError.self) {
            try CredentialsPermissions.check(path: path, effectiveUID: other)
        }
        #expect(error.code == .wrongOwner)
        #expect(error.message.contains("sudo chown \(other) \(path)"))
        #expect(error.message.contains("uid \(geteuid())"))

        var status = stat()
        status.st_mode = S_IFREG | 0o644
        status.st_uid = other
        let both = try #require(throws: CredentialsError.self) {
            try CredentialsPermissions.check(status, path: "credentials", effectiveUID: geteuid())
        }
        #expect(both.code == .wrongOwner)
        #expect(both.message.contains("&& sudo chmod 600 credentials"))
    }

    @Test("a directory is refused")
    func directory() throws {
        let scratch = try CredentialsScratch()
        let error = try #require(throws: CredentialsError.self) { try CredentialsPermissions.check(path: scratch.path) }
        #expect(error.code == .notRegularFile)
    }

    @Test("a path with spaces is quoted in the fix")
    func quotedFix() throws {
        var status = stat()
        status.st_mode = S_IFREG | 0o640
        status.st_uid = geteuid()
        let error = try #require(throws: CredentialsError.self) {
            try CredentialsPermissions.check(status, path: "/srv/my ops/credentials", effectiveUID: geteuid())
        }
        #expect(error.message.contains("chmod 600 '/srv/my ops/credentials'"))
    }

    @Test("load reports syntax errors with the display path")
    func loadSyntax() throws {
        let scratch = try CredentialsScratch()
        let path = try scratch.write("credentials", "[a]\nS3CRET-VALUE\n")
        let error = try #require(throws: CredentialsError.self) { try CredentialsFile.load(path: path, displayPath: "credentials") }
        #expect(error.description.hasPrefix("credentials:2: error:"))
        #expect(!error.description.contains("S3CRET"))
    }
}
