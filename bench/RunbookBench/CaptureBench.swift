import Foundation
import RunbookKit

/// `runbook-bench capture [MB]`: job output through the full capture path
/// (pipe → line splitting → masking → timestamped log), with 50 active
/// secrets and with none, on the same generated output.
func runCaptureBench(arguments: [String]) throws {
    let megabytes = arguments.first.flatMap(Int.init) ?? 200
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
    FileManager.default.createFile(atPath: data.path, contents: nil)
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

    let store = try SQLiteStore(path: workspace.database.path)
    let tools = Tools(environment: ProcessInfo.processInfo.environment, runner: SubprocessRunner(), cacheFile: nil)
    let runner = JobRunner(workspace: workspace, store: store, tools: tools, hostName: "bench") { Date() }
    let script = try SnapshotStore(directory: workspace.snapshots).store(Data("cat \(data.path)\n".utf8))

    func capture(masked: Bool) throws -> Double {
        var settings = RunbookSettings()
        settings.output = 4 << 30
        settings.credentials = masked ? ["bench"] : []
        let job = NewJob(runbook: "capture", revision: 1, snapshot: script, trigger: .manual)
        let start = Date()
        let record = try runner.run(JobRunner.Request(job: job, runtime: ScriptRuntime.shell, settings: settings, parameters: [:], echo: nil))
        let seconds = Date().timeIntervalSince(start)
        guard record.status == .succeeded else { throw RunError("capture job \(record.status): \(record.reason ?? "")") }
        if masked {
            // Bytes, not String.contains: the log is hundreds of megabytes.
            let log = try Data(contentsOf: runner.logFile(for: record.id))
            let leaked = secrets.contains { log.range(of: Data($0.utf8)) != nil }
            if leaked { throw RunError("a secret reached the log") }
        }
        try? FileManager.default.removeItem(at: runner.logFile(for: record.id))
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

    let plain = try capture(masked: false)
    let masked = try capture(masked: true)
    let mb = Double(written) / Double(1 << 20)
    print(String(format: "capture of %.0f MB through pipe, line splitting and log, %d lines", mb, line))
    print(String(format: "  plain:  %.2f s, %.0f MB/s", plain, mb / plain))
    print(String(format: "  masked: %.2f s, %.0f MB/s (50 secrets)", masked, mb / masked))
    print(String(format: "  masking costs %.0f%% of capture time", (masked - plain) / masked * 100))
    print(String(format: "  the masker alone: built in %.1f ms, %.0f MB/s over the same lines (%d lines masked)",
                 build * 1000, mb / maskOnly, maskedLines))
}
