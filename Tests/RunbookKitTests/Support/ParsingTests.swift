import Foundation
import Testing
@testable import RunbookKit

@Suite("Durations and sizes")
struct ParsingTests {
    @Test(arguments: [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86_400), ("1h30m", 5400), (" 5M ", 300), ("0s", 0)])
    func durations(text: String, seconds: Int) throws {
        #expect(try DurationText.seconds(text) == seconds)
    }

    @Test(arguments: ["", "10", "ten minutes", "5x", "m", "1h30", "99999999999999999999d"])
    func badDurations(text: String) {
        #expect(throws: DurationText.ParseError.self) { try DurationText.seconds(text) }
    }

    @Test(arguments: [(90, "1m30s"), (3600, "1h"), (0, "0s"), (90_061, "1d1h1m1s")])
    func durationFormat(seconds: Int, text: String) {
        #expect(DurationText.format(seconds: seconds) == text)
        #expect((try? DurationText.seconds(text)) == seconds)
    }

    @Test(arguments: [("512K", 512 << 10), ("64M", 64 << 20), ("2G", 2 << 30), ("1t", 1 << 40), ("10MB", 10 << 20), ("1GiB", 1 << 30)])
    func sizes(text: String, bytes: Int) throws {
        #expect(try ByteSize.bytes(text) == bytes)
    }

    @Test(arguments: ["512", "M", "-1M", "2X", "1.5G"])
    func badSizes(text: String) {
        #expect(throws: ByteSize.ParseError.self) { try ByteSize.bytes(text) }
    }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256(input: String, digest: String) {
        #expect(SHA256.hex(of: Array(input.utf8)) == digest)
    }

    @Test func sha256OfAMillionAs() {
        #expect(SHA256.hex(of: [UInt8](repeating: 0x61, count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test(arguments: [0, 1, 1_700_000_000_123, 951_782_400_000, -1000, 4_102_444_800_999])
    func timestampRoundTrip(milliseconds: Int64) throws {
        let text = Timestamp.utc(milliseconds: milliseconds)
        let parsed = try #require(Timestamp.parse(text))
        #expect(Int64((parsed.timeIntervalSince1970 * 1000).rounded()) == milliseconds)
    }

    @Test func timestampFormat() {
        #expect(Timestamp.utc(milliseconds: 1_700_000_000_123) == "2023-11-14T22:13:20.123Z")
        #expect(Timestamp.utc(milliseconds: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
    }
}
