import Foundation

struct LogsCommand: Command {
    static let name = "logs"
    static let summary = "print a job's output"
    static let usage = "runbook logs JOB | NAME --last [--stdout | --stderr] [--timestamps]"
    static let help = """
        Prints the recorded output of job JOB (its number in `runbook jobs`),
        or with --last of the latest job of runbook NAME: stdout and stderr
        in the order they were written, and runbook's own notes (a timeout,
        a truncation) marked "runbook:".

        Options:
          --last         NAME is a runbook: show its latest job
          --stdout       only standard output
          --stderr       only standard error
          --timestamps   prefix each line with its UTC time and stream

        Examples:
          runbook logs 42
          runbook logs backup --last --stderr
        """

    var target: String
    var last: Bool
    var only: LogStream?
    var timestamps: Bool

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        last = try scanner.flag("--last")
        let stdout = try scanner.flag("--stdout")
        let stderr = try scanner.flag("--stderr")
        if stdout && stderr { throw UsageError("--stdout and --stderr exclude each other; give neither for both") }
        only = stdout ? .stdout : stderr ? .stderr : nil
        timestamps = try scanner.flag("--timestamps")
        target = try scanner.positionals().single(last ? "runbook name" : "job id")
    }

    func run(_ context: Context) throws -> Int32 {
        let store = try context.store()
        let job: JobRecord
        if last {
            _ = try? context.catalog().runbook(named: target)
            guard let latest = try store.latestJob(of: target) else { throw RunError("'\(target)' has no jobs yet") }
            job = latest
        } else {
            guard let number = Int64(target.hasPrefix("#") ? String(target.dropFirst()) : target) else {
                throw UsageError("'\(target)' is not a job id; for a runbook's latest job use `runbook logs \(target) --last`")
            }
            guard let found = try store.job(JobID(rawValue: number)) else {
                throw RunError("no job #\(number): `runbook jobs` lists them")
            }
            job = found
        }
        let file = try context.workspace().logs.appendingPathComponent("\(job.id.rawValue).log")
        guard let handle = FileHandle(forReadingAtPath: file.path) else {
            if job.status.isFinal { context.console.err("job #\(job.id) recorded no output") }
            return 0
        }
        defer { try? handle.close() }
        var pending = Data()
        while let chunk = try handle.read(upToCount: 65536), !chunk.isEmpty {
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0a) {
                emit(pending[pending.startIndex..<newline], context: context)
                pending.removeSubrange(pending.startIndex...newline)
            }
        }
        if !pending.isEmpty { emit(pending[...], context: context) }
        if let usage = Self.usage(of: job) { context.console.err("runbook: job #\(job.id) \(job.status.rawValue): \(usage)") }
        return 0
    }

    /// `peak memory 12M, CPU 0.41s user + 0.02s system` for a finished job.
    static func usage(of job: JobRecord) -> String? {
        guard job.status.isFinal else { return nil }
        var parts: [String] = []
        if let peak = job.peakMemoryKB { parts.append("peak memory \(ByteSize.format(bytes: (peak + 1023) / 1024 * 1024 * 1024))") }
        if let user = job.userCPUMicroseconds, let system = job.systemCPUMicroseconds {
            parts.append(String(format: "CPU %.2fs user + %.2fs system", Double(user) / 1e6, Double(system) / 1e6))
        } else if let cpu = job.cpuMicroseconds {
            parts.append(String(format: "CPU %.2fs", Double(cpu) / 1e6))
        }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// Prints one log line (`TIMESTAMP STREAM TEXT`).
    private func emit(_ line: Data, context: Context) {
        let text = String(decoding: line, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let stream = LogStream(rawValue: String(parts[1])) else {
            context.console.out(text)
            return
        }
        if let only, stream != only { return }
        let body = parts.count > 2 ? String(parts[2]) : ""
        if timestamps {
            context.console.out("\(parts[0]) \(stream.rawValue) \(body)")
        } else {
            context.console.out(stream == .runbook ? "runbook: \(body)" : body)
        }
    }
}
