import Foundation
import Testing
@testable import RunbookKit

@Suite("Schedule files")
struct ScheduleFileTests {
    let berlin = ScheduleTesting.zone("Europe/Berlin")

    func parse(_ text: String, name: String = "nightly") -> Result<ScheduleFile, ScheduleFileErrors> {
        ScheduleFile.parse(text: text, path: "schedules/\(name).schedule", name: name, defaultTimeZone: berlin)
    }

    func errors(_ text: String) -> [ScheduleFileError] {
        if case let .failure(failure) = parse(text) { return failure.errors }
        return []
    }

    @Test func everyKeyIsRead() throws {
        let file = try parse("""
            # Nightly backup of the primary database.
            cron = 30 2 * * *   # after the batch
            runbook = backup
            timezone = America/New_York
            starts = 2026-01-01
            expires = 2027-01-01 00:00
            enabled = false
            parameters = TARGET=prod, DAYS=7
            overlap = queue
            catch-up = all
            catch-up-window = 2h
            jitter = 5m
            retries = 3
            retry-delay = 30s
            on-failure = page-oncall
            """).get()
        #expect(file.schedule.kind == .cron && file.schedule.text == "30 2 * * *")
        #expect(file.runbook == "backup")
        #expect(file.timeZone.identifier == "America/New_York" && !file.timeZoneIsDefault)
        #expect(file.starts == (try ScheduleTesting.instant("2026-01-01T00:00:00-05:00")))
        #expect(file.expires == (try ScheduleTesting.instant("2027-01-01T00:00:00-05:00")))
        #expect(!file.enabled)
        #expect(file.parameters == [.init(name: "TARGET", value: "prod"), .init(name: "DAYS", value: "7")])
        #expect(file.overlap == .queue && file.catchUp == .all)
        #expect(file.catchUpWindow == 7200 && file.jitter == 300 && file.retries == 3 && file.retryDelay == 30)
        #expect(file.onFailure == "page-oncall")
        #expect(file.lines["runbook"] == 3)
    }

    @Test func defaultsApply() throws {
        let file = try parse("every = 15 minutes\n").get()
        #expect(file.runbook == "nightly")
        #expect(file.timeZone == berlin && file.timeZoneIsDefault)
        #expect(file.enabled && file.overlap == .skip && file.catchUp == .latest)
        #expect(file.catchUpWindow == 86_400 && file.jitter == 0 && file.retries == 0 && file.onFailure == nil)
        #expect(file.schedule.kind == .every)
        #expect(try parse("at = 2026-12-01 10:00").get().schedule.kind == .at)
        #expect(try parse("every = every day at 08:00").get().schedule.kind == .every)
    }

    static let broken: [(String, ScheduleParseError.Code, Int, Int?)] = [
        ("cron = 75 * * * *", .valueOutOfRange, 1, 8),
        ("\n\ncron = 0 0 * 13 *", .valueOutOfRange, 3, 14),
        ("cron = 5 * * * *\ncolour = blue", .unknownKey, 2, 1),
        ("cron = 5 * * * *\ncron = 6 * * * *", .duplicateKey, 2, 1),
        ("cron = 5 * * * *\ntimezone = Mars/Olympus", .unknownTimeZone, 2, 12),
        ("cron = 5 * * * *\ntimezone = Berlin", .unknownTimeZone, 2, 12),
        ("cron = 5 * * * *\nevery = 15 minutes", .conflictingSpecs, 2, nil),
        ("runbook = backup", .missingSpec, 1, nil),
        ("cron = 5 * * * *\noverlap = sometimes", .invalidSetting, 2, 11),
        ("cron = 5 * * * *\ncatch-up = most", .invalidSetting, 2, 12),
        ("cron = 5 * * * *\nretry-delay = 10", .invalidDuration, 2, 15),
        ("every = 15 minutes\njitter = 15m", .invalidSetting, 2, 10),
        ("cron = 5 * * * *\nstarts = 2026-01-02\nexpires = 2026-01-01", .invalidSetting, 3, 11),
        ("cron = 5 * * * *\nstarts = yesterday", .invalidDate, 2, 10),
        ("every = 0 minutes", .invalidInterval, 1, 9),
        ("every = day at 25:00", .invalidTime, 1, 16),
        ("at = 2026-02-30 10:00", .invalidDate, 1, 6),
        ("cron = 5 * * * *\nparameters = TARGET", .invalidSetting, 2, 14),
        ("cron = 5 * * * *\nruns the backup", .invalidSetting, 2, 1),
        ("cron = 5 * * * *\nrunbook = back up", .invalidName, 2, 11),
        ("cron = 5 * * * *\nenabled = maybe", .invalidSetting, 2, 11),
        ("cron = */0 * * * *", .zeroStep, 1, 10),
        ("cron = 0 0 * * * *", .wrongFieldCount, 1, 18),
    ]

    @Test("problems carry a code and file:line:column", arguments: broken)
    func problem(text: String, code: ScheduleParseError.Code, line: Int, column: Int?) throws {
        let found = errors(text)
        let first = try #require(found.first { $0.code == code }, "\(found)")
        #expect(first.location?.file == "schedules/nightly.schedule")
        #expect(first.location?.line == line, "\(first)")
        #expect(first.location?.column == column, "\(first)")
    }

    @Test func allProblemsAreCollectedAndPrintedCompilerStyle() throws {
        let found = errors("""
            cron = 75 * * * *
            colour = blue
            overlap = never
            """)
        #expect(found.map(\.code) == [.valueOutOfRange, .unknownKey, .invalidSetting])
        #expect(found[0].description.hasPrefix("schedules/nightly.schedule:1:8: error: minute value 75 is out of range (0–59)"))
        #expect(found[1].message.contains("did you mean 'overlap'") == false)
        let typo = errors("cron = 5 * * * *\ntimezon = UTC")
        #expect(typo.first?.message.contains("did you mean 'timezone'") == true)
    }

    @Test func windowsLineEndsAreRead() throws {
        let file = try parse("# nightly\r\ncron = 5 * * * *\r\noverlap = allow\r\n").get()
        #expect(file.overlap == .allow && file.lines["overlap"] == 3)
        let found = errors("cron = 5 * * * *\r\noverlap = never\r\n")
        #expect(found.first?.location?.line == 2)
    }

    @Test func unknownZonesGetAHint() throws {
        let found = errors("cron = 5 * * * *\ntimezone = europe/berlin")
        #expect(found.first?.code == .unknownTimeZone)
        #expect(found.first?.message.contains("'Europe/Berlin'") == true)
    }

    @Test func bindingsAreChecked() throws {
        let file = try parse("""
            cron = 5 * * * *
            runbook = backup
            parameters = TARGET=prod, COLOUR=blue
            on-failure = page
            """).get()
        let signatures = ["backup": RunbookSignature(name: "backup", required: ["TARGET", "DAYS"], optional: ["VERBOSE"])]
        let problems = file.bindingProblems { signatures[$0] }
        #expect(problems.map(\.code) == [.undeclaredParameter, .missingParameter, .unknownRunbook])
        #expect(problems.allSatisfy { $0.location?.file == "schedules/nightly.schedule" })
        #expect(problems[0].location?.line == 3 && problems[2].location?.line == 4)

        let missing = try parse("cron = 5 * * * *").get().bindingProblems { _ in nil }
        #expect(missing.map(\.code) == [.unknownRunbook])
        #expect(missing[0].message.contains("'nightly'"))

        let fine = try parse("cron = 5 * * * *\nparameters = TARGET=x").get()
            .bindingProblems { RunbookSignature(name: $0, required: ["TARGET"]) }
        #expect(fine.isEmpty)
    }
}
