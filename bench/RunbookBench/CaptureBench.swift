import Foundation
import RunbookKit

/// `runbook-bench capture [MB] [ROUNDS]`: job output through the full
/// capture path (pipe → line splitting → masking → timestamped log), with
/// 50 active secrets and with none, on the same generated output. Each
/// round captures it both ways, in alternating order (the machine is
/// shared and noisy: one capture is a third of a second); the figures are
/// the medians, and the masking share is also given round by round.
func runCaptureBench(arguments: [String]) throws {
    let megabytes = arguments.first.flatMap(Int.init) ?? 200
    let rounds = max(1, arguments.dropFirst().first.flatMap(Int.init) ?? 3)
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("runbook-capture-\(getpid())")
    try FileManager.default.createDirectory(at: root.appendingPathComponent("runbooks"), withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }
    let workspace = Workspace(root: root)
    try workspace.prepareState()

    // 50 secrets; the output mixes plain lines with lines carrying them.
    let secrets = (0..<50).map { "bench-secret-\($0)-" + String(repeating: "k", count: 8 + $0 % 17) }
    var credentials = "[bench]\n"
    for (index, secret) in secrets.enumerated() { credentials += "field\(index) = \(secret)\n" }
    try credentials.write(to: workspace.credentials, atomically: true, encoding: .utf8)
    chmod(workspace.credentials.path, 0o600)

    let data = root.appendingPathComponent("output.txt")
    guard FileManager.default.createFile(atPath: data.path, contents: nil) else { throw RunError("cannot create \(data.path)") }
    let handle = try FileHandle(forWritingTo: data)
    var chunk: [UInt8] = []
    var line = 0
    var written = 0
    while written < megabytes << 20 {
        line += 1
        let text = line % 10 == 0
            ? "2026-11-23T04:12:09.123Z INFO connecting with token \(secrets[line % 50]) to api.example.invalid\n"
            : "2026-11-23T04:12:09.123Z DEBUG request \(line) took \(line % 997) ms status=200 bytes=\(line * 7 % 65536)\n"
        chunk.append(contentsOf: Array(text.utf8))
        if chunk.count > 1 << 20 {
            handle.write(Data(chunk))
            written += chunk.count
            chunk.removeAll(keepingCapacity: true)
        }
    }
    try handle.close()

    let store: any Store = try SQLiteStore(path: workspace.database.path)
    let tools = Tools(environment: ProcessInfo.processInfo.environment, runner: SubprocessRunner(), cacheFile: nil)
    let runner = JobRunner(workspace: workspace, store: store, tools: tools, hostName: "bench") { Date() }
    let script = try SnapshotStore(directory: workspace.snapshots).store(Data("cat \(data.path)\n".utf8))

    /// The size of the first masked log, checked for secrets byte by byte;
    /// later masked logs must have the same size (masking does not depend
    /// on how the output was split into reads).
    var checkedLogSize: Int?
    func capture(masked: Bool) throws -> Double {
        var settings = RunbookSettings()
        settings.output = 4 << 30
        settings.credentials = masked ? ["bench"] : []
        let job = NewJob(runbook: "capture", revision: 1, snapshot: script, trigger: .manual)
        let start = Date()
        let record = try runner.run(JobRunner.Request(job: job, runtime: ScriptRuntime.shell, settings: settings, parameters: [:], echo: nil))
        let seconds = Date().timeIntervalSince(start)
        guard record.status == .succeeded else { throw RunError("capture job \(record.status): \(record.reason ?? "")") }
        let logFile = runner.logFile(for: record.id)
        if masked {
            let size = try FileManager.default.attributesOfItem(atPath: logFile.path)[.size] as? Int ?? 0
            if let checkedLogSize {
                if size != checkedLogSize { throw RunError("masked logs differ in size: \(size) and \(checkedLogSize) bytes") }
            } else {
                // Bytes, not String.contains: the log is hundreds of megabytes.
                let log = try Data(contentsOf: logFile)
                let leaked = secrets.contains { log.range(of: Data($0.utf8)) != nil }
                if leaked { throw RunError("a secret reached the log") }
                checkedLogSize = size
            }
        }
        try? FileManager.default.removeItem(at: logFile)
        return seconds
    }
    // The masker alone, in memory, on the same lines.
    let buildStart = Date()
    let masker = SecretMasker(secrets: secrets.map(Secret.init))
    let build = Date().timeIntervalSince(buildStart)
    let bytes = try [UInt8](Data(contentsOf: data))
    var maskedLines = 0
    let maskStart = Date()
    var lineStart = 0
    for index in bytes.indices where bytes[index] == 0x0a {
        if masker.mask(bytes[lineStart..<index]).count != index - lineStart { maskedLines += 1 }
        lineStart = index + 1
    }
    let maskOnly = Date().timeIntervalSince(maskStart)

    var plain: [Double] = []
    var masked: [Double] = []
    for round in 0..<rounds {
        if round % 2 == 0 {
            plain.append(try capture(masked: false))
            masked.append(try capture(masked: true))
        } else {
            masked.append(try capture(masked: true))
            plain.append(try capture(masked: false))
        }
    }
    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
    func list(_ values: [Double]) -> String { values.map { String(format: "%.2f", $0) }.joined(separator: " ") }
    let shares = zip(plain, masked).map { ($1 - $0) / $1 * 100 }
    let mb = Double(written) / Double(1 << 20)
    print(String(format: "capture of %.0f MB through pipe, line splitting and log, %d lines; %d rounds, medians", mb, line, rounds))
    print(String(format: "  plain:  %.2f s, %.0f MB/s (%@ s)", median(plain), mb / median(plain), list(plain)))
    print(String(format: "  masked: %.2f s, %.0f MB/s (%@ s; 50 secrets)", median(masked), mb / median(masked), list(masked)))
    print(String(format: "  masking costs %.0f%% of capture time (%.0f%% to %.0f%% round by round)",
                 (median(masked) - median(plain)) / median(masked) * 100, shares.min() ?? 0, shares.max() ?? 0))
    print(String(format: "  the masker alone: built in %.1f ms, %.0f MB/s over the same lines (%d lines masked)",
                 build * 1000, mb / maskOnly, maskedLines))
}
