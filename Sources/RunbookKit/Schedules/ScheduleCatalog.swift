import FoundationEssentials

/// Every schedule file under `schedules/`, each parsed on its own: a broken
/// file is reported with its file and line and never hides the others.
public struct ScheduleCatalog: Sendable {
    /// The schedules that parsed, by name.
    public var schedules: [String: ScheduleFile]
    /// Every problem, file by file.
    public var problems: [ScheduleParseError]

    public var names: [String] { schedules.keys.sorted() }

    /// Reads `workspace.schedules/*.schedule`; a zone-less file takes `defaultTimeZone`.
    public static func scan(_ workspace: Workspace, defaultTimeZone: TimeZone = .current) -> ScheduleCatalog {
        var schedules: [String: ScheduleFile] = [:]
        var problems: [ScheduleParseError] = []
        let files = (try? FileManager.default.contentsOfDirectory(atPath: workspace.schedules.path)) ?? []
        for file in files.sorted() where file.hasSuffix(".schedule") && !file.hasPrefix(".") {
            let url = workspace.schedules.appendingPathComponent(file)
            let path = workspace.display(url)
            let name = String(file.dropLast(".schedule".count))
            guard let data = FileManager.default.contents(atPath: url.path) else {
                problems.append(ScheduleParseError(code: .unreadable, message: "cannot read the file: check its permissions",
                                                   location: SourceLocation(file: path, line: 1)))
                continue
            }
            guard let text = String(validating: data, as: UTF8.self) else {
                let error = Catalog.notUTF8(data, path: path)
                problems.append(ScheduleParseError(code: .unreadable, message: error.message, column: error.location.column,
                                                   location: error.location))
                continue
            }
            switch ScheduleFile.parse(text: text, path: path, name: name, defaultTimeZone: defaultTimeZone) {
            case .success(let schedule): schedules[name] = schedule
            case .failure(let errors): problems += errors.errors
            }
        }
        return ScheduleCatalog(schedules: schedules, problems: problems)
    }

    /// Binding problems of every schedule against the runbooks of `catalog`
    /// (the draft headers: what `publish` would make live).
    public func bindingProblems(catalog: Catalog) -> [ScheduleParseError] {
        names.flatMap { name -> [ScheduleParseError] in
            schedules[name]?.bindingProblems { runbookName in
                guard let runbook = catalog.runbooks[runbookName] else { return nil }
                let parameters = runbook.settings?.parameters ?? []
                return RunbookSignature(name: runbookName,
                                        required: Set(parameters.filter(\.isRequired).map(\.name)),
                                        optional: Set(parameters.filter { !$0.isRequired }.map(\.name)))
            } ?? []
        }
    }

    /// The schedules bound to `runbook`.
    public func bound(to runbook: String) -> [ScheduleFile] {
        names.compactMap { schedules[$0] }.filter { $0.runbook == runbook }
    }
}
