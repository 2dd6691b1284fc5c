import Testing
@testable import RunbookKit

@Suite("FIFO")
struct FIFOTests {
    @Test func keepsOrderAcrossCompaction() {
        var line = FIFO<Int>()
        var expected = 0
        for value in 0..<5000 {
            line.append(value)
            if value % 3 == 0 {
                #expect(line.popFirst() == expected)
                expected += 1
            }
        }
        #expect(line.count == 5000 - expected)
        #expect(Array(line) == Array(expected..<5000))
        while let value = line.popFirst() {
            #expect(value == expected)
            expected += 1
        }
        #expect(expected == 5000)
        #expect(line.isEmpty)
        #expect(line.popFirst() == nil)
    }
}
