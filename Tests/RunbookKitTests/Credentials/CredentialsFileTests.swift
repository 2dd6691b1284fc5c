import Testing
@testable import RunbookKit

@Suite("Credentials file syntax")
struct CredentialsFileTests {
    static let sample = #"""
    # Production CRM account
    ; a semicolon comment too
    [crm]
    user = ops-bot
    password = "p=ss#word; still"
    single = 'say "hi" # not a comment'
    token = env:CRM_TOKEN
    key = file:secrets/crm.key
    note = abc#def # this part is a comment
    empty =
    spaced   =    two words   

    [crm@test]
    user = test-bot
    cert = """
    -----BEGIN CERTIFICATE-----
      indented line kept
    # not a comment inside a block
    -----END CERTIFICATE-----
    """

    [ my-api_2 ]  # spaces and a comment
    client-id = abc
    """#

    func value(_ file: CredentialsFile, _ section: String, test: Bool = false, _ field: String) -> CredentialsFile.Value? {
        file.section(named: section, test: test)?.field(named: field)?.value
    }

    func literal(_ file: CredentialsFile, _ section: String, test: Bool = false, _ field: String) -> String? {
        if case .literal(let secret) = value(file, section, test: test, field) { return secret.reveal() }
        return nil
    }

    @Test("every form parses")
    func everyForm() throws {
        let file = try parseCredentials(Self.sample)
        #expect(file.names == ["crm", "my-api_2"])
        #expect(file.sections.map(\.title) == ["crm", "crm@test", "my-api_2"])
        #expect(literal(file, "crm", "user") == "ops-bot")
        #expect(literal(file, "crm", "password") == "p=ss#word; still")
        #expect(literal(file, "crm", "single") == #"say "hi" # not a comment"#)
        #expect(value(file, "crm", "token") == .environment("CRM_TOKEN"))
        #expect(value(file, "crm", "key") == .file("secrets/crm.key"))
        #expect(literal(file, "crm", "note") == "abc#def")
        #expect(literal(file, "crm", "empty") == "")
        #expect(literal(file, "crm", "spaced") == "two words")
        #expect(literal(file, "crm", test: true, "user") == "test-bot")
        #expect(literal(file, "crm", test: true, "cert") == """
            -----BEGIN CERTIFICATE-----
              indented line kept
            # not a comment inside a block
            -----END CERTIFICATE-----

            """)
        #expect(literal(file, "my-api_2", "client-id") == "abc")
        #expect(file.section(named: "crm", test: false)?.field(named: "token")?.location.line == 7)
        #expect(file.section(named: "crm", test: true)?.location == SourceLocation(file: "credentials", line: 13))
    }

    @Test("quoted values are literals, never references")
    func quotedReference() throws {
        let file = try parseCredentials("[a]\nx = \"env:HOME\"\ny = 'file:/etc/passwd'\n")
        #expect(literal(file, "a", "x") == "env:HOME")
        #expect(literal(file, "a", "y") == "file:/etc/passwd")
    }

    @Test("CRLF line ends, a BOM and no final newline")
    func lineEnds() throws {
        let text = "\u{FEFF}[a]\r\nuser = bob\r\nkey = \"\"\"\r\nline one\r\nline two\r\n\"\"\"\r\npass = 'x y'"
        let file = try parseCredentials(text)
        #expect(literal(file, "a", "user") == "bob")
        #expect(literal(file, "a", "key") == "line one\nline two\n")
        #expect(literal(file, "a", "pass") == "x y")
    }

    @Test("literal descriptions are redacted")
    func valueDescription() throws {
        let file = try parseCredentials(Self.sample)
        #expect(value(file, "crm", "password")?.description == "***")
        #expect(value(file, "crm", "token")?.description == "env:CRM_TOKEN")
        #expect(value(file, "crm", "key")?.description == "file:secrets/crm.key")
    }

    @Test("short literals are listed for check")
    func shortLiterals() throws {
        let file = try parseCredentials("[a]\npin = 123\nlong = 12345\nempty =\n[b@test]\nx = ab\n")
        #expect(file.shortLiterals.map { "\($0.section).\($0.field)" } == ["a.pin", "b@test.x"])
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var text: String
        var code: CredentialsError.Code
        var line: Int
        var testDescription: String { "\(code) at line \(line)" }
    }

    /// Every input holds the marker S3CRET-VALUE where a value would be.
    static let bad: [BadCase] = [
        BadCase(text: "[a]\nS3CRET-VALUE\n", code: .syntax, line: 2),
        BadCase(text: "user = S3CRET-VALUE\n", code: .fieldOutsideSection, line: 1),
        BadCase(text: "[a]\nx = 1\n[a]\ny = S3CRET-VALUE\n", code: .duplicateSection, line: 3),
        BadCase(text: "[a@test]\n[b]\n[a@test]\n", code: .duplicateSection, line: 3),
        BadCase(text: "[a]\nx = S3CRET-VALUE\nx = S3CRET-VALUE\n", code: .duplicateField, line: 3),
        BadCase(text: "[a]\nx = \"S3CRET-VALUE\n", code: .unterminatedQuote, line: 2),
        BadCase(text: "[a]\nx = 'S3CRET-VALUE\n", code: .unterminatedQuote, line: 2),
        BadCase(text: "[a]\nx = \"S3CRET\"-VALUE\n", code: .syntax, line: 2),
        BadCase(text: "[a]\nx = \"\"\"\nS3CRET-VALUE\n", code: .unterminatedBlock, line: 2),
        BadCase(text: "[S3CRET VALUE]\n", code: .badName, line: 1),
        BadCase(text: "[S3CRET-VALUE@prod]\n", code: .badName, line: 1),
        BadCase(text: "[S3CRET-VALUE\n", code: .syntax, line: 1),
        BadCase(text: "[a] S3CRET-VALUE\n", code: .syntax, line: 1),
        BadCase(text: "[]\n", code: .badName, line: 1),
        BadCase(text: "[\(String(repeating: "a", count: 65))]\n", code: .badName, line: 1),
        BadCase(text: "[a]\nS3CRET VALUE = x\n", code: .badName, line: 2),
        BadCase(text: "[a]\n = S3CRET-VALUE\n", code: .badName, line: 2),
        BadCase(text: "[a]\nx = env:S3CRET-VALUE\n", code: .badReference, line: 2),
        BadCase(text: "[a]\nx = env:\n", code: .badReference, line: 2),
        BadCase(text: "[a]\nx = file:\n", code: .badReference, line: 2),
    ]

    @Test("syntax errors name file:line and never echo the line", arguments: bad)
    func syntaxErrors(_ input: BadCase) throws {
        let error = try #require(throws: CredentialsError.self) { try parseCredentials(input.text) }
        #expect(error.code == input.code)
        #expect(error.location?.file == "credentials")
        #expect(error.location?.line == input.line)
        #expect(error.description.hasPrefix("credentials:\(input.line)"))
        #expect(!error.description.contains("S3CRET"))
    }

    @Test("a non-UTF-8 byte names its line, not its bytes")
    func notUTF8() throws {
        let bytes = Array("[a]\nok = 1\npass = S3CRET".utf8) + [0xff, 0xfe] + Array("VALUE\n".utf8)
        let error = try #require(throws: CredentialsError.self) { try CredentialsFile.parse(bytes, path: "credentials") }
        #expect(error.code == .notUTF8)
        #expect(error.location?.line == 3)
        #expect(!error.description.contains("S3CRET"))
    }

    @Test("names", arguments: [
        ("crm", true), ("my-api_2", true), ("A", true), (String(repeating: "x", count: 64), true),
        ("", false), (String(repeating: "x", count: 65), false), ("a b", false), ("a.b", false), ("é", false), ("a@test", false),
    ])
    func names(_ name: String, _ valid: Bool) {
        #expect(CredentialName.isValid(name) == valid)
    }

    @Test("variable names", arguments: [
        ("crm", "user", "CRM_USER"), ("my-api", "client-id", "MY_API_CLIENT_ID"), ("a1", "b_c", "A1_B_C"), ("Db", "Key", "DB_KEY"),
    ])
    func variableNames(_ credential: String, _ field: String, _ variable: String) {
        #expect(CredentialName.variable(credential: credential, field: field) == variable)
        #expect(CredentialName.fileVariable(credential: credential, field: field) == variable + "_FILE")
    }
}
