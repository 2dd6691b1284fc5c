import FoundationEssentials
import Glibc

/// Which stream a log line came from. `runbook` marks lines that runbook
/// itself adds (a timeout, a truncation).
public enum LogStream: String, Sendable, Codable {
    case stdout = "out"
    case stderr = "err"
    case runbook = "run"
}

/// Writes a job's output to its log as it arrives: one line per output
/// line, `TIMESTAMP STREAM TEXT`, stdout and stderr kept apart by their tag
/// and in the order they were read. Memory stays bounded: a line longer
/// than 64 KiB is split, and past the `output` limit lines are counted, not
/// kept, and a truncation mark closes the log.
final class OutputRecorder {
    static let maximumLine = 64 * 1024

    /// The log file's path.
    private let path: String
    /// The log, opened (created) when its first line is written: a job that
    /// writes nothing leaves no log, and does not pay for a new inode, which
    /// on ext4 without a journal takes 0.1-0.4 ms to find when files were
    /// deleted nearby in the last seconds. -1 until then.
    private var descriptor: Int32 = -1
    private let limit: Int
    private let echo: (@Sendable (LogStream, ArraySlice<UInt8>) -> Void)?
    /// Hides the job's credentials in every line, logged or echoed.
    private let masker: SecretMasker
    private var pending: [LogStream: [UInt8]] = [:]
    private var buffer: [UInt8] = []
    /// The line being masked (kept to reuse its storage).
    private var maskedLine: [UInt8] = []
    /// The timestamp of the current read, as log bytes.
    private var stamp: [UInt8] = []
    private(set) var recordedBytes = 0
    private(set) var droppedBytes = 0

    /// Records into `logFile`, appending; the file is made with the first
    /// line (`JobLog.exists` is false for a job that wrote nothing).
    /// - Parameters:
    ///   - limit: bytes of output to record; later lines are dropped.
    ///   - echo: receives each complete line (without its newline) as it is read, for the terminal.
    ///   - masker: hides the job's credentials in every line, before it is logged or echoed.
    init(logFile: URL, limit: Int, masker: SecretMasker = SecretMasker(secrets: []),
         echo: (@Sendable (LogStream, ArraySlice<UInt8>) -> Void)?) throws {
        let path = logFile.path
        // What would keep the log from being made is found now, before the job starts.
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        guard access(directory.isEmpty ? "/" : directory, W_OK | X_OK) == 0 else {
            throw RunError("cannot write the job's log \(path): \(Errno.current)")
        }
        self.path = path
        self.limit = limit
        self.echo = echo
        self.masker = masker
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    var truncated: Bool { droppedBytes > 0 }

    /// Takes bytes read from `stream`; complete lines are written at once.
    /// Every line completed by one read gets the time of that read.
    ///
    /// The lines that begin and end within this read are logged straight
    /// from `bytes`, and the masker's filter looks at all of them in one
    /// pass, so only a line where a secret may be is masked; the first line
    /// (completing an earlier read's) and the last (unfinished) one go
    /// through the stream's pending line.
    func append(_ bytes: UnsafeRawBufferPointer, from stream: LogStream) {
        guard !bytes.isEmpty else { return }
        stamp = Array(Timestamp.utc(Date()).utf8)
        var start = 0
        if pending[stream] != nil {
            start = continueLine(bytes, from: stream)
        }
        var end = bytes.count
        while end > start, bytes[end - 1] != 0x0a { end -= 1 }
        if end > start {
            emitLines(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), from: stream)
            start = end
        }
        if start < bytes.count {
            _ = continueLine(UnsafeRawBufferPointer(rebasing: bytes[start...]), from: stream)
        }
        flush()
    }

    /// Adds `bytes` up to the first line end to the stream's pending line,
    /// and records the line if it ends there.
    /// - Returns: how many bytes were taken, the line end included.
    private func continueLine(_ bytes: UnsafeRawBufferPointer, from stream: LogStream) -> Int {
        var line = pending.removeValue(forKey: stream) ?? []
        let base = bytes.baseAddress!
        let found = memchr(base, 0x0a, bytes.count)
        let end = found.map { UnsafeRawPointer($0) - base } ?? bytes.count
        line += UnsafeRawBufferPointer(rebasing: bytes[..<end]).assumingMemoryBound(to: UInt8.self)
        // Cut an overlong line every `maximumLine` bytes (also when its
        // newline came in the same read), where no secret can straddle
        // the cut.
        while line.count >= Self.maximumLine {
            let (masked, consumed) = masker.maskPartial(line[..<(line.startIndex + Self.maximumLine)])
            masked.withUnsafeBytes { emit($0, from: stream) }
            line.removeFirst(consumed)
        }
        guard found != nil else {
            pending[stream] = line
            return bytes.count
        }
        line.withUnsafeBytes { emitMasked($0, from: stream) }
        return end + 1
    }

    /// Records whole lines, `region` ending with a line end.
    private func emitLines(_ region: UnsafeRawBufferPointer, from stream: LogStream) {
        let base = region.baseAddress!
        var candidate = masker.firstCandidate(in: region, from: 0)
        var lineStart = 0
        while lineStart < region.count {
            let newline = UnsafeRawPointer(memchr(base + lineStart, 0x0a, region.count - lineStart)!) - base
            let line = UnsafeRawBufferPointer(rebasing: region[lineStart..<newline])
            if line.count >= Self.maximumLine {
                _ = continueLine(UnsafeRawBufferPointer(rebasing: region[lineStart...newline]), from: stream)
            } else if let position = candidate, position < newline {
                emitMasked(line, from: stream)
            } else {
                emit(line, from: stream)
            }
            lineStart = newline + 1
            if let position = candidate, position < lineStart {
                candidate = masker.firstCandidate(in: region, from: lineStart)
            }
        }
    }

    /// Records one complete line, masked.
    private func emitMasked(_ line: UnsafeRawBufferPointer, from stream: LogStream) {
        maskedLine.removeAll(keepingCapacity: true)
        if masker.mask(line, appendingTo: &maskedLine) {
            maskedLine.withUnsafeBytes { emit($0, from: stream) }
        } else {
            emit(line, from: stream)
        }
    }

    /// Adds a line of runbook's own (a timeout, a cancellation).
    func note(_ text: String) {
        stamp = Array(Timestamp.utc(Date()).utf8)
        Array(masker.mask(text).utf8).withUnsafeBytes { emit($0, from: .runbook, counted: false) }
        flush()
    }

    /// Writes what is left of unfinished lines and the truncation mark.
    func finish() {
        for stream in [LogStream.stdout, .stderr] {
            if let line = pending[stream], !line.isEmpty { line.withUnsafeBytes { emitMasked($0, from: stream) } }
        }
        pending = [:]
        if droppedBytes > 0 {
            Array("output truncated at \(ByteSize.format(bytes: limit)): \(droppedBytes) more bytes were not recorded".utf8)
                .withUnsafeBytes { emit($0, from: .runbook, counted: false) }
        }
        flush()
    }

    /// Records a line (the log first, then the terminal). The limit counts
    /// whole log lines, timestamp and tag included, so the log file itself
    /// stays within `output` (plus runbook's own notes).
    private func emit(_ line: UnsafeRawBufferPointer, from stream: LogStream, counted: Bool = true) {
        defer { echo.map { $0(stream, ArraySlice(line)) } }
        let size = Self.prefixLength + line.count + 1
        if counted {
            guard recordedBytes + size <= limit, droppedBytes == 0 else {
                droppedBytes += line.count + 1
                return
            }
            recordedBytes += size
        }
        if stamp.isEmpty { stamp = Array(Timestamp.utc(Date()).utf8) }
        buffer += stamp
        buffer.append(0x20)
        buffer += stream.rawValue.utf8
        buffer.append(0x20)
        buffer += line.assumingMemoryBound(to: UInt8.self)
        buffer.append(0x0a)
    }

    /// `2026-11-23T03:43:51.123Z out `: the length of every line's prefix.
    static let prefixLength = 24 + 1 + 3 + 1

    private func flush() {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        if descriptor < 0 { descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600) }
        // A log that cannot be made or written loses the output, as a full disk would.
        guard descriptor >= 0 else { return }
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 { if errno == EINTR { continue }; break }
                offset += written
            }
        }
    }
}

/// A failure while running a job that is not the job's own doing.
public struct RunError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
