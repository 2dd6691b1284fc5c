import Foundation
import Testing
@testable import RunbookKit

@Suite("Readable schedules")
struct ReadableScheduleTests {
    /// Every form of DESIGN.md §1, in Europe/Berlin, after Thursday 2026-01-01 00:00.
    static let forms: [(String, [String])] = [
        ("every 15 minutes", ["2026-01-01T00:15:00+01:00", "2026-01-01T00:30:00+01:00", "2026-01-01T00:45:00+01:00"]),
        ("every 2 hours", ["2026-01-01T02:00:00+01:00", "2026-01-01T04:00:00+01:00", "2026-01-01T06:00:00+01:00"]),
        ("every 30 seconds", ["2026-01-01T00:00:30+01:00", "2026-01-01T00:01:00+01:00", "2026-01-01T00:01:30+01:00"]),
        ("every day at 02:30", ["2026-01-01T02:30:00+01:00", "2026-01-02T02:30:00+01:00", "2026-01-03T02:30:00+01:00"]),
        ("every day at 08:00, 20:00", ["2026-01-01T08:00:00+01:00", "2026-01-01T20:00:00+01:00", "2026-01-02T08:00:00+01:00"]),
        // 2000-01-01 is day 0; 2026-01-01 is day 9497 (= 2 mod 3).
        ("every 3 days at 06:00", ["2026-01-02T06:00:00+01:00", "2026-01-05T06:00:00+01:00", "2026-01-08T06:00:00+01:00"]),
        ("every weekday at 07:00", ["2026-01-01T07:00:00+01:00", "2026-01-02T07:00:00+01:00", "2026-01-05T07:00:00+01:00"]),
        ("every weekend at 10:00", ["2026-01-03T10:00:00+01:00", "2026-01-04T10:00:00+01:00", "2026-01-10T10:00:00+01:00"]),
        ("every monday, thursday at 09:15", ["2026-01-01T09:15:00+01:00", "2026-01-05T09:15:00+01:00", "2026-01-08T09:15:00+01:00"]),
        // Weeks count from Monday 1999-12-27; the week of 2026-01-02 is week 1357 (odd).
        ("every 2 weeks on friday at 17:00", ["2026-01-09T17:00:00+01:00", "2026-01-23T17:00:00+01:00", "2026-02-06T17:00:00+01:00"]),
        ("every month on day 1 at 00:05", ["2026-01-01T00:05:00+01:00", "2026-02-01T00:05:00+01:00", "2026-03-01T00:05:00+01:00"]),
        ("every month on day 1, 15 at 06:00", ["2026-01-01T06:00:00+01:00", "2026-01-15T06:00:00+01:00", "2026-02-01T06:00:00+01:00"]),
        ("every month on the last day at 23:00", ["2026-01-31T23:00:00+01:00", "2026-02-28T23:00:00+01:00", "2026-03-31T23:00:00+02:00"]),
        ("every month on the first monday at 09:00", ["2026-01-05T09:00:00+01:00", "2026-02-02T09:00:00+01:00", "2026-03-02T09:00:00+01:00"]),
        ("every month on the second tuesday at 09:00", ["2026-01-13T09:00:00+01:00", "2026-02-10T09:00:00+01:00", "2026-03-10T09:00:00+01:00"]),
        ("every month on the third wednesday at 09:00", ["2026-01-21T09:00:00+01:00", "2026-02-18T09:00:00+01:00", "2026-03-18T09:00:00+01:00"]),
        ("every month on the fourth thursday at 09:00", ["2026-01-22T09:00:00+01:00", "2026-02-26T09:00:00+01:00", "2026-03-26T09:00:00+01:00"]),
        ("every month on the last friday at 18:00", ["2026-01-30T18:00:00+01:00", "2026-02-27T18:00:00+01:00", "2026-03-27T18:00:00+01:00"]),
        ("every 3 months on day 15 at 12:00", ["2026-01-15T12:00:00+01:00", "2026-04-15T12:00:00+02:00", "2026-07-15T12:00:00+02:00"]),
        ("at 2026-12-01 10:00", ["2026-12-01T10:00:00+01:00"]),
        // Combinations and tolerance.
        ("every month on day 31 at 12:00", ["2026-01-31T12:00:00+01:00", "2026-03-31T12:00:00+02:00", "2026-05-31T12:00:00+02:00"]),
        ("every other day at 06:00", ["2026-01-02T06:00:00+01:00", "2026-01-04T06:00:00+01:00", "2026-01-06T06:00:00+01:00"]),
        ("every hour", ["2026-01-01T01:00:00+01:00", "2026-01-01T02:00:00+01:00", "2026-01-01T03:00:00+01:00"]),
        ("every 90 minutes", ["2026-01-01T01:30:00+01:00", "2026-01-01T03:00:00+01:00", "2026-01-01T04:30:00+01:00"]),
        ("Every Monday and Thursday at 9:15", ["2026-01-01T09:15:00+01:00", "2026-01-05T09:15:00+01:00", "2026-01-08T09:15:00+01:00"]),
        ("EVERY 1 MINUTES", ["2026-01-01T00:01:00+01:00", "2026-01-01T00:02:00+01:00", "2026-01-01T00:03:00+01:00"]),
        ("every 2 week on Fridays at 17:00", ["2026-01-09T17:00:00+01:00", "2026-01-23T17:00:00+01:00", "2026-02-06T17:00:00+01:00"]),
        ("every day at 8am and 8pm", ["2026-01-01T08:00:00+01:00", "2026-01-01T20:00:00+01:00", "2026-01-02T08:00:00+01:00"]),
        ("every month on the 1st and 15th at noon", ["2026-01-01T12:00:00+01:00", "2026-01-15T12:00:00+01:00", "2026-02-01T12:00:00+01:00"]),
        ("every week on monday at 09:00", ["2026-01-05T09:00:00+01:00", "2026-01-12T09:00:00+01:00", "2026-01-19T09:00:00+01:00"]),
        ("every month on the first and third monday at 09:00", ["2026-01-05T09:00:00+01:00", "2026-01-19T09:00:00+01:00", "2026-02-02T09:00:00+01:00"]),
        ("every 15 minutes on weekdays", ["2026-01-01T00:15:00+01:00", "2026-01-01T00:30:00+01:00", "2026-01-01T00:45:00+01:00"]),
        ("every day at 9", ["2026-01-01T09:00:00+01:00", "2026-01-02T09:00:00+01:00", "2026-01-03T09:00:00+01:00"]),
        ("every day at 06:00:30", ["2026-01-01T06:00:30+01:00", "2026-01-02T06:00:30+01:00", "2026-01-03T06:00:30+01:00"]),
        // Without the word `every`, as the file key `every = ...` gives it.
        ("15 minutes", ["2026-01-01T00:15:00+01:00", "2026-01-01T00:30:00+01:00", "2026-01-01T00:45:00+01:00"]),
        ("weekday at 07:00", ["2026-01-01T07:00:00+01:00", "2026-01-02T07:00:00+01:00", "2026-01-05T07:00:00+01:00"]),
        ("month on the last day at 23:00", ["2026-01-31T23:00:00+01:00", "2026-02-28T23:00:00+01:00", "2026-03-31T23:00:00+02:00"]),
    ]

    @Test("every readable form", arguments: forms)
    func form(spec: String, expected: [String]) throws {
        #expect(try ScheduleTesting.fires(spec, zone: "Europe/Berlin", from: "2026-01-01T00:00:00+01:00") == expected)
        #expect(try Schedule.parse(spec, timeZone: ScheduleTesting.zone("Europe/Berlin")).kind != .cron)
    }

    @Test func intervalsOnSomeDaysSkipTheOthers() throws {
        #expect(try ScheduleTesting.fires("every 15 minutes on weekdays", zone: "Europe/Berlin", from: "2026-01-02T23:30:00+01:00")
                == ["2026-01-02T23:45:00+01:00", "2026-01-05T00:00:00+01:00", "2026-01-05T00:15:00+01:00"])
    }

    @Test func startsAnchorsStepsAndNonDividingIntervals() throws {
        #expect(try ScheduleTesting.fires("every 7 hours", zone: "Europe/Berlin", from: "2025-12-01T00:00:00+01:00", count: 4,
                                          starts: "2026-01-01 00:00")
                == ["2026-01-01T00:00:00+01:00", "2026-01-01T07:00:00+01:00", "2026-01-01T14:00:00+01:00", "2026-01-01T21:00:00+01:00"])
        #expect(try ScheduleTesting.fires("every 3 days at 06:00", zone: "Europe/Berlin", from: "2026-01-01T00:00:00+01:00", count: 2,
                                          starts: "2026-01-01 00:00")
                == ["2026-01-01T06:00:00+01:00", "2026-01-04T06:00:00+01:00"])
        #expect(try ScheduleTesting.fires("every 2 weeks on friday at 17:00", zone: "Europe/Berlin", from: "2026-01-01T00:00:00+01:00",
                                          count: 2, starts: "2026-01-01 00:00")
                == ["2026-01-02T17:00:00+01:00", "2026-01-16T17:00:00+01:00"])
    }

    @Test func startsAndExpiresBoundTheSeries() throws {
        #expect(try ScheduleTesting.fires("every day at 08:00", zone: "Europe/Berlin", from: "2026-01-01T00:00:00+01:00", count: 5,
                                          starts: "2026-01-03 09:00", expires: "2026-01-05 08:00")
                == ["2026-01-04T08:00:00+01:00", "2026-01-05T08:00:00+01:00"])
        #expect(try ScheduleTesting.fires("at 2026-12-01 10:00", zone: "Europe/Berlin", from: "2027-01-01T00:00:00+01:00") == [])
    }

    @Test func readableTimesFollowTheFixedTimeRuleAcrossDST() throws {
        // New York skips 02:00-03:00 on 2026-03-08 and repeats 01:00-02:00 on 2026-11-01.
        #expect(try ScheduleTesting.fires("every day at 02:30", zone: "America/New_York", from: "2026-03-07T12:00:00-05:00", count: 2)
                == ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"])
        #expect(try ScheduleTesting.fires("every day at 01:30", zone: "America/New_York", from: "2026-10-31T12:00:00-04:00", count: 2)
                == ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"])
        #expect(try ScheduleTesting.fires("every 30 minutes", zone: "America/New_York", from: "2026-11-01T00:50:00-04:00", count: 5)
                == ["2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00",
                    "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"])
        #expect(try ScheduleTesting.fires("at 2026-03-08 02:30", zone: "America/New_York", from: "2026-01-01T00:00:00-05:00")
                == ["2026-03-08T03:00:00-04:00"])
    }

    static let invalid: [(String, ScheduleParseError.Code, Int?)] = [
        ("every 0 minutes", .invalidInterval, 7),
        ("every day at 25:00", .invalidTime, 14),
        ("at 2026-02-30 10:00", .invalidDate, 4),
        ("every 7 hours", .invalidInterval, 7),
        ("every fortnight", .unknownWord, 7),
        ("every monday", .missingTime, 13),
        ("every day 08:00", .missingTime, 11),
        ("every month on day 32 at 10:00", .invalidDate, 20),
        ("every month on the fifth monday at 10:00", .invalidDate, 20),
        ("every 2 mondays at 10:00", .invalidInterval, 7),
        ("every 15 minuts", .unknownWord, 10),
        ("at 2026-12-01", .missingTime, 14),
        ("every day at 08:60", .invalidTime, 14),
        ("every 15 minutes at 10:00", .unknownWord, 18),
        ("every year on day 1 at 00:00", .unknownWord, 7),
        ("every month at 10:00", .missingTime, 13),
    ]

    @Test("invalid readable specs are rejected with code and column", arguments: invalid)
    func rejected(spec: String, code: ScheduleParseError.Code, column: Int?) throws {
        let error = try #require(ScheduleTesting.parseError(spec, zone: "Europe/Berlin"))
        #expect(error.code == code, "\(error)")
        #expect(error.column == column, "\(error)")
        #expect(error.message.contains("'\(spec)'"), "the message quotes the input: \(error.message)")
        #expect(error.message.contains("try '"), "the message suggests a form: \(error.message)")
    }

    @Test func errorsSuggestTheNearestForm() throws {
        let zero = try #require(ScheduleTesting.parseError("every 0 minutes"))
        #expect(zero.message.contains("every 1 minute"))
        let seven = try #require(ScheduleTesting.parseError("every 7 hours"))
        #expect(seven.message.contains("every 6 hours") && seven.message.contains("every 8 hours") && seven.message.contains("starts"))
        let hour = try #require(ScheduleTesting.parseError("every day at 25:00"))
        #expect(hour.message.contains("every day at 23:00"))
        let date = try #require(ScheduleTesting.parseError("at 2026-02-30 10:00"))
        #expect(date.message.contains("28 days") && date.message.contains("at 2026-02-28 10:00"))
        let typo = try #require(ScheduleTesting.parseError("every 15 minuts"))
        #expect(typo.message.contains("minute"))
    }

    @Test func aMonthStepThatNeverMeetsTheDayIsRefused() throws {
        let starts = try ScheduleTesting.instant("2026-02-01T00:00:00Z")
        let error = try #require(ScheduleTesting.parseError("every 12 months on day 30 at 10:00", starts: starts))
        #expect(error.code == .neverFires)
    }
}
