import Foundation
import Testing

/// What the built `runbook` binary is made of.
@Suite("The runbook binary")
struct BinaryTests {
    /// swift-corelibs-foundation (and CoreFoundation under it) cost every
    /// start of runbook about half a millisecond; RunbookKit uses
    /// FoundationEssentials, and FoundationInternationalization for the
    /// named time zones. A file that imports Foundation and uses an API only
    /// it has (`DateFormatter`, `String(format:)`, `FileHandle`...) brings
    /// it back: use `String(cFormat:)`, `Calendar`, POSIX calls instead.
    /// (An incremental debug build can keep Foundation in the link list of
    /// objects compiled while some file still imported it: after removing
    /// an import, `rm -rf .build/debug/RunbookKit.build` before believing it.)
    @Test func linksNoFoundationButTheTimeZones() throws {
        let binary = try Data(contentsOf: RunbookProcess.binary)
        func has(_ text: String) -> Bool { binary.firstRange(of: Data(text.utf8)) != nil }
        // Linked dynamically (debug builds) it would be a needed library,
        // statically (release builds) CoreFoundation's initialiser.
        #expect(!has("libFoundation.so"))
        #expect(!has("__CFInitialize"))
        #expect(has("FoundationInternationalization"))
    }
}
