import Foundation
import Testing
@testable import RunbookKit

@Suite("Overview")
struct OverviewTests {
    func sample(_ runbook: String, _ status: JobStatus, _ duration: Double? = 1) -> JobSample {
        JobSample(runbook: runbook, status: status, queuedAt: Date(timeIntervalSince1970: 0), duration: duration)
    }

    @Test func countsByStatus() {
        let figures = Overview.figures(of: [
            sample("a", .succeeded), sample("a", .succeeded), sample("a", .failed), sample("a", .timedOut),
            sample("a", .interrupted, nil), sample("a", .cancelled), sample("a", .skipped, nil), sample("a", .missed, nil),
            sample("a", .running, nil), sample("b", .limitExceeded),
        ])
        let a = figures["a"]!
        #expect(a.runs == 6 && a.succeeded == 2 && a.failed == 3 && a.cancelled == 1)
        #expect(a.failures == [.failed: 1, .timedOut: 1, .interrupted: 1])
        #expect(a.skipped == 1 && a.missed == 1 && a.active == 1)
        #expect(a.successRate == 0.4)
        #expect(figures["b"]?.successRate == 0)
        #expect(RunbookFigures(runbook: "c").successRate == nil)
    }

    @Test(arguments: [
        ([1.0], 0.5, 1.0), ([1.0, 2], 0.5, 1.0), ([1.0, 2, 3], 0.5, 2.0), ([1.0, 2, 3, 4], 0.95, 4.0),
        (Array(stride(from: 1.0, through: 100, by: 1)), 0.95, 95.0), (Array(stride(from: 1.0, through: 100, by: 1)), 0.5, 50.0),
    ])
    func nearestRankPercentile(values: [Double], fraction: Double, expected: Double) {
        #expect(Overview.percentile(values, fraction) == expected)
    }

    @Test func durationsIgnoreJobsThatDidNotEnd() {
        let figures = Overview.figures(of: [sample("a", .succeeded, 2), sample("a", .running, 100), sample("a", .failed, 4)])
        #expect(figures["a"]?.medianSeconds == 2)
        #expect(figures["a"]?.p95Seconds == 4)
    }

    @Test func paletteColoursOnlyATerminalWithoutNoColor() {
        let terminal = Console(writeOut: { _ in }, writeErr: { _ in }, isTerminal: true)
        let pipe = Console(writeOut: { _ in }, writeErr: { _ in }, isTerminal: false)
        #expect(Palette(console: terminal, environment: [:]).enabled)
        #expect(!Palette(console: terminal, environment: ["NO_COLOR": "1"]).enabled)
        #expect(!Palette(console: terminal, environment: ["TERM": "dumb"]).enabled)
        #expect(!Palette(console: pipe, environment: [:]).enabled)
        #expect(Palette(enabled: true).red("x") == "\u{1B}[31mx\u{1B}[0m")
    }

    @Test func tableAlignsColouredCells() {
        var table = Table("A", "B")
        table.add(Palette(enabled: true).green("ok"), "1")
        table.add("failed", "2")
        let lines = table.render().split(separator: "\n").map { String($0) }
        let plain = lines.map { $0.replacingOccurrences(of: "\u{1B}[32m", with: "").replacingOccurrences(of: "\u{1B}[0m", with: "") }
        #expect(plain == ["A       B", "ok      1", "failed  2"])
    }
}

@Suite("HTML report")
struct HTMLReportTests {
    @Test func isSelfContainedAndEscapesWhatItShows() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var figures = RunbookFigures(runbook: "<b>bad</b>")
        figures.runs = 2
        figures.succeeded = 1
        figures.failures = [.failed: 1]
        figures.medianSeconds = 1.5
        figures.p95Seconds = 3
        let overview = Overview(since: now.addingTimeInterval(-86_400), generatedAt: now, runbooks: [figures], hosts: [])
        let job = JobRecord(id: JobID(rawValue: 7), runbook: "<b>bad</b>", revision: 1, snapshot: "h", trigger: .manual, schedule: nil,
                            slot: nil, attempt: 1, parent: nil, status: .failed, reason: "exit code 1", exitCode: 1, signal: nil,
                            queuedAt: now, startedAt: now, endedAt: now, peakMemoryKB: nil, cpuMicroseconds: nil, host: "h",
                            ownerPID: nil, outputBytes: 1, truncated: false, parameters: [:])
        let report = HTMLReport(
            overview: overview,
            samples: [JobSample(runbook: "<b>bad</b>", status: .failed, queuedAt: now.addingTimeInterval(-60), duration: 3)],
            failures: [.init(job: job, tail: [JobLog.Line(timestamp: "t", stream: .stderr, text: "<script>alert(1)</script>")])],
            window: 86_400)
        let html = report.render()
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("<table>") && html.contains("<svg"))
        #expect(!html.lowercased().contains("<script"), "no script, and output shown escaped")
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("<b>bad</b>"))
        // Nothing to fetch: the only URL is the SVG namespace.
        let urls = html.components(separatedBy: "http").dropFirst().map { String($0.prefix(30)) }
        #expect(urls.allSatisfy { $0.hasPrefix("://www.w3.org/2000/svg") })
    }
}
