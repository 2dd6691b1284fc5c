import Testing
@testable import RunbookKit

@Suite("Runbook headers")
struct HeaderParserTests {
    let shell = HeaderParser(commentPrefix: "#")

    @Test func readsEverySetting() throws {
        let text = """
            #!/usr/bin/env bash
            # runbook: description = Rotates logs
            # runbook: credentials = crm, erp
            # runbook: parameters = DAYS, KEEP=7
            # runbook: timeout = 10m
            # runbook: memory = 256M
            # runbook: cpu = 30s
            # runbook: processes = 20
            # runbook: output = 2M
            # runbook: network = off
            # runbook: test-network = on

            echo hi
            # runbook: timeout = oops (after the header: not a setting)
            """
        let settings = try shell.parse(text, path: "runbooks/rotate.sh").get()
        #expect(settings.description == "Rotates logs")
        #expect(settings.credentials == ["crm", "erp"])
        #expect(settings.parameters == [ParameterDeclaration(name: "DAYS", defaultValue: nil), ParameterDeclaration(name: "KEEP", defaultValue: "7")])
        #expect(settings.timeout == 600)
        #expect(settings.memory == 256 << 20)
        #expect(settings.cpu == 30)
        #expect(settings.processes == 20)
        #expect(settings.output == 2 << 20)
        #expect(settings.network == false)
        #expect(settings.testNetwork == true)
    }

    @Test func defaults() throws {
        let settings = try shell.parse("echo hi\n", path: "x.sh").get()
        #expect(settings == RunbookSettings())
        #expect(settings.timeout == 3600)
        #expect(settings.output == 10 << 20)
    }

    @Test func swiftComments() throws {
        let settings = try HeaderParser(commentPrefix: "//").parse("// runbook: timeout = 5s\nprint(1)\n", path: "x.swift").get()
        #expect(settings.timeout == 5)
    }

    @Test func windowsLineEndings() throws {
        let settings = try shell.parse("# runbook: timeout = 5s\r\n# runbook: description = x\r\necho\r\n", path: "x.sh").get()
        #expect(settings.timeout == 5)
        #expect(settings.description == "x")
    }

    /// Each bad header is reported at its file, line and column with a code.
    @Test(arguments: [
        ("# runbook: timout = 5m\n", CatalogError.Code.unknownKey, 1, 12, "did you mean 'timeout'"),
        ("#\n# runbook: timeout = 5 minutes\n", .badValue, 2, 22, "timeout"),
        ("# runbook: timeout = 10\n", .badValue, 1, 22, "has no unit"),
        ("# runbook: memory = 512\n", .badValue, 1, 21, "memory"),
        ("# runbook: network = maybe\n", .badValue, 1, 22, "'on' or 'off'"),
        ("# runbook: processes = -1\n", .badValue, 1, 24, "whole number"),
        ("# runbook: timeout = 5m\n# runbook: timeout = 6m\n", .duplicateKey, 2, 12, "already set on line 1"),
        ("# runbook: parameters = 9LIVES\n", .badValue, 1, 25, "not a valid environment variable name"),
        ("# runbook: parameters = RUNBOOK_X\n", .badValue, 1, 25, "reserved"),
        ("# runbook: parameters = PATH\n", .badValue, 1, 25, "reserved"),
        ("# runbook: parameters = A, A=1\n", .duplicateKey, 1, nil, "declared twice"),
        ("# runbook: credentials = bad name\n", .badValue, 1, 26, "credentials"),
        ("# runbook: timeout\n", .badValue, 1, 12, "key = value"),
    ] as [(String, CatalogError.Code, Int, Int?, String)])
    func rejects(text: String, code: CatalogError.Code, line: Int, column: Int?, fragment: String) throws {
        let result = shell.parse(text, path: "runbooks/x.sh")
        guard case .failure(let errors) = result else {
            Issue.record("accepted \(text.debugDescription)")
            return
        }
        let error = try #require(errors.errors.first)
        #expect(error.code == code)
        #expect(error.location.file == "runbooks/x.sh")
        #expect(error.location.line == line)
        #expect(error.location.column == column)
        #expect(error.message.contains(fragment), "\(error.message)")
        #expect(error.description.hasPrefix("runbooks/x.sh:\(line)"))
    }

    @Test func reportsEveryProblemInAFile() throws {
        let result = shell.parse("# runbook: a = 1\n# runbook: timeout = x\n", path: "x.sh")
        guard case .failure(let errors) = result else { Issue.record("accepted"); return }
        #expect(errors.errors.map(\.location.line) == [1, 2])
    }

    @Test(arguments: [("hello", true), ("rotate-logs_2", true), ("", false), ("has space", false), ("dot.name", false),
                      (String(repeating: "a", count: 64), true), (String(repeating: "a", count: 65), false), ("été", false)])
    func names(name: String, valid: Bool) {
        #expect(RunbookName.isValid(name) == valid)
    }
}
