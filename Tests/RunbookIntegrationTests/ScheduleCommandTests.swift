import Foundation
import Testing

/// `runbook next`, `runbook schedules`, `runbook check` and `show` on schedules.
@Suite("Schedule commands", .serialized)
struct ScheduleCommandTests {
    @Test(arguments: [
        (["30 2 * * *", "--tz", "Europe/London", "--from", "2026-03-28T00:00:00Z", "--count", "3"],
         "2026-03-28T02:30:00+00:00\n2026-03-29T02:30:00+01:00\n2026-03-30T02:30:00+01:00\n"),
        // Spring forward in New York: 02:30 does not exist on 2026-03-08; a
        // fixed-time job runs right after the gap.
        (["30 2 * * *", "--tz", "America/New_York", "--from", "2026-03-07T12:00:00-05:00", "--count", "2"],
         "2026-03-08T03:00:00-04:00\n2026-03-09T02:30:00-04:00\n"),
        (["every", "weekday", "at", "07:00", "--tz", "Asia/Tokyo", "--from", "2026-11-27T00:00:00+09:00", "--count", "2"],
         "2026-11-27T07:00:00+09:00\n2026-11-30T07:00:00+09:00\n"),
        (["at 2026-12-01 10:00", "--tz", "UTC", "--from", "2026-11-01T00:00:00Z"], "2026-12-01T10:00:00+00:00\n"),
    ])
    func next(arguments: [String], expected: String) throws {
        let root = try RunbookProcess.Root()
        let result = try root.run(["next"] + arguments)
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out == expected)
    }

    @Test(arguments: [
        (["60 * * * *"], Int32(1), "minute value 60 is out of range"),
        (["0 0 30 2 *"], 1, "never"),
        (["* * * * * *"], 1, "field"),
        (["every 0 minutes"], 1, "every 0 minutes"),
        (["every day at 25:00"], 1, "25:00"),
        (["at 2026-02-30 10:00"], 1, "2026-02-30"),
        (["* * * * *", "--tz", "Mars/Base"], 2, "unknown time zone 'Mars/Base'"),
        (["* * * * *", "--count", "0"], 2, "--count takes a whole number"),
        ([], 2, "missing SPEC"),
    ])
    func nextRejects(arguments: [String], status: Int32, message: String) throws {
        let root = try RunbookProcess.Root()
        let result = try root.run(["next"] + arguments)
        #expect(result.status == status)
        #expect(result.err.contains(message), "stderr was: \(result.err)")
        #expect(result.out.isEmpty)
    }

    @Test func schedulesListsCheckReportsAndShowBinds() throws {
        let root = try RunbookProcess.Root()
        try root.write("runbooks/backup.sh", "# runbook: parameters = TARGET\necho backup $TARGET\n")
        try root.write("schedules/nightly.schedule", "cron = 30 2 * * *\nrunbook = backup\ntimezone = Europe/Berlin\nparameters = TARGET=/srv\n")
        try root.write("schedules/broken.schedule", "cron = 61 * * * *\n")
        try root.write("schedules/orphan.schedule", "every = 1 hour\nrunbook = missing\n")
        try root.write("schedules/unbound.schedule", "every = 1 hour\nrunbook = backup\n")

        let listed = try root.run("schedules", "--json")
        let schedules = try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [[String: Any]] ?? []
        #expect(schedules.compactMap { $0["name"] as? String } == ["nightly", "orphan", "unbound"])
        let nightly = try #require(schedules.first)
        #expect(nightly["timezone"] as? String == "Europe/Berlin")
        #expect(nightly["published"] as? Bool == false)
        #expect((nightly["next"] as? [String])?.count == 3)
        #expect(listed.err.contains("schedules/broken.schedule:1:8: error: minute value 61"))

        let check = try root.run("check")
        #expect(check.status == 1)
        #expect(check.err.contains("schedules/broken.schedule:1:8"))
        #expect(check.err.contains("schedules/orphan.schedule:2: error: runbook 'missing' does not exist"))
        #expect(check.err.contains("schedules/unbound.schedule") && check.err.contains("requires parameter 'TARGET'"))
        #expect(!check.err.contains("nightly"))

        try root.run("publish", "backup")
        let shown = try root.run("show", "backup")
        #expect(shown.out.contains("schedule:    nightly: 30 2 * * * [Europe/Berlin]"))
        #expect(shown.out.contains("schedule:    unbound: every 1 hour"))
    }
}
