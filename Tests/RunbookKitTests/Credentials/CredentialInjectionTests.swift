import Foundation
import Glibc
import Testing
@testable import RunbookKit

@Suite("Credential resolution and injection")
struct CredentialInjectionTests {
    static let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKB\n-----END PRIVATE KEY-----\n"

    static let text = """
    [crm]
    user = ops-bot
    password = "S3CRET-prod-pass"
    token = env:CRM_TOKEN
    [crm@test]
    user = test-bot
    password = S3CRET-test-pass
    [deploy]
    key = file:keys/deploy
    pin = 42
    [unused]
    secret = S3CRET-unused-value
    [testonly@test]
    x = 1234
    """

    let file: CredentialsFile
    let resolver = fakeResolver(environment: ["CRM_TOKEN": "S3CRET-token-from-env"],
                                files: ["/root-dir/keys/deploy": Array(pem.utf8)])

    init() throws { file = try parseCredentials(Self.text) }

    func plan(_ names: [String], test: Bool = false, parameters: [String] = []) throws(CredentialsError) -> CredentialInjection {
        try CredentialInjection.plan(runbook: "sync", credentials: names, parameters: parameters, file: file, test: test, resolver: resolver)
    }

    @Test("a real run gets the production sections it declares, and nothing else")
    func production() throws {
        let injection = try plan(["crm", "deploy"])
        let environment = injection.environment(fileDirectory: "/scratch/credentials")
        #expect(environment == [
            "CRM_USER": "ops-bot",
            "CRM_PASSWORD": "S3CRET-prod-pass",
            "CRM_TOKEN": "S3CRET-token-from-env",
            "DEPLOY_KEY": Self.pem,
            "DEPLOY_KEY_FILE": "/scratch/credentials/DEPLOY_KEY",
            "DEPLOY_PIN": "42",
        ])
        #expect(injection.choices.map(\.description) == ["credential crm: using [crm]", "credential deploy: using [deploy]"])
        #expect(injection.unmaskedFields == ["deploy.pin"])
        #expect(injection.files.map(\.name) == ["DEPLOY_KEY_FILE"])
        #expect(!injection.secrets.map { $0.reveal() }.contains("S3CRET-unused-value"))
        var dumped = ""
        dump(injection, to: &dumped)
        for text in [String(describing: injection), String(reflecting: injection), dumped] {
            #expect(!text.contains("S3CRET") && !text.contains("MIIE"))
        }
    }

    @Test("a value too long for an environment variable is refused")
    func tooLong() throws {
        let file = try parseCredentials("[big]\nblob = file:/big\n")
        let resolver = fakeResolver(files: ["/big": [UInt8](repeating: UInt8(ascii: "x"), count: 200_000)])
        let error = try #require(throws: CredentialsError.self) {
            try CredentialInjection.plan(runbook: "r", credentials: ["big"], parameters: [], file: file, test: false, resolver: resolver)
        }
        #expect(error.code == .badValue)
        #expect(error.field == "blob")
    }

    @Test("a test run prefers [name@test] and says so")
    func testRun() throws {
        let injection = try plan(["crm", "deploy"], test: true)
        let environment = injection.environment(fileDirectory: "/x")
        #expect(environment["CRM_USER"] == "test-bot")
        #expect(environment["CRM_PASSWORD"] == "S3CRET-test-pass")
        #expect(environment["CRM_TOKEN"] == nil)
        #expect(injection.choices == [
            .init(credential: "crm", isTest: true, isFallback: false),
            .init(credential: "deploy", isTest: false, isFallback: true),
        ])
        #expect(injection.choices.map(\.description) == [
            "credential crm: using [crm@test]", "credential deploy: using [deploy] (no [deploy@test])",
        ])
    }

    @Test("nothing declared, nothing injected; duplicates count once")
    func declaredOnly() throws {
        #expect(try plan([]).variables.isEmpty)
        #expect(try plan(["crm", "crm"]).variables.count == 3)
        let none = try CredentialInjection.plan(runbook: "x", credentials: [], parameters: [], file: nil, test: false, resolver: resolver)
        #expect(none.variables.isEmpty)
    }

    struct Failure: Sendable, CustomTestStringConvertible {
        var names: [String]
        var test: Bool
        var code: CredentialsError.Code
        var contains: [String]
        var testDescription: String { "\(names) test=\(test) → \(code)" }
    }

    static let failures: [Failure] = [
        Failure(names: ["nope"], test: false, code: .missingCredential, contains: ["'sync'", "'nope'", "[nope]"]),
        Failure(names: ["testonly"], test: false, code: .missingCredential, contains: ["[testonly@test]", "add [testonly]"]),
    ]

    @Test("a declared credential that is missing fails with a sentence", arguments: failures)
    func missing(_ failure: Failure) throws {
        let error = try #require(throws: CredentialsError.self) { try plan(failure.names, test: failure.test) }
        #expect(error.code == failure.code)
        for text in failure.contains { #expect(error.message.contains(text)) }
        #expect(try plan(["testonly"], test: true).environment(fileDirectory: "/x") == ["TESTONLY_X": "1234"])
    }

    @Test("no credentials file at all")
    func noFile() throws {
        let error = try #require(throws: CredentialsError.self) {
            try CredentialInjection.plan(runbook: "sync", credentials: ["crm"], parameters: [], file: nil, test: false, resolver: resolver)
        }
        #expect(error.code == .missingCredential)
        #expect(error.message.contains("no credentials file"))
    }

    @Test("env: of an unset variable names the credential, field and variable")
    func unsetVariable() throws {
        let error = try #require(throws: CredentialsError.self) {
            try CredentialInjection.plan(runbook: "sync", credentials: ["crm"], parameters: [], file: file, test: false,
                                         resolver: fakeResolver())
        }
        #expect(error.code == .missingVariable)
        #expect(error.credential == "crm")
        #expect(error.field == "token")
        #expect(error.message.contains("env:CRM_TOKEN"))
        #expect(!error.message.contains("S3CRET"))
    }

    @Test("file: of a missing or unreadable file names the credential, field and path")
    func missingFile() throws {
        let error = try #require(throws: CredentialsError.self) {
            try CredentialInjection.plan(runbook: "sync", credentials: ["deploy"], parameters: [], file: file, test: false,
                                         resolver: fakeResolver())
        }
        #expect(error.code == .missingFile)
        #expect(error.credential == "deploy")
        #expect(error.field == "key")
        #expect(error.message.contains("/root-dir/keys/deploy"))

        let unreadable = try #require(throws: CredentialsError.self) {
            try fakeResolver().resolve(.file("/etc/unreadable"), credential: "a", field: "b")
        }
        #expect(unreadable.code == .unreadableFile)
        #expect(unreadable.message.contains("Permission denied"))
    }

    @Test("file: contents", arguments: [
        ("token\n", "token"), ("token\r\n", "token"), ("token", "token"), ("a\nb\n", "a\nb\n"), ("a\nb", "a\nb"), ("\n", ""),
    ])
    func fileContents(_ contents: String, _ expected: String) throws {
        let resolver = fakeResolver(files: ["/abs/path": Array(contents.utf8)])
        #expect(try resolver.resolve(.file("/abs/path"), credential: "a", field: "b").reveal() == expected)
    }

    @Test("values an environment variable cannot carry are refused")
    func badValues() throws {
        let binary = fakeResolver(files: ["/root-dir/bin": [0x53, 0xff, 0x00]])
        let error = try #require(throws: CredentialsError.self) { try binary.resolve(.file("bin"), credential: "a", field: "b") }
        #expect(error.code == .badValue)
        let nul = try #require(throws: CredentialsError.self) {
            try fakeResolver().resolve(.literal(Secret("a\u{0}b")), credential: "a", field: "b")
        }
        #expect(nul.code == .badValue)
    }

    @Test("the host resolver reads real files relative to its directory")
    func hostResolver() throws {
        let scratch = try CredentialsScratch()
        try scratch.write("token", "S3CRET-from-disk\n")
        let resolver = CredentialResolver.host(environment: ["V": "value"], directory: scratch.path)
        #expect(try resolver.resolve(.file("token"), credential: "a", field: "b").reveal() == "S3CRET-from-disk")
        #expect(try resolver.resolve(.environment("V"), credential: "a", field: "b").reveal() == "value")
        let error = try #require(throws: CredentialsError.self) { try resolver.resolve(.file("absent"), credential: "a", field: "b") }
        #expect(error.code == .missingFile)
    }

    @Test("multi-line values become private files")
    func privateFiles() throws {
        let scratch = try CredentialsScratch()
        let directory = scratch.path + "/job/credentials"
        try FileManager.default.createDirectory(atPath: scratch.path + "/job", withIntermediateDirectories: true)
        let injection = try plan(["deploy", "crm"])
        try injection.writeFiles(in: directory)
        try injection.writeFiles(in: directory)  // again: replaces the files
        let path = try #require(injection.environment(fileDirectory: directory)["DEPLOY_KEY_FILE"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.pem)
        var status = stat()
        #expect(stat(directory, &status) == 0)
        #expect(status.st_mode & 0o7777 == 0o700)
        #expect(stat(path, &status) == 0)
        #expect(status.st_mode & 0o7777 == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["DEPLOY_KEY"])
    }

    @Test("collisions with parameters, reserved names and other fields are reported")
    func collisions() throws {
        let file = try parseCredentials("""
        [crm]
        user = a
        api-key = b
        [crm@test]
        api_key = c
        [runbook]
        name = x
        [db]
        key = \"\"\"
        multi
        \"\"\"
        key_file = y
        [db-x]
        y = 1
        [db_x]
        y = 2
        [ld]
        preload = evil.so
        [1pass]
        token = x
        """)
        let found = CredentialInjection.collisions(runbook: "sync", credentials: ["crm", "runbook", "db", "db-x", "db_x", "ld", "1pass"],
                                                   parameters: ["CRM_USER"], file: file)
        #expect(found.map(\.description) == [
            "runbook 'sync': field 'user' of credential [crm] becomes CRM_USER, which is also a parameter: rename the parameter or the field",
            "runbook 'sync': field 'name' of credential [runbook] becomes RUNBOOK_NAME, which is reserved for the job's own environment: rename the credential or the field",
            "runbook 'sync': field 'key' of credential [db] becomes DB_KEY_FILE, as does field 'key_file' of [db]: rename one of them",
            "runbook 'sync': field 'y' of credential [db_x] becomes DB_X_Y, as does field 'y' of [db-x]: rename one of them",
            "runbook 'sync': field 'preload' of credential [ld] becomes LD_PRELOAD, which is reserved for the job's own environment: rename the credential or the field",
            "runbook 'sync': field 'token' of credential [1pass] becomes 1PASS_TOKEN, which starts with a digit, so a shell cannot read it: rename the credential",
        ])
        #expect(found.allSatisfy { $0.runbook == "sync" })
        // [crm@test] has api_key only, so the test configuration adds nothing new; a plain api-key/api_key pair would.
        let pair = try parseCredentials("[a]\napi-key = 1\napi_key = 2\n")
        #expect(CredentialInjection.collisions(runbook: "r", credentials: ["a"], parameters: [], file: pair).map(\.variable) == ["A_API_KEY"])
    }

    @Test("a job with a collision fails before it starts")
    func collisionAtStart() throws {
        let error = try #require(throws: CredentialsError.self) { try plan(["crm"], parameters: ["CRM_TOKEN"]) }
        #expect(error.code == .collision)
        #expect(error.credential == "crm")
        #expect(error.field == "token")
        #expect(!error.message.contains("S3CRET"))
    }

    @Test("no error message ever contains a value")
    func noValuesInErrors() throws {
        let secrets = ["S3CRET-prod-pass", "S3CRET-test-pass", "S3CRET-token-from-env", "S3CRET-unused-value"]
        var messages: [String] = []
        for names in [["nope"], ["testonly"], ["crm"], ["deploy"]] {
            for test in [false, true] {
                for resolver in [fakeResolver(), resolver] {
                    do {
                        _ = try CredentialInjection.plan(runbook: "r", credentials: names, parameters: ["CRM_USER"], file: file,
                                                         test: test, resolver: resolver)
                    } catch { messages.append(error.description) }
                }
            }
        }
        #expect(!messages.isEmpty)
        for message in messages { for secret in secrets { #expect(!message.contains(secret)) } }
    }
}
