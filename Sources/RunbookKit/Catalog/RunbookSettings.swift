/// What a runbook's header says about how it runs. Defaults apply to keys
/// the header leaves out; they are documented in the README.
public struct RunbookSettings: Sendable, Codable, Equatable {
    public var description: String? = nil
    /// Credential names, in header order.
    public var credentials: [String] = []
    public var parameters: [ParameterDeclaration] = []
    /// Wall-clock limit in seconds (default one hour).
    public var timeout: Int = 3600
    /// Memory limit in bytes, if any.
    public var memory: Int? = nil
    /// CPU-time limit in seconds, if any.
    public var cpu: Int? = nil
    /// Limit on processes (and threads) the job may run at once, if any.
    public var processes: Int? = nil
    /// Recorded output limit in bytes (default 10 MiB); more is dropped
    /// behind a visible truncation mark.
    public var output: Int = 10 << 20
    /// Whether scheduled and manual runs may use the network (default on).
    public var network: Bool = true
    /// Whether a dry run (`runbook test`) may use the network (default off).
    public var testNetwork: Bool = false
    /// Largest file the job may write, in bytes (RLIMIT_FSIZE), if any.
    public var fileSize: Int? = nil
    /// Open descriptors per process (RLIMIT_NOFILE), if any.
    public var openFiles: Int? = nil
    /// How many of its jobs to keep; nil for `runbook.conf`'s `history`.
    public var history: Retention? = nil
    /// The keys the header set, so that `runbook.conf` fills in only the rest.
    public var givenKeys: Set<String> = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case description, credentials, parameters, timeout, memory, cpu, processes, output, network
        case history
        case testNetwork = "test_network", fileSize = "file_size", openFiles = "open_files"
    }

    public static let keys: [String] = [
        "description", "credentials", "parameters", "timeout", "memory", "cpu",
        "processes", "output", "network", "test-network", "file-size", "open-files", "history",
    ]
}
