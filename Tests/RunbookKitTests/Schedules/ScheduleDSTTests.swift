import Foundation
import Testing
@testable import RunbookKit

@Suite("Daylight-saving transitions")
struct ScheduleDSTTests {
    /// All 2026 and 2027 transitions of America/New_York, Europe/London,
    /// Australia/Sydney, Australia/Lord_Howe, plus Asia/Tokyo (none), for fixed
    /// and clock-following cron jobs and readable forms (see DSTFixtures.swift).
    @Test("fires across every 2026/2027 transition", arguments: dstFixtures)
    func transition(row: (spec: String, zone: String, start: Int64, fires: [Int64], source: String)) throws {
        let zone = ScheduleTesting.zone(row.zone)
        let schedule = try Schedule.parse(row.spec, timeZone: zone)
        let got = schedule.nextFireDates(after: Date(timeIntervalSince1970: TimeInterval(row.start)), count: row.fires.count)
        #expect(got.map { Int64($0.timeIntervalSince1970) } == row.fires,
                "\(row.spec) in \(row.zone) (\(row.source)): \(got.map { iso8601($0, in: zone) })")
    }

    @Test func springForwardRunsFixedJobsRightAfterTheGap() throws {
        // Europe/Berlin skips 02:00-03:00 on 2026-03-29.
        #expect(try ScheduleTesting.fires("30 2 * * *", zone: "Europe/Berlin", from: "2026-03-28T12:00:00+01:00", count: 2)
                == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"])
        // A clock-following job skips the missing hour.
        #expect(try ScheduleTesting.fires("*/30 2 * * *", zone: "Europe/Berlin", from: "2026-03-28T12:00:00+01:00", count: 3)
                == ["2026-03-30T02:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:00:00+02:00"])
    }

    @Test func fallBackRunsFixedJobsOnceAndClockJobsTwice() throws {
        // Europe/Berlin repeats 02:00-03:00 on 2026-10-25.
        #expect(try ScheduleTesting.fires("30 2 * * *", zone: "Europe/Berlin", from: "2026-10-25T00:00:00+02:00", count: 2)
                == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"])
        #expect(try ScheduleTesting.fires("30 * * * *", zone: "Europe/Berlin", from: "2026-10-25T01:45:00+02:00", count: 3)
                == ["2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", "2026-10-25T03:30:00+01:00"])
        // Started in the second pass of the repeated hour, a fixed job waits for the next day.
        #expect(try ScheduleTesting.fires("45 2 * * *", zone: "Europe/Berlin", from: "2026-10-25T02:40:00+01:00", count: 1)
                == ["2026-10-26T02:45:00+01:00"])
    }

    @Test func lordHoweFollowsTheDesignRuleForClockJobs() throws {
        // Lord Howe falls back 30 minutes (02:00 +11 -> 01:30 +10:30) on 2026-04-05:
        // a clock-following job fires at every real matching time, 02:00 and 02:15 included.
        #expect(try ScheduleTesting.fires("*/15 2 * * *", zone: "Australia/Lord_Howe", from: "2026-04-05T01:00:00+11:00", count: 4)
                == ["2026-04-05T02:00:00+10:30", "2026-04-05T02:15:00+10:30", "2026-04-05T02:30:00+10:30", "2026-04-05T02:45:00+10:30"])
        // Spring forward 02:00 -> 02:30 on 2026-10-04: fixed job in the gap runs at 02:30.
        #expect(try ScheduleTesting.fires("15 2 * * *", zone: "Australia/Lord_Howe", from: "2026-10-03T12:00:00+10:30", count: 2)
                == ["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"])
    }
}
