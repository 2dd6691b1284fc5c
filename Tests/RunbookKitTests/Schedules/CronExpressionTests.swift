import Foundation
import Testing
@testable import RunbookKit

@Suite("Cron expressions")
struct CronExpressionTests {
    /// Every dialect feature, expectations from cronsim (UTC, after 2026-01-01T00:00Z, a Thursday).
    static let features: [(String, [String])] = [
        ("5 * * * *", ["2026-01-01T00:05:00+00:00", "2026-01-01T01:05:00+00:00", "2026-01-01T02:05:00+00:00"]),
        ("*/20 * * * *", ["2026-01-01T00:20:00+00:00", "2026-01-01T00:40:00+00:00", "2026-01-01T01:00:00+00:00"]),
        ("10-50/15 * * * *", ["2026-01-01T00:10:00+00:00", "2026-01-01T00:25:00+00:00", "2026-01-01T00:40:00+00:00"]),
        ("5/15 * * * *", ["2026-01-01T00:05:00+00:00", "2026-01-01T00:20:00+00:00", "2026-01-01T00:35:00+00:00"]),
        ("0 9 * * mon-fri", ["2026-01-01T09:00:00+00:00", "2026-01-02T09:00:00+00:00", "2026-01-05T09:00:00+00:00"]),
        ("0 0 * * 7", ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00", "2026-01-18T00:00:00+00:00"]),
        ("0 0 * * 0", ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00", "2026-01-18T00:00:00+00:00"]),
        ("0 0 * * sun", ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00", "2026-01-18T00:00:00+00:00"]),
        ("0 12 * JAN,feb *", ["2026-01-01T12:00:00+00:00", "2026-01-02T12:00:00+00:00", "2026-01-03T12:00:00+00:00"]),
        ("0 0 L * *", ["2026-01-31T00:00:00+00:00", "2026-02-28T00:00:00+00:00", "2026-03-31T00:00:00+00:00"]),
        ("0 0 LW * *", ["2026-01-30T00:00:00+00:00", "2026-02-27T00:00:00+00:00", "2026-03-31T00:00:00+00:00"]),
        ("0 0 * * 5L", ["2026-01-30T00:00:00+00:00", "2026-02-27T00:00:00+00:00", "2026-03-27T00:00:00+00:00"]),
        ("0 0 * * 1#2", ["2026-01-12T00:00:00+00:00", "2026-02-09T00:00:00+00:00", "2026-03-09T00:00:00+00:00"]),
        ("0 0 1 * 1", ["2026-01-05T00:00:00+00:00", "2026-01-12T00:00:00+00:00", "2026-01-19T00:00:00+00:00"]),
        ("0 0 */2 * 1", ["2026-01-05T00:00:00+00:00", "2026-01-19T00:00:00+00:00", "2026-02-09T00:00:00+00:00"]),
        ("0 0 29 2 *", ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00", "2036-02-29T00:00:00+00:00"]),
        ("0 0 * 2 MON#5", ["2044-02-29T00:00:00+00:00", "2072-02-29T00:00:00+00:00", "2112-02-29T00:00:00+00:00"]),
        ("0 0 1 1 *", ["2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00", "2029-01-01T00:00:00+00:00"]),
        ("30 8 1,15 * *", ["2026-01-01T08:30:00+00:00", "2026-01-15T08:30:00+00:00", "2026-02-01T08:30:00+00:00"]),
        ("0 0 * jan-MAR Mon", ["2026-01-05T00:00:00+00:00", "2026-01-12T00:00:00+00:00", "2026-01-19T00:00:00+00:00"]),
        ("23 0-20/2 * * *", ["2026-01-01T00:23:00+00:00", "2026-01-01T02:23:00+00:00", "2026-01-01T04:23:00+00:00"]),
        ("0 4 8-14 * *", ["2026-01-08T04:00:00+00:00", "2026-01-09T04:00:00+00:00", "2026-01-10T04:00:00+00:00"]),
        ("0 0,12 1 */2 *", ["2026-01-01T12:00:00+00:00", "2026-03-01T00:00:00+00:00", "2026-03-01T12:00:00+00:00"]),
        ("0 0 * * 1-7/2", ["2026-01-02T00:00:00+00:00", "2026-01-04T00:00:00+00:00", "2026-01-05T00:00:00+00:00"]),
        ("0 0 1-10/3 * *", ["2026-01-04T00:00:00+00:00", "2026-01-07T00:00:00+00:00", "2026-01-10T00:00:00+00:00"]),
        ("59 23 31 12 *", ["2026-12-31T23:59:00+00:00", "2027-12-31T23:59:00+00:00", "2028-12-31T23:59:00+00:00"]),
        ("@hourly", ["2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00", "2026-01-01T03:00:00+00:00"]),
        ("@daily", ["2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00"]),
        ("@midnight", ["2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00"]),
        ("@weekly", ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00", "2026-01-18T00:00:00+00:00"]),
        ("@monthly", ["2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00", "2026-04-01T00:00:00+00:00"]),
        ("@YEARLY", ["2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00", "2029-01-01T00:00:00+00:00"]),
        ("@annually", ["2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00", "2029-01-01T00:00:00+00:00"]),
    ]

    @Test("dialect features fire where cronsim says", arguments: features)
    func feature(spec: String, expected: [String]) throws {
        #expect(try ScheduleTesting.fires(spec, from: "2026-01-01T00:00:00Z") == expected)
        #expect(try Schedule.parse(spec, timeZone: .gmt).kind == .cron)
    }

    /// Invalid input: the code and the 1-based column of the offending character.
    static let invalid: [(String, ScheduleParseError.Code, Int?)] = [
        ("60 * * * *", .valueOutOfRange, 1),
        ("* * 0 * *", .valueOutOfRange, 5),
        ("* * * 13 *", .valueOutOfRange, 7),
        ("*/0 * * * *", .zeroStep, 3),
        ("0 0 * * * *", .wrongFieldCount, 11),
        ("0 0 0 * * * 2026", .wrongFieldCount, 11),
        ("5 * * *", .wrongFieldCount, nil),
        ("0 0 ? * *", .unsupportedSyntax, 5),
        ("0 0 15W * *", .unsupportedSyntax, 5),
        ("H * * * *", .unsupportedSyntax, 1),
        ("50-10 * * * *", .reversedRange, 1),
        ("0 0 30 2 *", .neverFires, 5),
        ("0 0 31 4 *", .neverFires, 5),
        ("* * */20 * 1L", .neverFires, 5),
        ("0 0 * * 8", .valueOutOfRange, 9),
        ("0 0 * * MON#6", .valueOutOfRange, 13),
        ("0 24 * * *", .valueOutOfRange, 3),
        ("0 0 * JANUARY *", .invalidValue, 7),
        ("0 0 * * L", .unsupportedSyntax, 9),
        ("1,,2 * * * *", .invalidValue, 3),
        ("@reboot", .unsupportedSyntax, 1),
        ("@often", .unsupportedSyntax, 1),
        ("  60 * * * *", .valueOutOfRange, 3),
    ]

    @Test("invalid cron is rejected with code and column", arguments: invalid)
    func rejected(spec: String, code: ScheduleParseError.Code, column: Int?) throws {
        let error = try #require(ScheduleTesting.parseError(spec))
        #expect(error.code == code)
        #expect(error.column == column)
        #expect(!error.message.isEmpty)
    }

    @Test func messagesNameTheFieldAndTheFix() throws {
        let range = try #require(ScheduleTesting.parseError("75 * * * *"))
        #expect(range.message.hasPrefix("minute value 75 is out of range (0–59)"))
        let reversed = try #require(ScheduleTesting.parseError("50-10 * * * *"))
        #expect(reversed.message.contains("50-59,0-10"))
        let never = try #require(ScheduleTesting.parseError("0 0 30 2 *"))
        #expect(never.message.contains("'L'"))
        let six = try #require(ScheduleTesting.parseError("0 0 0 * * *"))
        #expect(six.message.contains("five"))
        let question = try #require(ScheduleTesting.parseError("0 0 ? * MON"))
        #expect(question.message.contains("'*'"))
    }

    @Test func dayFieldsCombineAsDebianDoes() throws {
        // Neither starts with '*': either is enough (the 13th or any Friday).
        #expect(try ScheduleTesting.fires("0 0 13 * 5", from: "2026-02-01T00:00:00Z", count: 3)
                == ["2026-02-06T00:00:00+00:00", "2026-02-13T00:00:00+00:00", "2026-02-20T00:00:00+00:00"])
        // `*/1` in day-of-month counts as a star: both must match (Fridays only).
        #expect(try ScheduleTesting.fires("0 0 */1 * 5", from: "2026-02-01T00:00:00Z", count: 2)
                == ["2026-02-06T00:00:00+00:00", "2026-02-13T00:00:00+00:00"])
    }

    @Test func fixedTimeClassificationFollowsDebian() throws {
        #expect(try Schedule.parse("30 2 * * *", timeZone: .gmt).isFixedTime)
        #expect(try Schedule.parse("0 0-23 * * *", timeZone: .gmt).isFixedTime)
        #expect(try !Schedule.parse("*/5 2 * * *", timeZone: .gmt).isFixedTime)
        #expect(try !Schedule.parse("0 * * * *", timeZone: .gmt).isFixedTime)
    }

    @Test("agrees with cronsim on generated cases", arguments: cronsimFixtures)
    func cronsimFixture(row: (expression: String, zone: String, start: Int64, fires: [Int64])) throws {
        let schedule = try Schedule.parse(row.expression, timeZone: ScheduleTesting.zone(row.zone))
        let got = schedule.nextFireDates(after: Date(timeIntervalSince1970: TimeInterval(row.start)), count: row.fires.count)
        #expect(got.map { Int64($0.timeIntervalSince1970) } == row.fires, "\(row.expression) in \(row.zone) from \(row.start)")
    }
}
