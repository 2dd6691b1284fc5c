import Testing
@testable import RunbookKit

@Suite("Secret")
struct SecretTests {
    let secret = Secret("hunter2-correct-horse")

    @Test("every way of printing shows ***")
    func redactedEverywhere() {
        #expect(secret.description == "***")
        #expect(secret.debugDescription == "***")
        #expect("\(secret)" == "***")
        #expect(String(describing: secret) == "***")
        #expect(String(reflecting: secret) == "***")
        #expect(String(describing: [secret]) == "[***]")
        #expect(String(describing: Optional(secret)) == "Optional(***)")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(Mirror(reflecting: secret).children.isEmpty)
        var dumpedWrapper = ""
        dump(Wrapper(secret: secret), to: &dumpedWrapper)
        #expect(!dumpedWrapper.contains("hunter2"))
    }

    struct Wrapper { var secret: Secret }

    @Test("reveal gives the value; properties don't leak it")
    func reveal() {
        #expect(secret.reveal() == "hunter2-correct-horse")
        #expect(secret.count == 21)
        #expect(!secret.isMultiline)
        #expect(Secret("a\nb").isMultiline)
        #expect(Secret("x") == Secret("x"))
        #expect(Secret("x") != Secret("y"))
    }
}
