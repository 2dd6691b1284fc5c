import FoundationEssentials

/// Every runbook file under `runbooks/`, each read, hashed and its header
/// parsed. A broken file (a bad name, two files with one stem, a header
/// error, bytes that are not UTF-8) is reported and the others are unaffected.
public struct Catalog: Sendable {
    /// Runbooks by name, the invalid ones included (with their problems).
    public var runbooks: [String: Runbook]
    /// Problems not tied to one runbook: bad names, files no runtime takes,
    /// `runtimes.conf` errors. (A name defined by two files is a runbook
    /// with a `duplicateName` problem.)
    public var problems: [CatalogError]
    public var registry: RuntimeRegistry

    /// Names in order.
    public var names: [String] { runbooks.keys.sorted() }

    /// The runtimes of `workspace`: the built-ins and `runtimes.conf`, with
    /// its problems.
    public static func runtimes(_ workspace: Workspace) -> (RuntimeRegistry, [CatalogError]) {
        guard let data = FileManager.default.contents(atPath: workspace.runtimesConfig.path) else { return (RuntimeRegistry(), []) }
        let path = workspace.display(workspace.runtimesConfig)
        guard let text = String(validating: data, as: UTF8.self) else {
            return (RuntimeRegistry(), [CatalogError(.notUTF8, at: SourceLocation(file: path, line: 1), "runtimes.conf is not UTF-8 text")])
        }
        return RuntimeRegistry.loading(text, path: path)
    }

    /// Scans `workspace.runbooks`.
    public static func scan(_ workspace: Workspace) -> Catalog {
        var (registry, problems) = runtimes(workspace)

        let files = (try? FileManager.default.contentsOfDirectory(atPath: workspace.runbooks.path)) ?? []
        var byName: [String: [String]] = [:]
        for file in files.sorted() where !file.hasPrefix(".") && !file.hasPrefix("README") {
            let url = workspace.runbooks.appendingPathComponent(file)
            var isDirectory = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory else { continue }
            let location = SourceLocation(file: workspace.display(url), line: 1)
            let ext = url.pathExtension
            let stem = url.deletingPathExtension().lastPathComponent
            guard !ext.isEmpty, registry.runtime(forExtension: ext) != nil else {
                let known = registry.runtimes.flatMap(\.extensions).map { "." + $0 }.joined(separator: ", ")
                problems.append(CatalogError(.unknownRuntime, at: location,
                    "no runtime runs '\(file)': runbooks end in \(known), or add a runtime for it in runtimes.conf"))
                continue
            }
            if let problem = RunbookName.problem(with: stem) {
                problems.append(CatalogError(.badName, at: location, problem))
                continue
            }
            byName[stem, default: []].append(file)
        }

        var runbooks: [String: Runbook] = [:]
        for (name, files) in byName {
            guard let file = files.first else { continue }
            let url = workspace.runbooks.appendingPathComponent(file)
            guard let runtime = registry.runtime(forExtension: url.pathExtension) else { continue }
            var runbook = load(name: name, file: url, path: workspace.display(url), runtime: runtime)
            if files.count > 1 {
                // Kept as an invalid runbook, not dropped: a name that
                // collides must not look deleted (and be retired by publish).
                let paths = files.map { "runbooks/" + $0 }
                runbook.settings = nil
                runbook.problems = [CatalogError(.duplicateName, at: SourceLocation(file: paths[0], line: 1),
                    "runbook '\(name)' is defined twice, by \(paths.joined(separator: " and ")): rename or remove one")]
            }
            runbooks[name] = runbook
        }
        return Catalog(runbooks: runbooks, problems: problems, registry: registry)
    }

    /// Reads one runbook file.
    static func load(name: String, file: URL, path: String, runtime: any Runtime) -> Runbook {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            return Runbook(name: name, file: file, path: path, runtime: runtime, hash: "", settings: nil,
                           problems: [CatalogError(.unreadable, at: SourceLocation(file: path, line: 1),
                                                   "cannot read the file: check its permissions")])
        }
        let hash = SHA256.hex(of: data)
        guard let text = String(validating: data, as: UTF8.self) else {
            return Runbook(name: name, file: file, path: path, runtime: runtime, hash: hash, settings: nil,
                           problems: [notUTF8(data, path: path)])
        }
        switch HeaderParser(commentPrefix: runtime.commentPrefix).parse(text, path: path) {
        case .success(let settings):
            return Runbook(name: name, file: file, path: path, runtime: runtime, hash: hash, settings: settings, problems: [])
        case .failure(let errors):
            return Runbook(name: name, file: file, path: path, runtime: runtime, hash: hash, settings: nil, problems: errors.errors)
        }
    }

    /// Points at the first byte that breaks UTF-8.
    static func notUTF8(_ data: Data, path: String) -> CatalogError {
        let bytes = [UInt8](data)
        var line = 1, column = 1, index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let length = byte < 0x80 ? 1 : byte >> 5 == 0b110 ? 2 : byte >> 4 == 0b1110 ? 3 : byte >> 3 == 0b11110 ? 4 : 0
            let end = index + length
            if length == 0 || end > bytes.count
                || String(validating: bytes[index..<end], as: UTF8.self) == nil { break }
            if byte == 0x0a { line += 1; column = 1 } else { column += 1 }
            index = end
        }
        let byte = index < bytes.count ? String(cFormat: "0x%02lx", Int(bytes[index])) : "end of file"
        return CatalogError(.notUTF8, at: SourceLocation(file: path, line: line, column: column),
                            "the file is not UTF-8 text (byte \(byte)): save it as UTF-8")
    }

    /// The runbook called `name`, whether valid or not.
    /// - Throws: `CatalogLookupError` when no file defines it, naming the
    ///   closest names and any problem that hides it.
    public func runbook(named name: String) throws -> Runbook {
        if let runbook = runbooks[name] { return runbook }
        let related = problems.filter { $0.location.file.hasPrefix("runbooks/\(name).") }
        if let problem = related.first { throw CatalogLookupError(message: problem.description) }
        let suggestion = Spelling.nearest(to: name, in: names).map { " (did you mean '\($0)'?)" } ?? ""
        throw CatalogLookupError(message: "no runbook named '\(name)' in runbooks/\(suggestion); `runbook list` shows them all")
    }
}

public struct CatalogLookupError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
