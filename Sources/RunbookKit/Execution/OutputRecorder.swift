import Foundation
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

    private let descriptor: Int32
    private let limit: Int
    private let echo: (@Sendable (LogStream, ArraySlice<UInt8>) -> Void)?
    /// Hides the job's credentials in every line, logged or echoed.
    private let masker: SecretMasker
    private var pending: [LogStream: [UInt8]] = [:]
    private var buffer: [UInt8] = []
    /// The timestamp of the current read, as log bytes.
    private var stamp: [UInt8] = []
    private(set) var recordedBytes = 0
    private(set) var droppedBytes = 0

    /// Opens (creating) `logFile` for appending.
    /// - Parameters:
    ///   - limit: bytes of output to record; later lines are dropped.
    ///   - echo: receives each complete line (without its newline) as it is read, for the terminal.
    ///   - masker: hides the job's credentials in every line, before it is logged or echoed.
    init(logFile: URL, limit: Int, masker: SecretMasker = SecretMasker(secrets: []),
         echo: (@Sendable (LogStream, ArraySlice<UInt8>) -> Void)?) throws {
        descriptor = open(logFile.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw RunError("cannot write the job's log \(logFile.path): \(Errno.current)")
        }
        self.limit = limit
        self.echo = echo
        self.masker = masker
    }

    deinit { close(descriptor) }

    var truncated: Bool { droppedBytes > 0 }

    /// Takes bytes read from `stream`; complete lines are written at once.
    /// Every line completed by one read gets the time of that read.
    func append(_ bytes: UnsafeRawBufferPointer, from stream: LogStream) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        stamp = Array(Timestamp.utc(Date()).utf8)
        var line = pending.removeValue(forKey: stream) ?? []
        var start = 0
        while start < bytes.count {
            let rest = bytes.count - start
            let found = memchr(base + start, 0x0a, rest)
            let end = found.map { start + (UnsafeRawPointer($0) - (base + start)) } ?? bytes.count
            line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            // Cut an overlong line every `maximumLine` bytes (also when its
            // newline came in the same read), where no secret can straddle
            // the cut.
            while line.count >= Self.maximumLine {
                let (masked, consumed) = masker.maskPartial(line[..<(line.startIndex + Self.maximumLine)])
                emit(masked[...], from: stream)
                line.removeFirst(consumed)
            }
            if found != nil {
                emit(masker.mask(line[...]), from: stream)
                line.removeAll(keepingCapacity: true)
                start = end + 1
            } else {
                start = end
            }
        }
        pending[stream] = line
        flush()
    }

    /// Adds a line of runbook's own (a timeout, a cancellation).
    func note(_ text: String) {
        stamp = Array(Timestamp.utc(Date()).utf8)
        emit(Array(masker.mask(text).utf8)[...], from: .runbook, counted: false)
        flush()
    }

    /// Writes what is left of unfinished lines and the truncation mark.
    func finish() {
        for stream in [LogStream.stdout, .stderr] {
            if let line = pending[stream], !line.isEmpty { emit(masker.mask(line[...]), from: stream) }
        }
        pending = [:]
        if droppedBytes > 0 {
            emit(Array("output truncated at \(ByteSize.format(bytes: limit)): \(droppedBytes) more bytes were not recorded".utf8)[...],
                 from: .runbook, counted: false)
        }
        flush()
    }

    /// Records a line (the log first, then the terminal). The limit counts
    /// whole log lines, timestamp and tag included, so the log file itself
    /// stays within `output` (plus runbook's own notes).
    private func emit(_ line: ArraySlice<UInt8>, from stream: LogStream, counted: Bool = true) {
        defer { echo?(stream, line) }
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
        buffer += line
        buffer.append(0x0a)
    }

    /// `2026-11-23T03:43:51.123Z out `: the length of every line's prefix.
    static let prefixLength = 24 + 1 + 3 + 1

    private func flush() {
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 { if errno == EINTR { continue }; break }
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// A failure while running a job that is not the job's own doing.
public struct RunError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
