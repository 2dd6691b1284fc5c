import FoundationEssentials

/// `runbook.conf` at the root: the host's default limits and who jobs run
/// as. `key = value` lines, `#` comments. A runbook's header overrides each
/// limit for that runbook; what neither sets takes the built-in default.
///
/// ```
/// memory = 512M        # per job, memory cgroup (swap included)
/// cpu = 10m            # CPU time, RLIMIT_CPU
/// processes = 256      # pids cgroup, else RLIMIT_NPROC
/// output = 10M         # recorded output
/// timeout = 1h
/// file-size = 1G       # RLIMIT_FSIZE
/// open-files = 1024    # RLIMIT_NOFILE
/// user = nobody        # who jobs run as when runbook runs as root
/// sandbox = on         # off: supervision and rlimits only (no namespaces, cgroups, seccomp)
/// history = 1000       # jobs kept per runbook, and/or an age: 1000, 30d (see `Retention`)
/// ```
public struct HostConfig: Sendable, Equatable {
    public var memory: Int? = 512 << 20
    public var cpu: Int? = 600
    public var processes: Int? = 256
    public var output: Int = 10 << 20
    public var timeout: Int = 3600
    public var fileSize: Int? = 1 << 30
    public var openFiles: Int? = 1024
    /// The account jobs run as when runbook runs as root (`root` keeps root).
    public var user: String = "nobody"
    /// Off: jobs are supervised and rlimited but not confined.
    public var sandbox: Bool = true
    /// Job history kept per runbook, unless its header says otherwise.
    public var history = Retention.standard

    public init() {}

    public static let keys = ["memory", "cpu", "processes", "output", "timeout", "file-size", "open-files", "user", "sandbox", "history"]

    /// Reads `workspace.hostConfig`; built-in defaults if the file is absent.
    /// - Throws: `CatalogErrors` with `runbook.conf:LINE:COLUMN` for unknown keys and bad values.
    public static func load(_ workspace: Workspace) throws -> HostConfig {
        guard let data = FileManager.default.contents(atPath: workspace.hostConfig.path) else { return HostConfig() }
        return try parse(String(decoding: data, as: UTF8.self), path: workspace.display(workspace.hostConfig)).get()
    }

    /// Parses the text of a `runbook.conf`.
    public static func parse(_ text: String, path: String) -> Result<HostConfig, CatalogErrors> {
        var config = HostConfig()
        var errors: [CatalogError] = []
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isLineEnd) {
            lineNumber += 1
            let line = String(rawLine.prefix { $0 != "#" })
            guard !line.trimmingWhitespace().isEmpty else { continue }
            let location = SourceLocation(file: path, line: lineNumber, column: 1)
            guard let equals = line.firstIndex(of: "=") else {
                errors.append(CatalogError(.badValue, at: location, "expected 'key = value', e.g. 'memory = 512M'"))
                continue
            }
            let key = line[..<equals].trimmingWhitespace().lowercased()
            let value = line[line.index(after: equals)...].trimmingWhitespace()
            do throws(HostConfigProblem) {
                try config.apply(key: key, value: value)
            } catch {
                errors.append(CatalogError(error.unknown ? .unknownKey : .badValue, at: location, error.message))
            }
        }
        return errors.isEmpty ? .success(config) : .failure(CatalogErrors(errors))
    }

    private struct HostConfigProblem: Error {
        var message: String
        var unknown = false
    }

    private mutating func apply(key: String, value: String) throws(HostConfigProblem) {
        let off = ["off", "none", "unlimited"].contains(value.lowercased())
        func size() throws(HostConfigProblem) -> Int? {
            if off { return nil }
            do { return try ByteSize.bytes(value) } catch { throw HostConfigProblem(message: "\(key): \(error.message)") }
        }
        func seconds() throws(HostConfigProblem) -> Int {
            do { return try DurationText.seconds(value) } catch { throw HostConfigProblem(message: "\(key): \(error.message)") }
        }
        func count() throws(HostConfigProblem) -> Int? {
            if off { return nil }
            guard let number = Int(value), number > 0 else {
                throw HostConfigProblem(message: "\(key) must be a whole number above 0 or 'unlimited', not '\(value)'")
            }
            return number
        }
        switch key {
        case "memory": memory = try size()
        case "cpu": cpu = off ? nil : try seconds()
        case "processes": processes = try count()
        case "output":
            guard let bytes = try size() else { throw HostConfigProblem(message: "output cannot be unlimited") }
            output = bytes
        case "timeout": timeout = try seconds()
        case "file-size": fileSize = try size()
        case "open-files": openFiles = try count()
        case "sandbox":
            switch value.lowercased() {
            case "on", "yes", "true": sandbox = true
            case "off", "no", "false": sandbox = false
            default: throw HostConfigProblem(message: "sandbox must be 'on' or 'off', not '\(value)'")
            }
        case "history":
            do { history = try Retention.parse(value) } catch { throw HostConfigProblem(message: error.message) }
        case "user":
            guard !value.isEmpty else { throw HostConfigProblem(message: "user needs an account name or uid") }
            user = value
        default:
            let hint = Spelling.nearest(to: key, in: Self.keys).map { " (did you mean '\($0)'?)" } ?? ""
            throw HostConfigProblem(message: "unknown setting '\(key)'\(hint); known settings: \(Self.keys.joined(separator: ", "))",
                                    unknown: true)
        }
    }
}

/// The limits one job runs with: the header's, else `runbook.conf`'s, else
/// the built-in defaults; and whether it may use the network.
public struct JobLimits: Sendable, Equatable, Codable {
    public var timeout: Int
    public var output: Int
    public var memory: Int?
    public var cpu: Int?
    public var processes: Int?
    public var fileSize: Int?
    public var openFiles: Int?
    public var network: Bool

    enum CodingKeys: String, CodingKey {
        case timeout, output, memory, cpu, processes, network
        case fileSize = "file_size", openFiles = "open_files"
    }

    /// - Parameters:
    ///   - dryRun: a test job: no network unless `test-network = on` or `live`.
    public init(settings: RunbookSettings, host: HostConfig, dryRun: Bool, live: Bool = false) {
        // A value counts as the runbook's when its header set it, or when it
        // differs from the unset default (settings built in code).
        let given = settings.givenKeys
        let unset = RunbookSettings()
        timeout = given.contains("timeout") || settings.timeout != unset.timeout ? settings.timeout : host.timeout
        output = given.contains("output") || settings.output != unset.output ? settings.output : host.output
        memory = settings.memory ?? host.memory
        cpu = settings.cpu ?? host.cpu
        processes = settings.processes ?? host.processes
        fileSize = settings.fileSize ?? host.fileSize
        openFiles = settings.openFiles ?? host.openFiles
        network = dryRun ? (settings.testNetwork || live) : settings.network
    }
}
