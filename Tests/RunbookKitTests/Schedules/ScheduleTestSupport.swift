import Foundation
@testable import RunbookKit

/// Shared helpers for the schedule suites.
enum ScheduleTesting {
    static func zone(_ name: String) -> TimeZone {
        guard let zone = TimeZone(identifier: name) else { fatalError("test zone \(name) missing") }
        return zone
    }

    static func instant(_ text: String, _ zone: String = "UTC") throws -> Date {
        try parseInstant(text, timeZone: Self.zone(zone))
    }

    /// The next `count` fires of `spec` after `from`, as ISO 8601 in the zone.
    static func fires(_ spec: String, zone: String = "UTC", from: String, count: Int = 3,
                      starts: String? = nil, expires: String? = nil) throws -> [String] {
        let tz = Self.zone(zone)
        let schedule = try Schedule.parse(spec, timeZone: tz,
                                          starts: try starts.map { try parseInstant($0, timeZone: tz) },
                                          expires: try expires.map { try parseInstant($0, timeZone: tz) })
        return schedule.nextFireDates(after: try parseInstant(from, timeZone: tz), count: count).map { iso8601($0, in: tz) }
    }

    /// The thrown error of parsing `spec`, or nil.
    static func parseError(_ spec: String, zone: String = "UTC", starts: Date? = nil) -> ScheduleParseError? {
        do {
            _ = try Schedule.parse(spec, timeZone: Self.zone(zone), starts: starts)
            return nil
        } catch {
            return error
        }
    }
}
