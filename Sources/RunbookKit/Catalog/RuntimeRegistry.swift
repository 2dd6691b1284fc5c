import FoundationEssentials

/// The runtimes known in a root: the built-ins, then those `runtimes.conf`
/// adds, by extension.
///
/// `runtimes.conf` is INI, a section per runtime:
/// ```
/// [node]
/// extension = js
/// command = node {file}
/// check = node --check {file}
/// comment = //
/// ```
/// `command` must contain `{file}`; `check` and `comment` (default `#`) are
/// optional. A section may not take an extension a built-in already has.
public struct RuntimeRegistry: Sendable {
    public private(set) var runtimes: [any Runtime]
    private var byExtension: [String: Int] = [:]

    public static let builtIn: [any Runtime] = [ScriptRuntime.python, ScriptRuntime.shell, SwiftRuntime()]

    public init(runtimes: [any Runtime] = RuntimeRegistry.builtIn) {
        self.runtimes = []
        for runtime in runtimes { add(runtime) }
    }

    private mutating func add(_ runtime: any Runtime) {
        runtimes.append(runtime)
        for ext in runtime.extensions { byExtension[ext] = runtimes.count - 1 }
    }

    public func runtime(forExtension ext: String) -> (any Runtime)? {
        byExtension[ext].map { runtimes[$0] }
    }

    public func runtime(named name: String) -> (any Runtime)? {
        runtimes.first { $0.name == name }
    }

    /// The built-ins plus the runtimes of `text` (the contents of `path`),
    /// with every problem in it reported; a broken section is left out and
    /// the rest still load.
    public static func loading(_ text: String, path: String) -> (RuntimeRegistry, [CatalogError]) {
        var registry = RuntimeRegistry()
        var errors: [CatalogError] = []
        var section: (name: String, line: Int, fields: [String: (String, Int)])?

        func finish() {
            guard let current = section else { return }
            let at = SourceLocation(file: path, line: current.line)
            guard let ext = current.fields["extension"]?.0.trimming(while: { $0 == "." || $0 == " " }), !ext.isEmpty else {
                errors.append(CatalogError(.badRuntimeConfig, at: at, "runtime '\(current.name)' needs 'extension = EXT'"))
                return
            }
            guard let command = current.fields["command"], command.0.contains("{file}") else {
                errors.append(CatalogError(.badRuntimeConfig, at: at,
                    "runtime '\(current.name)' needs 'command = PROGRAM ... {file}' ({file} stands for the runbook's path)"))
                return
            }
            if let existing = registry.runtime(forExtension: ext) {
                errors.append(CatalogError(.badRuntimeConfig, at: at,
                    "runtime '\(current.name)' takes .\(ext), which runtime '\(existing.name)' already has: choose another extension"))
                return
            }
            registry.add(ScriptRuntime(
                name: current.name, extensions: [ext], commentPrefix: current.fields["comment"]?.0 ?? "#",
                command: command.0.split(separator: " ").map(String.init),
                checkCommand: current.fields["check"].map { $0.0.split(separator: " ").map(String.init) }))
        }

        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isLineEnd).enumerated() {
            let line = rawLine.trimmingWhitespace()
            let number = index + 1
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                finish()
                guard line.hasSuffix("]") else {
                    errors.append(CatalogError(.badRuntimeConfig, at: SourceLocation(file: path, line: number),
                        "a section header must look like [name]"))
                    section = nil
                    continue
                }
                section = (String(line.dropFirst().dropLast()).trimmingWhitespace(), number, [:])
                continue
            }
            guard section != nil else {
                errors.append(CatalogError(.badRuntimeConfig, at: SourceLocation(file: path, line: number),
                    "a setting before any [runtime] section: start with a header like [node]"))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                errors.append(CatalogError(.badRuntimeConfig, at: SourceLocation(file: path, line: number),
                    "expected 'key = value'"))
                continue
            }
            let key = line[..<equals].trimmingWhitespace().lowercased()
            let value = line[line.index(after: equals)...].trimmingWhitespace()
            guard ["extension", "command", "check", "comment"].contains(key) else {
                errors.append(CatalogError(.badRuntimeConfig, at: SourceLocation(file: path, line: number),
                    "unknown key '\(key)': a runtime takes extension, command, check and comment"))
                continue
            }
            section?.fields[key] = (value, number)
        }
        finish()
        return (registry, errors)
    }
}
