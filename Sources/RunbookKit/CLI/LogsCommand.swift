import FoundationEssentials
import Glibc

struct LogsCommand: Command {
    static let name = "logs"
    static let summary = "print a job's output"
    static let usage = "runbook logs JOB | NAME --last [--follow] [--stdout | --stderr] [--timestamps]"
    static let help = """
        Prints the recorded output of job JOB (its number in `runbook jobs`),
        or with --last of the latest job of runbook NAME: stdout and stderr
        in the order they were written, and runbook's own notes (a timeout,
        a truncation) marked "runbook:".

        Options:
          --last         NAME is a runbook: show its latest job
          --follow       keep printing while the job runs (a queued job is
                         waited for); exit with the job's exit code (124 on
                         timeout, 128+N when killed by signal N)
          --stdout       only standard output
          --stderr       only standard error
          --timestamps   prefix each line with its UTC time and stream

        Examples:
          runbook logs 42
          runbook logs backup --last --stderr
          runbook logs 42 --follow
        """

    var target: String
    var last: Bool
    var only: LogStream?
    var timestamps: Bool
    var follow: Bool

    init(_ scanner: inout ArgumentScanner) throws(UsageError) {
        last = try scanner.flag("--last")
        let stdout = try scanner.flag("--stdout")
        let stderr = try scanner.flag("--stderr")
        if stdout && stderr { throw UsageError("--stdout and --stderr exclude each other; give neither for both") }
        only = stdout ? .stdout : stderr ? .stderr : nil
        timestamps = try scanner.flag("--timestamps")
        let longFollow = try scanner.flag("--follow")
        follow = try scanner.flag("-f") || longFollow
        target = try scanner.positionals().single(last ? "runbook name" : "job id")
    }

    func run(_ context: Context) throws -> Int32 {
        let store = try context.store()
        var job: JobRecord
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
        let log = JobLog(file: try context.workspace().logs.appendingPathComponent("\(job.id.rawValue).log"))
        if follow {
            // Tail the log while the job runs: print what was appended, then
            // look again; the last lines are read once the record is final.
            var offset: UInt64 = 0
            while !job.status.isFinal {
                let (lines, next) = try log.lines(from: offset)
                lines.forEach { emit($0, context: context) }
                offset = next
                if lines.isEmpty { usleep(100_000) }
                guard let current = try store.job(job.id) else { throw RunError("job #\(job.id) was deleted while it was followed") }
                job = current
                // An owner on this machine that died leaves the job running
                // for ever in the store: mark it interrupted, as any command would.
                if job.status == .running, job.host == context.hostName, let pid = job.ownerPID,
                   !ProcessIdentity.isAlive(pid: pid, identity: job.ownerStart) {
                    try OrphanSweep.run(store: store, hostName: context.hostName, now: context.now())
                }
            }
            while true {
                let (lines, next) = try log.lines(from: offset, partial: true)
                lines.forEach { emit($0, context: context) }
                if next == offset { break }
                offset = next
            }
            if !log.exists { try emitShipped(job, store: store, context: context) }
        } else if log.exists {
            try log.forEachLine { emit($0, context: context) }
        } else if try !emitShipped(job, store: store, context: context) {
            if job.status.isFinal { context.console.err("job #\(job.id) recorded no output") }
            return 0
        }
        if let usage = Self.usage(of: job) { context.console.err("runbook: job #\(job.id) \(job.status.rawValue): \(usage)") }
        if follow {
            context.console.err("runbook: job #\(job.id) \(job.status.rawValue) (\(job.reason ?? ""))")
            return JobRunner.exitCode(of: job)
        }
        return 0
    }

    /// `peak memory 12M, CPU 0.41s user + 0.02s system` for a finished job.
    static func usage(of job: JobRecord) -> String? {
        guard job.status.isFinal else { return nil }
        var parts: [String] = []
        if let peak = job.peakMemoryKB { parts.append("peak memory \(ByteSize.format(bytes: (peak + 1023) / 1024 * 1024 * 1024))") }
        if let user = job.userCPUMicroseconds, let system = job.systemCPUMicroseconds {
            parts.append(String(cFormat: "CPU %.2fs user + %.2fs system", Double(user) / 1e6, Double(system) / 1e6))
        } else if let cpu = job.cpuMicroseconds {
            parts.append(String(cFormat: "CPU %.2fs", Double(cpu) / 1e6))
        }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// Prints the copy of the log in a shared database (the job ran on
    /// another machine); false when there is none.
    @discardableResult
    private func emitShipped(_ job: JobRecord, store: any Store, context: Context) throws -> Bool {
        guard let shipped = try store.output(of: job.id) else { return false }
        var lines = shipped.split(separator: 0x0a, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for line in lines { emit(JobLog.Line(parsing: line), context: context) }
        return true
    }

    /// Prints one log line (`TIMESTAMP STREAM TEXT` with --timestamps).
    private func emit(_ line: JobLog.Line, context: Context) {
        guard let stream = line.stream else {
            context.console.out(line.text)
            return
        }
        if let only, stream != only { return }
        if timestamps {
            context.console.out("\(line.timestamp) \(stream.rawValue) \(line.text)")
        } else {
            context.console.out(stream == .runbook ? "runbook: \(line.text)" : line.text)
        }
    }
}
