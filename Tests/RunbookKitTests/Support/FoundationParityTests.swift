import Foundation
import Testing
@testable import RunbookKit

/// RunbookKit does without swift-corelibs-foundation (it cost every start
/// half a millisecond); its replacements must say what Foundation said.
@Suite("Foundation parity")
struct FoundationParityTests {
    @Test(arguments: [
        ("%.1fs", 2.25), ("%.1fs", 0.35), ("%.1f%%", 99.95), ("%.2f", 1e-7), ("%.2f", -3.14159), ("%.1f", 123456789.06),
        (" fill-opacity=\"%.2f\"", 0.35 + 0.65 * 0.5),
    ] as [(String, Double)])
    func decimals(format: String, value: Double) {
        #expect(String(cFormat: format, value) == String(format: format, value))
    }

    @Test func integersAndLongText() {
        #expect(String(cFormat: "%ldm%02lds", 4, 5) == "4m05s")
        #expect(String(cFormat: "%ldh%02ldm", 12, 3) == "12h03m")
        #expect(String(cFormat: "0x%02lx", 10) == "0x0a")
        let long = String(repeating: "é", count: 100)
        #expect(String(cFormat: "CPU %.2fs \(long)", 1.5) == String(format: "CPU %.2fs \(long)", 1.5))
    }

    @Test(arguments: [("{file}", "{file}"), ("--file={file}", "{file}"), ("{file}{file}", "{file}"), ("a{fil}b", "{file}"),
                      ("", "{file}"), ("héllo wörld", "ö"), ("aaaa", "aa"), ("/usr/share/zoneinfo/Europe/Berlin", "zoneinfo/")])
    func plainText(text: String, target: String) {
        #expect(text.replacingEvery(target, with: "/s/é x") == text.replacingOccurrences(of: target, with: "/s/é x"))
        #expect(text.suffix(after: target) == text.range(of: target).map { String(text[$0.upperBound...]) })
    }

    @Test(arguments: ["runbook", "run%20book", "r%C3%A9sum%C3%A9", "%zz", "%2", "%+1", "50%", "%ff", "a%2Fb", ""])
    func percentDecoding(text: String) {
        #expect(DatabaseURL.percentDecoded(text) == text.removingPercentEncoding)
    }

    @Test(arguments: [0.0, 1_795_420_800.5, 951_782_400, -86_400.25, 4_102_444_799])
    func localTimes(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .current
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        #expect(formatLocal(date) == formatter.string(from: date))
    }
}
