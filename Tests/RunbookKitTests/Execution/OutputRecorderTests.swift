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
}
