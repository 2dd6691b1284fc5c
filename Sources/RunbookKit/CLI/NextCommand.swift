import FoundationEssentials

struct NextCommand: Command {
    static let name = "next"
    static let summary = "preview when a schedule spec fires"
    static let usage = "runbook next SPEC [--tz ZONE] [--from TIME] [--count N] [--starts TIME]"
    static let help = """
        Prints the next fire times of SPEC, one ISO 8601 instant a line with
        the zone's offset, strictly after --from (default now). SPEC is a cron
        expression, an `every ...` form or `at ...`, exactly as a schedule
        file takes it; quote it, or give it as several words.

        Options:
          --tz ZONE       IANA zone to compute in (default the host's zone)
          --from TIME     start after this instant: 2026-03-29T01:00:00Z,
                          2026-03-29T03:00:00+02:00, or a local 2026-03-29 03:00
          --count N       how many instants (default 5)
          --starts TIME   the schedule's `starts`, for multi-day/week/month steps

        Examples:
          runbook next '30 2 * * *' --tz Europe/London --from 2026-03-28T00:00:00Z
          runbook next every weekday at 07:00 --tz America/New_York
          runbook next 'every 2 weeks on friday at 17:00' --count 3
        """

    var spec: String
    var zone: String?
    var from: String?
    var starts: String?
    var count: Int

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        zone = try scanner.value("--tz")
        from = try scanner.value("--from")
        starts = try scanner.value("--starts")
        count = try scanner.integer("--count", minimum: 1) ?? 5
        let words = try scanner.positionals()
        guard !words.isEmpty else { throw UsageError("missing SPEC, e.g. runbook next '5 * * * *'") }
        spec = words.joined(separator: " ")
    }

    func run(_ context: Context) throws -> Int32 {
        let timeZone: TimeZone
        do { timeZone = try zone.map { name throws(ScheduleParseError) in try Schedule.timeZone(named: name) } ?? .current } catch {
            throw UsageError("--tz: \(error.message)")
        }
        func instant(_ text: String?, _ option: String) throws -> Date? {
            guard let text else { return nil }
            do { return try parseInstant(text, timeZone: timeZone) } catch { throw UsageError("\(option): \(error.message)") }
        }
        let after = try instant(from, "--from") ?? context.now()
        let startsAt = try instant(starts, "--starts")
        let schedule: Schedule
        do { schedule = try Schedule.parse(spec, timeZone: timeZone, starts: startsAt) } catch {
            throw RunError(Self.explain(error, spec: spec))
        }
        let dates = schedule.nextFireDates(after: after, count: count)
        for date in dates { context.console.out(iso8601(date, in: timeZone)) }
        if dates.count < count {
            context.console.err("(\(dates.isEmpty ? "no" : "no more") fire times after \(iso8601(dates.last ?? after, in: timeZone)))")
        }
        return 0
    }

    /// The error with the spec and a caret under the column it points at.
    static func explain(_ error: ScheduleParseError, spec: String) -> String {
        guard let column = error.column, column >= 1, column <= spec.count + 1 else { return error.message }
        return "\(error.message)\n  \(spec)\n  \(String(repeating: " ", count: column - 1))^"
    }
}
