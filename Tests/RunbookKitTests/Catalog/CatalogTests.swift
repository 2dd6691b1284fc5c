import Foundation
import Testing
@testable import RunbookKit

@Suite("Catalog")
struct CatalogTests {
    @Test func brokenFilesDoNotHideOthers() throws {
        let root = try TemporaryRoot()
        try root.runbook("good.sh", "echo ok\n")
        try root.runbook("twin.sh", "echo 1\n")
        try root.runbook("twin.py", "print(1)\n")
        try root.runbook("bad name.sh", "echo\n")
        try root.runbook("notes.rb", "puts 1\n")
        try root.runbook("header.sh", "# runbook: colour = red\necho\n")
        try root.write("runbooks/latin1.sh", Data([0x65, 0x63, 0x68, 0x6f, 0x0a, 0x20, 0xe9, 0x0a]))
        let catalog = Catalog.scan(root.workspace)

        #expect(catalog.runbooks["good"]?.isValid == true)
        let codes = Set(catalog.problems.map(\.code))
        #expect(codes == [.badName, .unknownRuntime])
        // A collision stays a (broken) runbook, so it never looks deleted.
        #expect(catalog.runbooks["twin"]?.isValid == false)
        let twin = try #require(catalog.runbooks["twin"]?.problems.first { $0.code == .duplicateName })
        #expect(twin.message.contains("runbooks/twin.py") && twin.message.contains("runbooks/twin.sh"))
        #expect(catalog.runbooks["header"]?.problems.first?.code == .unknownKey)
        let latin = try #require(catalog.runbooks["latin1"]?.problems.first)
        #expect(latin.code == .notUTF8)
        #expect(latin.location.line == 2 && latin.location.column == 2)
        #expect(latin.message.contains("0xe9"))
    }

    @Test func userRuntimes() throws {
        let text = """
            # a comment
            [node]
            extension = js
            command = node {file}
            check = node --check {file}
            comment = //

            [broken]
            extension = rb
            command = ruby

            [shadow]
            extension = py
            command = python2 {file}
            """
        let (registry, errors) = RuntimeRegistry.loading(text, path: "runtimes.conf")
        let node = try #require(registry.runtime(forExtension: "js") as? ScriptRuntime)
        #expect(node.command == ["node", "{file}"])
        #expect(node.checkCommand == ["node", "--check", "{file}"])
        #expect(node.commentPrefix == "//")
        #expect(registry.runtime(forExtension: "rb") == nil)
        #expect(registry.runtime(forExtension: "py")?.name == "python")
        #expect(errors.map(\.location.line) == [8, 12])
        #expect(errors.allSatisfy { $0.code == .badRuntimeConfig })
    }

    @Test(arguments: [
        (Optional<String>.none, Optional<String>.none, Optional<RunbookState>.none),
        ("a", nil, .new), (nil, "a", .deleted), ("a", "a", .published), ("a", "b", .edited),
    ])
    func states(draft: String?, live: String?, state: RunbookState?) {
        #expect(RunbookState.of(draft: draft, live: live) == state)
    }
}
