/// Reads the `runbook:` settings from the comment header at the top of a
/// runbook file: the leading run of blank and comment lines (a `#!` line
/// included). Every problem is reported with its file, line and column;
/// unknown keys and bad values are never ignored.
public struct HeaderParser: Sendable {
    /// The comment marker of the runtime: `#` or `//`.
    public var commentPrefix: String

    public init(commentPrefix: String) {
        self.commentPrefix = commentPrefix
    }

    /// Parses the header of `text`, which was read from `path` (as shown to users).
    public func parse(_ text: String, path: String) -> Result<RunbookSettings, CatalogErrors> {
        var settings = RunbookSettings()
        var errors: [CatalogError] = []
        var seen: [String: Int] = [:]
        var lineNumber = 0
        // A byte-order mark (editors on Windows add one) is not text.
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isLineEnd) {
            lineNumber += 1
            let line = rawLine[...]
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || (lineNumber == 1 && trimmed.hasPrefix("#!")) { continue }
            guard trimmed.hasPrefix(commentPrefix) else { break }
            var body = trimmed.dropFirst(commentPrefix.count)
            body = body.drop { $0 == " " || $0 == "\t" }
            guard body.hasPrefix("runbook:") else { continue }
            let afterMarker = body.dropFirst("runbook:".count)
            let leading = afterMarker.prefix { $0 == " " || $0 == "\t" }.count
            let column = line.distance(from: line.startIndex, to: afterMarker.startIndex) + 1
            let location = { (offset: Int) in SourceLocation(file: path, line: lineNumber, column: column + offset) }
            guard let equals = afterMarker.firstIndex(of: "=") else {
                errors.append(CatalogError(.badValue, at: location(leading),
                    "expected 'key = value' after 'runbook:', e.g. '\(commentPrefix) runbook: timeout = 10m'"))
                continue
            }
            let rawKey = afterMarker[..<equals]
            let key = rawKey.trimmingWhitespace().lowercased()
            let keyOffset = rawKey.prefix { $0 == " " || $0 == "\t" }.count
            let value = afterMarker[afterMarker.index(after: equals)...].trimmingWhitespace()
            let valueOffset = afterMarker.distance(from: afterMarker.startIndex, to: equals) + 1
                + afterMarker[afterMarker.index(after: equals)...].prefix { $0 == " " || $0 == "\t" }.count
            guard RunbookSettings.keys.contains(key) else {
                let suggestion = Spelling.nearest(to: key, in: RunbookSettings.keys).map { " (did you mean '\($0)'?)" } ?? ""
                errors.append(CatalogError(.unknownKey, at: location(keyOffset),
                    "unknown setting '\(key)'\(suggestion); known settings: \(RunbookSettings.keys.joined(separator: ", "))"))
                continue
            }
            let repeatable = key == "credentials" || key == "parameters"
            if let first = seen[key], !repeatable {
                errors.append(CatalogError(.duplicateKey, at: location(keyOffset),
                    "'\(key)' is already set on line \(first): keep one of the two lines"))
                continue
            }
            seen[key] = lineNumber
            settings.givenKeys.insert(key)
            if let problem = apply(key: key, value: value, to: &settings) {
                errors.append(CatalogError(.badValue, at: location(valueOffset), problem))
            }
        }
        var names: Set<String> = []
        for parameter in settings.parameters where !names.insert(parameter.name).inserted {
            errors.append(CatalogError(.duplicateKey, at: SourceLocation(file: path, line: seen["parameters"] ?? 1),
                "parameter '\(parameter.name)' is declared twice: remove one"))
        }
        return errors.isEmpty ? .success(settings) : .failure(CatalogErrors(errors))
    }

    /// Applies one setting; returns a sentence describing a bad value.
    private func apply(key: String, value: String, to settings: inout RunbookSettings) -> String? {
        do throws(SettingProblem) {
            try applyOrThrow(key: key, value: value, to: &settings)
            return nil
        } catch {
            return error.message
        }
    }

    private struct SettingProblem: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    private func applyOrThrow(key: String, value: String, to settings: inout RunbookSettings) throws(SettingProblem) {
        func duration() throws(SettingProblem) -> Int {
            let seconds: Int
            do { seconds = try DurationText.seconds(value) } catch { throw SettingProblem("\(key): \(error.message)") }
            guard seconds > 0 else { throw SettingProblem("\(key) must be longer than 0s") }
            return seconds
        }
        func size(atLeast minimum: Int, _ minimumText: String) throws(SettingProblem) -> Int {
            let bytes: Int
            do { bytes = try ByteSize.bytes(value) } catch { throw SettingProblem("\(key): \(error.message)") }
            guard bytes >= minimum else { throw SettingProblem("\(key) must be at least \(minimumText)") }
            return bytes
        }
        func toggle() throws(SettingProblem) -> Bool {
            switch value.lowercased() {
            case "on", "yes", "true": return true
            case "off", "no", "false": return false
            default: throw SettingProblem("\(key) must be 'on' or 'off', not '\(value)'")
            }
        }
        let list = value.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        switch key {
        case "description":
            settings.description = value
        case "credentials":
            for name in list {
                if let problem = RunbookName.problem(with: name) { throw SettingProblem("credentials: \(problem)") }
                settings.credentials.append(name)
            }
        case "parameters":
            for item in list {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = parts[0].trimmingWhitespace()
                if let problem = ParameterDeclaration.problem(with: name) { throw SettingProblem(problem) }
                let defaultValue = parts.count == 2 ? parts[1].trimmingWhitespace() : nil
                settings.parameters.append(ParameterDeclaration(name: name, defaultValue: defaultValue))
            }
        case "timeout": settings.timeout = try duration()
        case "cpu": settings.cpu = try duration()
        case "memory": settings.memory = try size(atLeast: 1 << 20, "1M")
        case "output": settings.output = try size(atLeast: 1024, "1K")
        case "processes":
            guard let count = Int(value), count > 0 else {
                throw SettingProblem("processes must be a whole number above 0, not '\(value)'")
            }
            settings.processes = count
        case "file-size": settings.fileSize = try size(atLeast: 1024, "1K")
        case "open-files":
            guard let count = Int(value), count >= 16 else {
                throw SettingProblem("open-files must be a whole number of at least 16, not '\(value)'")
            }
            settings.openFiles = count
        case "network": settings.network = try toggle()
        case "test-network": settings.testNetwork = try toggle()
        case "history":
            do { settings.history = try Retention.parse(value) } catch { throw SettingProblem(error.message) }
        default: break
        }
    }
}
