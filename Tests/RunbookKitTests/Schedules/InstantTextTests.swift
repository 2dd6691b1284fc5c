import Foundation
import Testing
@testable import RunbookKit

@Suite("Instants, time zones and jitter")
struct InstantTextTests {
    static let formatted: [(Double, String, String)] = [
        (1_774_746_000, "Europe/Berlin", "2026-03-29T03:00:00+02:00"),
        (1_774_746_000, "UTC", "2026-03-29T01:00:00+00:00"),
        (1_774_746_000, "Asia/Kolkata", "2026-03-29T06:30:00+05:30"),
        (1_774_746_000, "America/St_Johns", "2026-03-28T22:30:00-02:30"),
        (0, "America/New_York", "1969-12-31T19:00:00-05:00"),
    ]

    @Test("ISO 8601 with the zone's offset", arguments: formatted)
    func format(seconds: Double, zone: String, expected: String) {
        #expect(iso8601(Date(timeIntervalSince1970: seconds), in: ScheduleTesting.zone(zone)) == expected)
    }

    static let parsed: [(String, String, Double)] = [
        ("2026-03-29T03:00:00+02:00", "UTC", 1_774_746_000),
        ("2026-03-29T01:00:00Z", "Asia/Tokyo", 1_774_746_000),
        ("2026-03-29 03:00", "Europe/Berlin", 1_774_746_000),
        ("2026-03-29T03:00", "Europe/Berlin", 1_774_746_000),
        // In the gap: the end of the gap.
        ("2026-03-29 02:30", "Europe/Berlin", 1_774_746_000),
        // Repeated: the first occurrence.
        ("2026-10-25 02:30", "Europe/Berlin", 1_792_888_200),
        ("2026-03-29", "UTC", 1_774_742_400),
        ("2026-03-29T03:00:00+0200", "UTC", 1_774_746_000),
    ]

    @Test("--from spellings", arguments: parsed)
    func parse(text: String, zone: String, expected: Double) throws {
        #expect(try parseInstant(text, timeZone: ScheduleTesting.zone(zone)).timeIntervalSince1970 == expected)
    }

    @Test func badInstantsAreRejected() {
        for text in ["tomorrow", "2026-13-01 10:00", "2026-02-30", "2026-03-29 25:00", "2026-03-29T03:00:00+99:00"] {
            #expect(throws: ScheduleParseError.self, "\(text)") { try parseInstant(text, timeZone: .gmt) }
        }
    }

    @Test func jitterIsStableBoundedAndSpread() {
        let slot = Date(timeIntervalSince1970: 1_774_746_000)
        let a = jitterDelay(slot: slot, scheduleName: "nightly", bound: 300)
        #expect(a == jitterDelay(slot: slot, scheduleName: "nightly", bound: 300))
        #expect((0..<300).contains(a))
        #expect(jitterDelay(slot: slot, scheduleName: "nightly", bound: 0) == 0)
        let spread = Set((0..<100).map { jitterDelay(slot: slot, scheduleName: "s\($0)", bound: 300) })
        #expect(spread.count > 50)
        let overTime = Set((0..<100).map { jitterDelay(slot: slot.addingTimeInterval(Double($0) * 3600), scheduleName: "nightly", bound: 300) })
        #expect(overTime.count > 50)
    }

    @Test func zoneTablesMatchFoundation() {
        for name in ["America/New_York", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Tokyo", "Pacific/Chatham"] {
            let zone = ScheduleTesting.zone(name)
            let rules = ZoneRules.rules(for: zone)
            var t: Int64 = 1_767_225_600
            while t < 1_830_297_600 {
                #expect(rules.wall(forUTC: t).wall - t == Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t)))), "\(name) \(t)")
                t += 3 * 3600 + 17 * 60
            }
        }
        let y2026: ClosedRange<Int64> = 1_767_225_600...1_798_761_600
        #expect(ZoneRules.rules(for: ScheduleTesting.zone("Australia/Lord_Howe")).hasIrregularTransition(in: y2026))
        #expect(ZoneRules.rules(for: ScheduleTesting.zone("Pacific/Chatham")).hasIrregularTransition(in: y2026))
        #expect(!ZoneRules.rules(for: ScheduleTesting.zone("America/New_York")).hasIrregularTransition(in: y2026))
    }
}

@Suite("Zone names")
struct ZoneNameTests {
    @Test(arguments: ["Mars/Olympus", "Europe/Berlinn", "", "europe/berlin", "+02:00"])
    func unknownZonesAreRejected(name: String) throws {
        let error = try #require(throws: ScheduleParseError.self) { try Schedule.timeZone(named: name) }
        #expect(error.code == .unknownTimeZone)
        #expect(error.column == 1)
    }

    @Test(arguments: ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Tokyo"])
    func knownZonesResolve(name: String) throws {
        let zone = try Schedule.timeZone(named: name)
        // Foundation may report UTC as "GMT".
        #expect(zone.identifier == name || (name == "UTC" && zone.secondsFromGMT() == 0))
    }

    @Test func monthDaysSomeMonthsLackGetAHint() throws {
        #expect(try Schedule.parse("every month on day 31 at 12:00", timeZone: .gmt).hints.count == 1)
        #expect(try Schedule.parse("0 12 31 * *", timeZone: .gmt).hints.count == 1)
        #expect(try Schedule.parse("every month on the last day at 12:00", timeZone: .gmt).hints.isEmpty)
    }
}
