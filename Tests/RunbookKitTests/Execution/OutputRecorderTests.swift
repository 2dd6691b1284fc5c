import Foundation
import Testing
@testable import RunbookKit

@Suite("Output recorder")
struct OutputRecorderTests {
    struct Line: Equatable { var stream: String; var text: String }

    func lines(_ file: URL) throws -> [Line] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map { line in
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            #expect(Timestamp.parse(parts[0]) != nil)
            return Line(stream: String(parts[1]), text: parts.count > 2 ? String(parts[2]) : "")
        }
    }

    func feed(_ recorder: OutputRecorder, _ text: String, _ stream: LogStream) {
        Array(text.utf8).withUnsafeBytes { recorder.append($0, from: stream) }
    }

    @Test func linesSplitAcrossReadsStayWhole() throws {
        let root = try TemporaryRoot()
        let file = root.url.appendingPathComponent("job.log")
        let echoed = Captured()
        let recorder = try OutputRecorder(logFile: file, limit: 1 << 20) { stream, line in
            echoed.append("\(stream.rawValue):\(String(decoding: line, as: UTF8.self))\n")
        }
        feed(recorder, "hel", .stdout)
        feed(recorder, "oops\n", .stderr)
        feed(recorder, "lo\nwor", .stdout)
        feed(recorder, "ld", .stdout)
        recorder.finish()
        #expect(try lines(file) == [Line(stream: "err", text: "oops"), Line(stream: "out", text: "hello"), Line(stream: "out", text: "world")])
        #expect(echoed.text == "err:oops\nout:hello\nout:world\n")
    }

    /// A job that writes nothing leaves no log (and no inode to allocate);
    /// its first line makes it.
    @Test func theLogIsMadeWithItsFirstLine() throws {
        let root = try TemporaryRoot()
        let file = root.url.appendingPathComponent("job.log")
        let recorder = try OutputRecorder(logFile: file, limit: 1 << 20, echo: nil)
        feed(recorder, "no newline yet", .stdout)
        #expect(!JobLog(file: file).exists)
        feed(recorder, "\n", .stdout)
        #expect(JobLog(file: file).exists)
        recorder.finish()
        #expect(try lines(file) == [Line(stream: "out", text: "no newline yet")])

        let silent = root.url.appendingPathComponent("silent.log")
        try OutputRecorder(logFile: silent, limit: 1 << 20, echo: nil).finish()
        #expect(!JobLog(file: silent).exists)
    }

    /// A log that could never be written stops the job before it starts.
    @Test func anUnwritableLogDirectoryFailsAtOnce() throws {
        let root = try TemporaryRoot()
        #expect(throws: RunError.self) {
            try OutputRecorder(logFile: root.url.appendingPathComponent("missing/job.log"), limit: 1 << 20, echo: nil)
        }
    }

    @Test func capKeepsTheStartAndMarksTheCut() throws {
        let root = try TemporaryRoot()
        let file = root.url.appendingPathComponent("job.log")
        let recorder = try OutputRecorder(logFile: file, limit: 1024, echo: nil)
        for index in 0..<200 { feed(recorder, "line \(index)\n", .stdout) }
        recorder.finish()
        let recorded = try lines(file)
        #expect(recorder.truncated)
        #expect(recorder.recordedBytes <= 1024)
        #expect(recorded.first == Line(stream: "out", text: "line 0"))
        let mark = try #require(recorded.last)
        #expect(mark.stream == "run")
        #expect(mark.text.hasPrefix("output truncated at 1K:"))
        let kept = recorded.count - 1
        #expect(recorder.recordedBytes == (0..<kept).map { OutputRecorder.prefixLength + "line \($0)\n".utf8.count }.reduce(0, +))
        #expect(recorder.droppedBytes == (kept..<200).map { "line \($0)\n".utf8.count }.reduce(0, +))
        #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int ?? 0 <= 1024 + 100)
    }

    @Test func veryLongLinesAreSplit() throws {
        let root = try TemporaryRoot()
        let file = root.url.appendingPathComponent("job.log")
        let recorder = try OutputRecorder(logFile: file, limit: 1 << 20, echo: nil)
        feed(recorder, String(repeating: "x", count: OutputRecorder.maximumLine * 2 + 10) + "\n", .stdout)
        recorder.finish()
        #expect(try lines(file).map(\.text.count) == [OutputRecorder.maximumLine, OutputRecorder.maximumLine, 10])
    }

    /// The log's lines as (stream tag, raw text), bytes and all.
    func rawLines(_ file: URL) throws -> [(stream: String, text: [UInt8])] {
        let log = try [UInt8](Data(contentsOf: file))
        return log.split(separator: 0x0a, omittingEmptySubsequences: false).dropLast().map { line in
            let prefix = OutputRecorder.prefixLength
            #expect(line.count >= prefix && Timestamp.parse(String(decoding: line.prefix(24), as: UTF8.self)) != nil)
            return (String(decoding: line.dropFirst(25).prefix(3), as: UTF8.self), Array(line.dropFirst(prefix)))
        }
    }

    /// Feeds each stream's bytes in reads of random sizes (a byte to more
    /// than a pipe's 64 KiB), the streams interleaved at random.
    func feedRandomly(_ recorder: OutputRecorder, _ output: [LogStream: [UInt8]], using generator: inout SplitMix64) {
        var position: [LogStream: Int] = [.stdout: 0, .stderr: 0]
        while let stream = [LogStream.stdout, .stderr].filter({ position[$0]! < output[$0]!.count }).randomElement(using: &generator) {
            let bytes = output[stream]!
            let start = position[stream]!
            let size = Bool.random(using: &generator) ? Int.random(in: 1...300, using: &generator) : Int.random(in: 1...70_000, using: &generator)
            let end = min(bytes.count, start + size)
            bytes[start..<end].withUnsafeBytes { recorder.append($0, from: stream) }
            position[stream] = end
        }
    }

    /// Secrets at random offsets (and their forms, and pieces of them), the
    /// output split into reads anywhere, stdout and stderr interleaved: each
    /// stream's log lines are its lines masked one by one, as masking by
    /// definition does it, on the terminal too.
    @Test("masked output is the same however it is split into reads", arguments: [(1, 4), (2, 6), (3, 12), (4, 24)])
    func maskingIgnoresReadBoundaries(_ seed: UInt64, _ shortest: Int) throws {
        var fuzz = MaskingFuzz(seed: seed, shortest: shortest)
        let naive = NaiveMasker(secrets: fuzz.secrets)
        let root = try TemporaryRoot()
        let file = root.url.appendingPathComponent("job.log")
        let echoed = Captured()
        let recorder = try OutputRecorder(logFile: file, limit: 1 << 30, masker: SecretMasker(secrets: fuzz.secrets.map(Secret.init))) {
            stream, line in echoed.append("\(stream.rawValue) \(String(decoding: line, as: UTF8.self))\n")
        }
        var output: [LogStream: [UInt8]] = [:]
        var expected: [LogStream: [[UInt8]]] = [:]
        for stream in [LogStream.stdout, .stderr] {
            var bytes: [UInt8] = []
            var lines: [[UInt8]] = []
            for index in 0...400 {
                let line = fuzz.line(length: Int.random(in: 0...250, using: &fuzz.generator))
                // The last line is left unfinished: `finish` records it.
                bytes += index == 400 ? line : line + [0x0a]
                if index < 400 || !line.isEmpty { lines.append(naive.mask(line)) }
            }
            output[stream] = bytes
            expected[stream] = lines
        }
        feedRandomly(recorder, output, using: &fuzz.generator)
        recorder.finish()

        let logged = try rawLines(file)
        let terminal = echoed.text.split(separator: "\n").map { Array($0.utf8) }
        for stream in [LogStream.stdout, .stderr] {
            let wanted = expected[stream]!
            let lines = logged.filter { $0.stream == stream.rawValue }.map(\.text)
            // What the terminal got, decoded as the echo closure above did.
            let echoedLines = terminal.filter { $0.starts(with: (stream.rawValue + " ").utf8) }.map { Array($0.dropFirst(4)) }
            let shown = wanted.map { Array(String(decoding: $0, as: UTF8.self).utf8) }
            guard lines.count == wanted.count, echoedLines.count == wanted.count else {
                Issue.record("\(stream): \(lines.count) lines logged, \(echoedLines.count) echoed, \(wanted.count) expected")
                continue
            }
            if let index = wanted.indices.first(where: { lines[$0] != wanted[$0] || echoedLines[$0] != shown[$0] }) {
                Issue.record("""
                    \(stream) line \(index): \(String(decoding: lines[index], as: UTF8.self)) \
                    (echoed \(String(decoding: echoedLines[index], as: UTF8.self))), \
                    expected \(String(decoding: wanted[index], as: UTF8.self))
                    """)
            }
        }
    }

    /// A line far over the 64 KiB limit is logged in pieces; a secret across
    /// any cut is masked as in the whole line, whatever the reads.
    @Test("an overlong line is cut without uncovering a secret", arguments: [5, 6])
    func overlongLineWithSecrets(_ seed: UInt64) throws {
        var fuzz = MaskingFuzz(seed: seed, shortest: 10)
        let naive = NaiveMasker(secrets: fuzz.secrets)
        let root = try TemporaryRoot()
        let file = root.url.appendingPathComponent("job.log")
        let recorder = try OutputRecorder(logFile: file, limit: 1 << 30, masker: SecretMasker(secrets: fuzz.secrets.map(Secret.init)),
                                          echo: nil)
        let line = fuzz.line(length: 3 * OutputRecorder.maximumLine + 1000)
        let short = fuzz.line(length: 100)
        feedRandomly(recorder, [.stdout: line + [0x0a] + short + [0x0a], .stderr: short + [0x0a] + line + [0x0a]], using: &fuzz.generator)
        recorder.finish()
        let logged = try rawLines(file)
        for stream in [LogStream.stdout, .stderr] {
            let pieces = logged.filter { $0.stream == stream.rawValue }.map(\.text)
            #expect(pieces.count >= 4)
            #expect(pieces.allSatisfy { $0.count <= OutputRecorder.maximumLine })
            let long = stream == .stdout ? Array(pieces.dropLast().joined()) : Array(pieces.dropFirst().joined())
            #expect(long == naive.mask(line))
            #expect((stream == .stdout ? pieces.last : pieces.first) == naive.mask(short))
        }
    }

    /// Up to 16 runs of secrets a line are collected without allocating;
    /// more take another path, which must mask the same.
    @Test("lines with few and with many secrets", arguments: [1, 16, 17, 40])
    func manySecretsInALine(_ count: Int) throws {
        let root = try TemporaryRoot()
        let file = root.url.appendingPathComponent("job.log")
        let recorder = try OutputRecorder(logFile: file, limit: 1 << 20, masker: SecretMasker(secrets: [Secret("hunter22")]), echo: nil)
        let line = (0..<count).map { "k\($0)=hunter22" }.joined(separator: " ")
        feed(recorder, "head\n\(line)\ntail\n", .stdout)
        recorder.finish()
        let expected = (0..<count).map { "k\($0)=***" }.joined(separator: " ")
        #expect(try lines(file).map(\.text) == ["head", expected, "tail"])
    }
}
