import Testing
@testable import RunbookKit

@Suite("Argument scanner")
struct ArgumentScannerTests {
    @Test func optionsFlagsAndPositionals() throws {
        var scanner = ArgumentScanner(["hello", "-p", "A=1", "--param=B=2", "--json", "--limit", "5", "--", "-p"])
        #expect(try scanner.flag("--json"))
        #expect(try scanner.values("-p", "--param") == ["A=1", "B=2"])
        #expect(try scanner.integer("--limit") == 5)
        #expect(try scanner.positionals() == ["hello", "-p"])
    }

    @Test(arguments: [
        (["--bogus"], "unknown option '--bogus'"),
        (["--limit"], "--limit needs a value"),
        (["--limit", "x"], "--limit takes a whole number"),
        (["--json=1"], "--json takes no value"),
    ])
    func usageErrors(arguments: [String], message: String) {
        var scanner = ArgumentScanner(arguments)
        #expect {
            _ = try scanner.flag("--json")
            _ = try scanner.integer("--limit")
            _ = try scanner.positionals()
        } throws: { error in
            (error as? UsageError)?.message.hasPrefix(message) == true
        }
    }

    @Test func singleValueOptionGivenTwice() {
        var scanner = ArgumentScanner(["-m", "a", "-m", "b"])
        #expect(throws: UsageError("-m is given more than once")) { try scanner.value("-m", "--message") }
    }

    @Test func parameters() throws {
        #expect(try ParameterBinding.parse(["A=1", "B=x=y", "C="]) == ["A": "1", "B": "x=y", "C": ""])
        #expect(throws: ParameterBinding.Problem.self) { try ParameterBinding.parse(["=1"]) }
        #expect(throws: ParameterBinding.Problem.self) { try ParameterBinding.parse(["A"]) }
        let declared = [ParameterDeclaration(name: "A", defaultValue: nil), ParameterDeclaration(name: "B", defaultValue: "2")]
        #expect(try ParameterBinding.resolve(declared: declared, given: ["A": "1"], runbook: "r") == ["A": "1", "B": "2"])
        #expect(throws: ParameterBinding.Problem.self) { try ParameterBinding.resolve(declared: declared, given: [:], runbook: "r") }
        #expect(throws: ParameterBinding.Problem.self) {
            try ParameterBinding.resolve(declared: declared, given: ["A": "1", "C": "3"], runbook: "r")
        }
    }
}
