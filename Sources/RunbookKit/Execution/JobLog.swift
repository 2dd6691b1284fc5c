import FoundationEssentials
import Glibc

/// A job's log read back: the `TIMESTAMP STREAM TEXT` lines `OutputRecorder`
/// wrote. Reads are bounded: a tail reads the end of the file, a follow
/// reads only what was appended, so a 10 MB log never sits whole in memory.
public struct JobLog: Sendable {
    public let file: URL

    public init(file: URL) { self.file = file }

    /// One recorded line.
    public struct Line: Sendable, Equatable {
        /// UTC, as recorded (`2026-11-23T06:01:02.345Z`).
        public var timestamp: String
        /// Nil for a line not in the log format (kept as text).
        public var stream: LogStream?
        public var text: String

        /// Parses one line of a log file (without its newline).
        public init(parsing bytes: some Collection<UInt8>) {
            let line = String(decoding: bytes, as: UTF8.self)
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, let stream = LogStream(rawValue: String(parts[1])) else {
                self.init(timestamp: "", stream: nil, text: line)
                return
            }
            self.init(timestamp: String(parts[0]), stream: stream, text: parts.count > 2 ? String(parts[2]) : "")
        }

        public init(timestamp: String, stream: LogStream?, text: String) {
            self.timestamp = timestamp
            self.stream = stream
            self.text = text
        }
    }

    /// Whether the job wrote a log at all.
    public var exists: Bool { access(file.path, F_OK) == 0 }

    /// The complete lines from byte `offset` on, and the offset after the
    /// last of them; with `partial`, a last line without its newline too
    /// (the job has ended, nothing more will come).
    public func lines(from offset: UInt64, partial: Bool = false, maxBytes: Int = 1 << 20) throws -> (lines: [Line], next: UInt64) {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return ([], offset) }
        defer { close(fd) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: min(maxBytes, 65536))
        while data.count < maxBytes {
            let count = pread(fd, &chunk, min(chunk.count, maxBytes - data.count), off_t(offset) + off_t(data.count))
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw Errno.current }
            if count == 0 { break }
            data.append(contentsOf: chunk[0..<count])
        }
        var lines: [Line] = []
        var start = data.startIndex
        while let newline = data[start...].firstIndex(of: 0x0a) {
            lines.append(Line(parsing: data[start..<newline]))
            start = newline + 1
        }
        let complete = data.distance(from: data.startIndex, to: start)
        if partial && start < data.endIndex && data.count < maxBytes {
            lines.append(Line(parsing: data[start...]))
            return (lines, offset + UInt64(data.count))
        }
        return (lines, offset + UInt64(complete))
    }

    /// Calls `body` with every line, first to last, reading a chunk at a time.
    public func forEachLine(_ body: (Line) throws -> Void) throws {
        var offset: UInt64 = 0
        while true {
            let (lines, next) = try self.lines(from: offset, partial: true)
            try lines.forEach(body)
            if next == offset { return }
            offset = next
        }
    }

    /// The last `count` lines, from at most the last `window` bytes.
    public func tail(_ count: Int, window: Int = 64 * 1024) throws -> [Line] {
        var info = stat()
        guard stat(file.path, &info) == 0 else { return [] }
        let start = UInt64(max(0, Int(info.st_size) - window))
        var (lines, _) = try self.lines(from: start, partial: true, maxBytes: window + 1)
        // A window that starts mid-line begins with a fragment.
        if start > 0, !lines.isEmpty { lines.removeFirst() }
        return Array(lines.suffix(count))
    }

    /// The first line the job wrote to `stream` within the first `window`
    /// bytes (its first error, for `stream` stderr).
    public func firstLine(of stream: LogStream, window: Int = 256 * 1024) throws -> Line? {
        let (lines, _) = try self.lines(from: 0, partial: true, maxBytes: window)
        return lines.first { $0.stream == stream && !$0.text.trimmingWhitespace().isEmpty }
    }
}
