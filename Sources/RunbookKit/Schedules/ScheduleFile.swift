import FoundationEssentials
import FoundationInternationalization
import Glibc

/// A problem in a schedule file: the same type as a spec error, always with a
/// `SourceLocation`.
public typealias ScheduleFileError = ScheduleParseError

/// Every problem found in one schedule file, in line order.
public struct ScheduleFileErrors: Error, Sendable, Hashable, CustomStringConvertible {
    public var errors: [ScheduleFileError]

    public init(errors: [ScheduleFileError]) { self.errors = errors }

    /// One compiler-style line per problem.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// A parsed `schedules/NAME.schedule` file (DESIGN.md §1 "Schedule files").
///
/// `key = value` lines and `#` comments (a `#` starts a comment at the start
/// of a line or after a blank, so cron's `1#2` stays intact). Exactly one of
/// `cron`, `every`, `at`; unknown and repeated keys are errors. Defaults:
/// `runbook` = the file's name, `timezone` = the host zone the caller passes,
/// `enabled = true`, `overlap = skip`, `catch-up = latest`,
/// `catch-up-window = 1d`, `jitter = 0s`, `retries = 0`, `retry-delay = 1m`.
public struct ScheduleFile: Sendable, Hashable {
    /// What to do when a slot comes while the previous job still runs.
    public enum Overlap: String, Sendable, Hashable, Codable, CaseIterable {
        case skip, queue, allow, replace
    }

    /// Which missed slots to run after downtime.
    public enum CatchUp: String, Sendable, Hashable, Codable, CaseIterable {
        case none, latest, all
    }

    /// One `K=V` of `parameters`, in the order written.
    public struct Parameter: Sendable, Hashable, Codable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The schedule's name: the file stem.
    public var name: String
    /// The file's path as given (used in every location).
    public var path: String
    public var schedule: Schedule
    public var runbook: String
    public var timeZone: TimeZone { schedule.timeZone }
    /// True when the file has no `timezone` and the host's zone applies.
    public var timeZoneIsDefault: Bool
    public var starts: Date? { schedule.starts }
    public var expires: Date? { schedule.expires }
    public var enabled: Bool
    public var parameters: [Parameter]
    public var overlap: Overlap
    public var catchUp: CatchUp
    /// Seconds.
    public var catchUpWindow: Int
    /// Upper bound of the start delay, seconds (0 = none).
    public var jitter: Int
    public var retries: Int
    /// First retry delay, seconds; doubles on each further retry.
    public var retryDelay: Int
    public var onFailure: String?
    /// The line each key was written on, for later diagnostics.
    public var lines: [String: Int]

    static let keys = ["cron", "every", "at", "runbook", "timezone", "starts", "expires", "enabled", "parameters",
                       "overlap", "catch-up", "catch-up-window", "jitter", "retries", "retry-delay", "on-failure"]

    /// Parses a schedule file, collecting every problem rather than stopping at the first.
    ///
    /// - Parameters:
    ///   - text: the file's content.
    ///   - path: the path to show in locations, e.g. `schedules/nightly.schedule`.
    ///   - name: the schedule's name (the file stem).
    ///   - defaultTimeZone: the host's zone, used when the file names none.
    public static func parse(text: String, path: String, name: String,
                             defaultTimeZone: TimeZone) -> Result<ScheduleFile, ScheduleFileErrors> {
        var errors: [ScheduleFileError] = []
        func report(_ code: ScheduleParseError.Code, _ message: String, line: Int, column: Int? = nil) {
            errors.append(ScheduleParseError(code: code, message: message, column: column,
                                             location: SourceLocation(file: path, line: line, column: column)))
        }
        if !isValidName(name) {
            report(.invalidName, "schedule name '\(name)' is not valid: use 1-64 letters, digits, '-' or '_' in the file name", line: 1)
        }

        struct Entry { var value: String; var line: Int; var column: Int }
        var entries: [String: Entry] = [:]
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }).enumerated() {
            let lineNumber = index + 1
            // `\r\n` is one Character, so splitting on newlines handles CRLF files.
            let line = Array(rawLine)
            // Strip a comment: `#` at the start or after a blank.
            var end = line.count
            for i in line.indices where line[i] == "#" && (i == 0 || line[i - 1].isWhitespace) {
                end = i
                break
            }
            let content = line[..<end]
            guard content.contains(where: { !$0.isWhitespace }) else { continue }
            let firstColumn = (content.firstIndex(where: { !$0.isWhitespace }) ?? 0) + 1
            guard let equals = content.firstIndex(of: "=") else {
                report(.invalidSetting, "expected 'key = value', found '\(String(content).trimmingWhitespace())'; e.g. 'cron = 5 * * * *'", line: lineNumber, column: firstColumn)
                continue
            }
            let key = String(content[..<equals]).trimmingWhitespace().lowercased()
            let valueStart = content[(equals + 1)...].firstIndex(where: { !$0.isWhitespace }) ?? end
            let value = String(content[(equals + 1)...]).trimmingWhitespace()
            let valueColumn = valueStart + 1
            guard keys.contains(key) else {
                let near = keys.map { ($0, Spelling.editDistance($0, key.replacing("_", with: "-"))) }.min { $0.1 < $1.1 }
                let hint = near.flatMap { $0.1 <= 2 ? "did you mean '\($0.0)'? " : nil } ?? ""
                report(.unknownKey, "unknown key '\(key)'; \(hint)valid keys are \(keys.joined(separator: ", "))", line: lineNumber, column: firstColumn)
                continue
            }
            if let previous = entries[key] {
                report(.duplicateKey, "'\(key)' is set twice (first on line \(previous.line)); keep one", line: lineNumber, column: firstColumn)
                continue
            }
            if value.isEmpty {
                report(.invalidSetting, "'\(key)' has no value", line: lineNumber, column: valueColumn)
                continue
            }
            entries[key] = Entry(value: value, line: lineNumber, column: valueColumn)
        }

        // Time zone first: starts, expires and the spec are read in it.
        var zone = defaultTimeZone
        if let entry = entries["timezone"] {
            do {
                zone = try Schedule.timeZone(named: entry.value)
            } catch {
                report(.unknownTimeZone, error.message, line: entry.line, column: entry.column)
            }
        }
        func instant(_ key: String) -> Date? {
            guard let entry = entries[key] else { return nil }
            do {
                return try parseInstant(entry.value, timeZone: zone)
            } catch {
                report(error.code, "\(key): \(error.message)", line: entry.line, column: entry.column)
                return nil
            }
        }
        let starts = instant("starts")
        let expires = instant("expires")
        if let starts, let expires, expires <= starts, let entry = entries["expires"] {
            report(.invalidSetting, "expires (\(iso8601(expires, in: zone))) is not after starts (\(iso8601(starts, in: zone))); the schedule would never fire", line: entry.line, column: entry.column)
        }

        let specKeys = ["cron", "every", "at"].filter { entries[$0] != nil }
        var schedule: Schedule? = nil
        if specKeys.isEmpty {
            report(.missingSpec, "no schedule: add exactly one of 'cron = 5 * * * *', 'every = 15 minutes' or 'at = 2026-12-01 10:00'", line: 1)
        } else if specKeys.count > 1, let second = entries[specKeys[1]] {
            report(.conflictingSpecs, "both '\(specKeys[0])' and '\(specKeys[1])' are set; a schedule has exactly one of cron, every, at: split it into two files", line: second.line, column: nil)
        } else if let key = specKeys.first, let entry = entries[key] {
            let kind: Schedule.Kind = key == "cron" ? .cron : (key == "every" ? .every : .at)
            var spec = entry.value
            var shift = 0
            if kind == .at && !spec.lowercased().hasPrefix("at ") { spec = "at " + spec; shift = 3 }
            do {
                schedule = try Schedule.parse(spec, kind: kind, timeZone: zone, starts: starts, expires: expires)
            } catch {
                var located = error.located(file: path, line: entry.line, valueColumn: entry.column - shift)
                if located.column == nil || error.column == nil {
                    located.location = SourceLocation(file: path, line: entry.line, column: entry.column)
                    located.column = entry.column
                }
                errors.append(located)
            }
        }

        let runbook = entries["runbook"]?.value ?? name
        if let entry = entries["runbook"], !isValidName(entry.value) {
            report(.invalidName, "runbook name '\(entry.value)' is not valid: use 1-64 letters, digits, '-' or '_'", line: entry.line, column: entry.column)
        }
        let onFailure = entries["on-failure"]?.value
        if let entry = entries["on-failure"], !isValidName(entry.value) {
            report(.invalidName, "on-failure runbook name '\(entry.value)' is not valid: use 1-64 letters, digits, '-' or '_'", line: entry.line, column: entry.column)
        }

        var enabled = true
        if let entry = entries["enabled"] {
            switch entry.value.lowercased() {
            case "true", "yes", "on": enabled = true
            case "false", "no", "off": enabled = false
            default: report(.invalidSetting, "enabled must be true or false, not '\(entry.value)'", line: entry.line, column: entry.column)
            }
        }

        func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ fallback: T) -> T where T.RawValue == String {
            guard let entry = entries[key] else { return fallback }
            if let value = T(rawValue: entry.value.lowercased()) { return value }
            report(.invalidSetting, "\(key) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), not '\(entry.value)'", line: entry.line, column: entry.column)
            return fallback
        }
        let overlap = choice("overlap", Overlap.skip)
        let catchUp = choice("catch-up", CatchUp.latest)

        func duration(_ key: String, _ fallback: Int) -> Int {
            guard let entry = entries[key] else { return fallback }
            do {
                return try DurationText.seconds(entry.value)
            } catch {
                report(.invalidDuration, "\(key): \(error.message)", line: entry.line, column: entry.column)
                return fallback
            }
        }
        let catchUpWindow = duration("catch-up-window", 86_400)
        let jitter = duration("jitter", 0)
        let retryDelay = duration("retry-delay", 60)
        if let entry = entries["retry-delay"], retryDelay == 0 {
            report(.invalidSetting, "retry-delay must be above 0s, e.g. 30s", line: entry.line, column: entry.column)
        }
        var retries = 0
        if let entry = entries["retries"] {
            if let n = Int(entry.value), (0...100).contains(n) { retries = n } else {
                report(.invalidSetting, "retries must be a whole number from 0 to 100, not '\(entry.value)'", line: entry.line, column: entry.column)
            }
        }

        var parameters: [Parameter] = []
        if let entry = entries["parameters"] {
            var offset = 0
            var seen: Set<String> = []
            for item in entry.value.split(separator: ",", omittingEmptySubsequences: false) {
                let column = entry.column + offset + (item.prefix(while: { $0.isWhitespace }).count)
                offset += item.count + 1
                let text = item.trimmingWhitespace()
                guard let eq = text.firstIndex(of: "=") else {
                    report(.invalidSetting, "parameter '\(text)' needs a value: write K=V, e.g. 'parameters = TARGET=prod, DAYS=7'", line: entry.line, column: column)
                    continue
                }
                let key = String(text[..<eq]).trimmingWhitespace()
                let value = String(text[text.index(after: eq)...]).trimmingWhitespace()
                guard isValidParameterName(key) else {
                    report(.invalidSetting, "parameter name '\(key)' is not valid: use letters, digits and '_', not starting with a digit", line: entry.line, column: column)
                    continue
                }
                guard seen.insert(key).inserted else {
                    report(.duplicateKey, "parameter '\(key)' is given twice; keep one", line: entry.line, column: column)
                    continue
                }
                parameters.append(Parameter(name: key, value: value))
            }
        }

        if let schedule, jitter > 0, let entry = entries["jitter"] {
            let reference = max(Date(timeIntervalSince1970: 1_767_225_600), starts ?? .distantPast)
            if let interval = schedule.shortestInterval(from: reference), TimeInterval(jitter) >= interval {
                report(.invalidSetting, "jitter \(DurationText.format(seconds: jitter)) is not below the schedule's interval (\(DurationText.format(seconds: Int(interval)))); jitter only delays a slot within its interval: choose less, e.g. \(DurationText.format(seconds: max(1, Int(interval) / 10)))", line: entry.line, column: entry.column)
            }
        }

        errors.sort { ($0.location?.line ?? 0, $0.location?.column ?? 0) < ($1.location?.line ?? 0, $1.location?.column ?? 0) }
        guard errors.isEmpty, let schedule else { return .failure(ScheduleFileErrors(errors: errors)) }
        return .success(ScheduleFile(
            name: name, path: path, schedule: schedule, runbook: runbook,
            timeZoneIsDefault: entries["timezone"] == nil, enabled: enabled, parameters: parameters,
            overlap: overlap, catchUp: catchUp, catchUpWindow: catchUpWindow, jitter: jitter, retries: retries,
            retryDelay: retryDelay, onFailure: onFailure, lines: entries.mapValues(\.line)))
    }

    /// Problems binding this schedule to runbooks: its runbook and its
    /// on-failure runbook must exist, every parameter must be declared, and
    /// every required parameter given.
    ///
    /// - Parameter runbookExists: the signature of a runbook by name, or nil.
    public func bindingProblems(runbookExists: (String) -> RunbookSignature?) -> [ScheduleFileError] {
        var problems: [ScheduleFileError] = []
        func at(_ key: String) -> SourceLocation { SourceLocation(file: path, line: lines[key] ?? 1) }
        if let signature = runbookExists(runbook) {
            let declared = signature.required.union(signature.optional)
            for parameter in parameters where !declared.contains(parameter.name) {
                let list = declared.isEmpty ? "it declares none" : "it declares \(declared.sorted().joined(separator: ", "))"
                problems.append(ScheduleParseError(code: .undeclaredParameter, message: "parameter '\(parameter.name)' is not declared by runbook '\(runbook)' (\(list)); remove it or add it to the runbook's '# runbook: parameters' header", location: at("parameters")))
            }
            let given = Set(parameters.map(\.name))
            for missing in signature.required.subtracting(given).sorted() {
                problems.append(ScheduleParseError(code: .missingParameter, message: "runbook '\(runbook)' requires parameter '\(missing)'; add it: 'parameters = \(missing)=...'", location: at(lines["parameters"] != nil ? "parameters" : "runbook")))
            }
        } else {
            let how = lines["runbook"] == nil ? " (the schedule's name, as no 'runbook' key is set)" : ""
            problems.append(ScheduleParseError(code: .unknownRunbook, message: "runbook '\(runbook)'\(how) does not exist; add runbooks/\(runbook).py, .sh or .swift, or set 'runbook = NAME'", location: at("runbook")))
        }
        if let onFailure, runbookExists(onFailure) == nil {
            problems.append(ScheduleParseError(code: .unknownRunbook, message: "on-failure runbook '\(onFailure)' does not exist; add runbooks/\(onFailure).py, .sh or .swift or remove 'on-failure'", location: at("on-failure")))
        }
        return problems
    }

    static func isValidName(_ name: String) -> Bool { RunbookName.isValid(name) }

    static func isValidParameterName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    static func unknownZoneMessage(_ name: String) -> String {
        let lower = name.lowercased()
        let known = TimeZone.knownTimeZoneIdentifiers
        if let exact = known.first(where: { $0.lowercased() == lower }) {
            return "unknown time zone '\(name)'; zone names are case-sensitive: write '\(exact)'"
        }
        let city = lower.split(separator: "/").last.map(String.init) ?? lower
        let best = known.map { ($0, Spelling.editDistance($0.lowercased().split(separator: "/").last.map(String.init) ?? "", city.replacing(" ", with: "_"))) }
            .min { $0.1 < $1.1 }
        let hint = best.flatMap { $0.1 <= 2 ? "did you mean '\($0.0)'? " : nil } ?? ""
        return "unknown time zone '\(name)'; \(hint)use an IANA name such as 'Europe/Berlin', 'America/New_York' or 'UTC'"
    }
}
