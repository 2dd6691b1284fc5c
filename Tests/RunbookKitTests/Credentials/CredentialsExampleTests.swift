import Foundation
import Testing
@testable import RunbookKit

@Suite("credentials.example")
struct CredentialsExampleTests {
    /// The repository's `credentials.example`, found from this file's place.
    static let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("credentials.example")

    @Test("parses, and shows every form")
    func example() throws {
        let bytes = try [UInt8](Data(contentsOf: Self.url))
        let file = try CredentialsFile.parse(bytes, path: "credentials.example")
        #expect(file.names == ["crm", "deploy-key", "erp_reports"])
        let values = file.sections.flatMap(\.fields).map(\.value)
        #expect(values.contains { if case .environment = $0 { true } else { false } })
        #expect(values.contains { if case .file = $0 { true } else { false } })
        #expect(values.contains { if case .literal(let secret) = $0 { secret.isMultiline } else { false } })
        #expect(file.section(named: "crm", test: true) != nil)
        #expect(file.shortLiterals.map { "\($0.section).\($0.field)" } == ["erp_reports.region"])
        let crm = try #require(file.section(named: "crm", test: false))
        #expect(crm.field(named: "account")?.value == .literal(Secret("acme#4711")))
        #expect(crm.field(named: "password")?.value == .literal(Secret("fake=pass#word with spaces")))
        #expect(crm.field(named: "motto")?.value == .literal(Secret("env:this-is-just-text")))
    }
}
